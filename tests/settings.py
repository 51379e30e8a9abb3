"""Settings for the test process: Studio's own (config.settings) with a fast password
hasher, since users are made by the hundred and hashing is rarely the subject. Tests about
hashing put the real hashers back (the ``production_hashers`` fixture in tests/conftest.py).

Processes the tests start (manage.py, make run, the integration stack) are given
config.settings, as in production (tests/conftest.py: SUBPROCESS_ENV).
"""

from config.settings import *  # noqa: F401,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# The in-process async client serves requests on the test's own thread: database steps
# run there too, inside the test's transaction (served processes use the shared pool).
WEB_DB_THREADS = "request"

# Tests change catalogue rows directly (QuerySet.update sends no signal): read them afresh
# every time; tests/catalogue/test_entry_cache.py turns the cache on.
CATALOGUE_CACHE_SECONDS = 0
