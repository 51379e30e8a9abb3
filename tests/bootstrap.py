"""Loaded by pytest before Django's settings (pytest.ini's `-p tests.bootstrap`): the
start-up step that manage.py and the servers run, so the test run has its DATA_DIR and
secret key as they do."""

import os

_chosen = os.environ.get("DJANGO_SETTINGS_MODULE")

from config import startup  # noqa: E402 - importing config sets up its Celery app

startup.prepare()

# The Celery app (config/celery.py) defaults DJANGO_SETTINGS_MODULE to config.settings as
# it is imported; without this, that default would win over pytest.ini's tests.settings.
if _chosen is None:
    os.environ.pop("DJANGO_SETTINGS_MODULE", None)
