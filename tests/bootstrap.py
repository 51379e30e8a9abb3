"""Loaded by pytest before Django's settings (pytest.ini's `-p tests.bootstrap`): the
start-up step that manage.py and the servers run, so the test run has its DATA_DIR and
secret key as they do."""
from config import startup

startup.prepare()
