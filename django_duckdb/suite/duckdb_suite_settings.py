"""
Settings for running Django's own test suite (tests/runtests.py from the
Django sdist) on django_duckdb or, for comparison, on Django's sqlite3
backend. Used by django_duckdb/suite/django_suite.sh; DJANGO_SUITE_BACKEND picks the store.
"""

import os

_backend = os.environ.get("DJANGO_SUITE_BACKEND", "duckdb")

if _backend == "duckdb":
    # Named in-memory databases: fast, and "default" and "other" distinct.
    DATABASES = {
        "default": {"ENGINE": "django_duckdb", "NAME": ":memory:default"},
        "other": {"ENGINE": "django_duckdb", "NAME": ":memory:other"},
    }
else:
    DATABASES = {
        "default": {"ENGINE": "django.db.backends.sqlite3"},
        "other": {"ENGINE": "django.db.backends.sqlite3"},
    }

SECRET_KEY = "django_tests_secret_key"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
USE_TZ = False
TEST_RUNNER = "duckdb_suite_runner.RecordingRunner"
