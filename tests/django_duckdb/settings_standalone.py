"""
Minimal settings for exercising django_duckdb on its own (subprocess tests,
benchmarks): contrib apps, simplejwt's token blacklist and a test app with a
custom user model. The database file comes from DUCKDB_TEST_NAME.
"""

import os

SECRET_KEY = "django-duckdb-tests"
DEBUG = False
USE_TZ = True
TIME_ZONE = "UTC"
ALLOWED_HOSTS = ["*"]
ROOT_URLCONF = "tests.django_duckdb.urls"
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "rest_framework_simplejwt.token_blacklist",
    "tests.django_duckdb.testapp",
]
AUTH_USER_MODEL = "testapp.Person"
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]
DATABASES = {
    "default": {
        "ENGINE": os.environ.get("DUCKDB_TEST_ENGINE", "django_duckdb"),
        "NAME": os.environ.get("DUCKDB_TEST_NAME", ":memory:"),
        "OPTIONS": {"lock_timeout": float(os.environ.get("DUCKDB_LOCK_TIMEOUT", "30"))},
        "CONN_MAX_AGE": 0,
    }
}
if DATABASES["default"]["ENGINE"] != "django_duckdb":
    DATABASES["default"]["OPTIONS"] = {}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
