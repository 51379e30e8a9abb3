"""Settings for the test process: Studio's own (config.settings), on the production paths
(the catalogue cache, tasks sent by name through the configured broker), with only the
differences below, each saying why.

Processes the tests start (manage.py, make run, the integration stack) are given
config.settings, as in production (tests/conftest.py: SUBPROCESS_ENV).
"""

import os

from config.settings import *  # noqa: F401,F403

# Users are made by the hundred and hashing is rarely the subject; tests about hashing put
# the real hashers back (the ``production_hashers`` fixture in tests/conftest.py).
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# Tasks go through the real broker, to a queue of this run's own, so that no worker (of
# `make run`, or another run on a shared Redis) takes them: each is read back as a worker
# reads it and run by the test when it asks (tests/support/tasks.py).
CELERY_TASK_DEFAULT_QUEUE = f"studio-tests-{os.getpid()}"

# Database steps of async views run on the request's own thread instead of the shared
# pool: each test runs inside a transaction that only its own thread's connection sees,
# and the pool's threads would miss every row the test wrote (the test would have to be
# transactional, at many times the cost). The pool itself is covered by
# tests/core/test_db_steps.py, by the ``asgi_server`` fixture and by tests/integration/,
# which run the server as `make run` does.
WEB_DB_THREADS = "request"
