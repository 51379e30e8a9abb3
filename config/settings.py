"""Studio settings: every value comes from the environment (see the README's table).

Defaults make a fresh machine work with nothing installed but Python: an embedded
DuckDB file and Kombu's filesystem broker under DATA_DIR, and demo mode against the
offline OpenRouter double when no OPENROUTER_API_KEY is set.
"""

import hashlib
import hmac
from datetime import timedelta
from decimal import Decimal, InvalidOperation
from urllib.parse import urlparse

import environ
from csp.constants import NONE, SELF, UNSAFE_INLINE

from config import startup

BASE_DIR = startup.BASE_DIR

env = environ.Env()
_resolve = startup.resolve

# Made, with the generated secret key, by the start-up step (config/startup.py) that every
# entry point runs first; reading settings changes nothing on disk.
DATA_DIR = startup.data_dir()
SECRET_KEY = env.str("SECRET_KEY", default="") or startup.read_secret_key(DATA_DIR)
if not SECRET_KEY:
    raise environ.ImproperlyConfigured(
        "No SECRET_KEY: set it, or start Studio through manage.py / the ASGI app / Celery, "
        "which generate one into DATA_DIR."
    )
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
PORT = env.int("PORT", default=8000)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "csp",
    "core",
    "accounts",
    "openrouter",
    "catalogue",
    "generation",
    "conversations",
    "videos",
    "billing",
    "teams",
    "twofactor",
    "admin_panel",
    "usage",
    "gateway",
    "storage",
    "audit",
    "operations",
    "sso",
]

MIDDLEWARE = [
    # Outermost: the request id (X-Request-ID), the request in context for the audit trail
    # and the logs, metrics by route and status, the JSON request line (operations/).
    "operations.middleware.RequestMiddleware",
    # Django's and django-csp's own middleware, with their hooks run on the event loop under
    # ASGI (core/middleware.py), and WhiteNoise async-capable: no request is handed to a
    # thread just to pass through the stack.
    "core.middleware.SecurityMiddleware",
    "core.middleware.CSPMiddleware",
    "core.middleware.StaticFilesMiddleware",
    "core.middleware.SessionMiddleware",
    "core.middleware.CommonMiddleware",
    "core.api.reject_repeated_query_parameters",
    "core.middleware.CsrfViewMiddleware",
    "core.middleware.AuthenticationMiddleware",
    "core.middleware.MessageMiddleware",
    "core.middleware.XFrameOptionsMiddleware",
    # A full disk anywhere below: 503 saying so, instead of a 500 (core/diskfull.py).
    "core.diskfull.StorageFullMiddleware",
]
# Those checks look for Django's dotted names; core.W001-W003 run them on the subclasses.
SILENCED_SYSTEM_CHECKS = ["security.W001", "security.W002", "security.W003"]

ROOT_URLCONF = "config.urls"
CSRF_FAILURE_VIEW = "core.api.csrf_failure"  # JSON under /api/, Django's page elsewhere
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "core.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "core.context_processors.site",
            ],
            # Money and times as people read them ({{ cost|usd }}, {{ moment|ago }}), on every page.
            "builtins": ["core.templatetags.studio"],
        },
    },
]

# --- Database -------------------------------------------------------------------------

DUCKDB_LOCK_TIMEOUT = env.float("DUCKDB_LOCK_TIMEOUT", default=30.0)


def _database(url: str) -> dict:
    """DATABASE_URL to a DATABASES entry: duckdb:///<file> (embedded) or postgres://."""
    if url.startswith("duckdb:"):
        # duckdb:///relative/path or duckdb:////absolute/path, as SQLAlchemy spells sqlite.
        path = _resolve(url.split(":///", 1)[1]) if ":///" in url else DATA_DIR / "studio.duckdb"
        return {
            "ENGINE": "django_duckdb",
            "NAME": str(path),
            "OPTIONS": {"lock_timeout": DUCKDB_LOCK_TIMEOUT},
            "CONN_MAX_AGE": 0,
            "TEST": {"NAME": str(path.with_name("test_" + path.name))},
        }
    config = env.db_url_config(url)
    if config["ENGINE"] == "django.db.backends.postgresql":
        config.setdefault("CONN_HEALTH_CHECKS", True)
    return config


DATABASE_URL = env.str("DATABASE_URL", default=f"duckdb:///{DATA_DIR / 'studio.duckdb'}")
DATABASES = {"default": _database(DATABASE_URL)}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USES_DUCKDB = DATABASES["default"]["ENGINE"] == "django_duckdb"

# --- Accounts and passwords -----------------------------------------------------------

AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "accounts:login"

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
# Argon2 hashes one process computes at once (about 100 MiB each while it runs; one hash
# already runs its 8 lanes on threads of its own, so more at once buys little on a small
# machine), and how long a request waits for a turn before it answers 429
# (accounts/passwords.py).
PASSWORD_CHECKS_MAX_CONCURRENT = env.int("PASSWORD_CHECKS_MAX_CONCURRENT", default=1)
PASSWORD_CHECKS_WAIT = env.float("PASSWORD_CHECKS_WAIT", default=2.0)
# After this many failed sign-ins in a row an account needs a delay, LOGIN_ACCOUNT_DELAY
# seconds the first time, doubling each time after up to LOGIN_ACCOUNT_DELAY_MAX
# (accounts/throttles.py), whatever address the attempts come from.
LOGIN_ACCOUNT_FAILURES = env.int("LOGIN_ACCOUNT_FAILURES", default=10)
LOGIN_ACCOUNT_DELAY = env.int("LOGIN_ACCOUNT_DELAY", default=60)
LOGIN_ACCOUNT_DELAY_MAX = env.int("LOGIN_ACCOUNT_DELAY_MAX", default=3600)
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Sections other apps add to the dashboard, the profile page and the admin stats are
# registered in their AppConfig.ready() (core/sections.py), not set here.

# --- Internationalisation ---------------------------------------------------------------

LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

# --- Static and media -------------------------------------------------------------------

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "media/"
MEDIA_ROOT = DATA_DIR / "media"
# Stored files are served through the owner check only: readable by Studio's user alone
# (Django's default is 0o644 whatever the umask).
FILE_UPLOAD_PERMISSIONS = 0o600
FILE_UPLOAD_DIRECTORY_PERMISSIONS = 0o700
STORAGES = {
    # FileSystemStorage writing each file under a temporary name, renamed once whole (core/storage.py).
    "default": {"BACKEND": "core.storage.MediaStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
# Serve straight from the app folders too, so the site works before collectstatic.
WHITENOISE_USE_FINDERS = True

# --- Security ---------------------------------------------------------------------------

# HTTPS=true behind TLS turns on everything `check --deploy` asks for.
HTTPS = env.bool("HTTPS", default=False)
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=HTTPS)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=HTTPS)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=HTTPS)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000 if HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=HTTPS)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=HTTPS)
# The app listens on 127.0.0.1 only, so HTTPS means a TLS proxy in front: trust its
# X-Forwarded-Proto by default, or SECURE_SSL_REDIRECT would loop.
SECURE_PROXY_SSL = env.bool("SECURE_PROXY_SSL", default=HTTPS)
if SECURE_PROXY_SSL:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
# Content-Security-Policy on every answer (django-csp). Scripts only from our own files: no
# inline <script>, no on*= attributes, no eval, so markup that got past nh3 (the one |safe,
# the answer's innerHTML) still cannot run code. Pages keep their JS in static/js (forms ask
# "are you sure?" through data-confirm, static/js/confirm.js); json_script blocks are data,
# not run. The Django admin and DRF's browsable API load only script files; /api/docs/ is
# drf-spectacular's split Swagger view, whose start-up script is a URL too (config/urls.py).
# Styles may be inline: templates set style= (an image's aspect-ratio), Swagger UI's page
# has a <style> block and the admin uses style attributes; CSS cannot run script.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF, UNSAFE_INLINE],
        "img-src": [SELF, "data:", "blob:"],
        "media-src": [SELF, "blob:"],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}

# --- REST API ---------------------------------------------------------------------------

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Personal API keys (Bearer sk-studio-...), accepted by the generation, video and
        # /v1/ views only; any other bearer token goes on to SimpleJWT.
        "accounts.authentication.ApiKeyAuthentication",
        # SimpleJWT's, refusing tokens older than the user's token version.
        "accounts.authentication.VersionedJWTAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # DRF's parsers, with JSON nested too deeply answered 400 (core/parsers.py).
    "DEFAULT_PARSER_CLASSES": [
        "core.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_SCHEMA_CLASS": "core.schema.StudioAutoSchema",
    # An unknown ?format= is a 406 like an unsatisfiable Accept header (DRF's own: a 404).
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "core.negotiation.ApiContentNegotiation",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 20,
    "EXCEPTION_HANDLER": "core.http.api_exception_handler",
    "DEFAULT_THROTTLE_RATES": {
        "auth_ip": env.str("THROTTLE_AUTH_IP", default="30/min"),
        "auth_email": env.str("THROTTLE_AUTH_EMAIL", default="10/min"),
        "token": env.str("THROTTLE_TOKEN", default="60/min"),
        "profile": env.str("THROTTLE_PROFILE", default="10/min"),
        "generation": env.str("THROTTLE_GENERATION", default="30/min"),
        # Each password-reset request may send an email: per client address and per email asked about.
        "password_reset_ip": env.str("THROTTLE_PASSWORD_RESET_IP", default="10/hour"),
        "password_reset_email": env.str("THROTTLE_PASSWORD_RESET_EMAIL", default="3/hour"),
    },
}
# How many reverse proxies in front of the app append to X-Forwarded-For. Throttles take the
# client address from there only when this is set; 0 (direct) means the connection's peer,
# so a client cannot choose its own address by sending the header. The web server binds
# 127.0.0.1 and speaks no TLS, so HTTPS (or a trusted X-Forwarded-Proto) means a proxy: one
# by default then, else every client would share the proxy's address in the throttles.
# `check --deploy` warns when HTTPS is on and this is 0 (accounts.W001).
REST_FRAMEWORK["NUM_PROXIES"] = env.int("NUM_PROXIES", default=1 if HTTPS or SECURE_PROXY_SSL else 0)
SPECTACULAR_SETTINGS = {
    "TITLE": "Studio API",
    "DESCRIPTION": "Generate text, images and videos through OpenRouter.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # Operations are tagged by product area from their path (core.schema.StudioAutoSchema).
    "TAGS": [
        {"name": "api", "description": "The API root: links to every endpoint, the schema and these docs."},
        {
            "name": "auth",
            "description": "Accounts and tokens: register, log in for a JWT pair, refresh "
            "(rotating) and log out. Send `Authorization: Bearer <access>`.",
        },
        {
            "name": "users",
            "description": "Your own account (/api/users/me) and, for administrators, other "
            "users' roles, approval and deletion.",
        },
        {
            "name": "models",
            "description": "The model catalogue: which models generate text, images or videos, "
            "and what each accepts; administrators switch models on and off.",
        },
        {"name": "generations", "description": "Text and image generation, and your generation history."},
        {
            "name": "conversations",
            "description": "Threads with a chat model: create, rename, change the model or "
            "system prompt, send messages (streamed or whole), regenerate.",
        },
        {
            "name": "videos",
            "description": "Video jobs: start (from text or an image), poll, cancel, list, and download the file.",
        },
        {
            "name": "usage",
            "description": "Your own spend: today, this month, the budget left, the last 30 days "
            "by day, model and kind.",
        },
        {"name": "admin", "description": "Site-wide figures for administrators."},
        {
            "name": "groups",
            "description": "Groups of people with a shared budget and the models limited to them: "
            "administrators manage them; a member reads their own groups.",
        },
        {
            "name": "keys",
            "description": "Your personal API keys: create (the secret is shown once), list, "
            "revoke. Managed with a token or a session, never with a key.",
        },
        {
            "name": "openai-compatible",
            "description": "The OpenAI-compatible API under /v1/ (models, chat "
            "completions, images, videos) for the official SDKs: "
            "`Authorization: Bearer sk-studio-...` (a personal API key).",
        },
    ],
    # An account's status and a video job's status are different choice sets (both "status").
    "ENUM_NAME_OVERRIDES": {
        "AccountStatusEnum": "accounts.models.User.Status",
        "StatusEnum": "videos.models.VideoJob.Status",
        "TwoFactorRequirementEnum": "twofactor.models.Requirement",
    },
}
# /api/docs/ serves Swagger UI's files from drf-spectacular-sidecar (no CDN at run time);
# without that package installed it falls back to drf-spectacular's CDN links.
try:
    import drf_spectacular_sidecar  # noqa: F401
except ImportError:
    pass
else:
    INSTALLED_APPS.append("drf_spectacular_sidecar")
    SPECTACULAR_SETTINGS.update(SWAGGER_UI_DIST="SIDECAR", SWAGGER_UI_FAVICON_HREF="SIDECAR", REDOC_DIST="SIDECAR")
SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env.int("JWT_ACCESS_MINUTES", default=15)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env.int("JWT_REFRESH_DAYS", default=7)),
    "ROTATE_REFRESH_TOKENS": True,
    "UPDATE_LAST_LOGIN": False,
    # Not SECRET_KEY itself: a key of its own, or one derived from SECRET_KEY for this
    # purpose only, so that no other use of SECRET_KEY can produce a valid token.
    "SIGNING_KEY": env.str("JWT_SIGNING_KEY", default="")
    or hmac.new(SECRET_KEY.encode(), b"studio jwt signing", hashlib.sha256).hexdigest(),
    "AUTH_HEADER_TYPES": ("Bearer",),
}

# Throttle counters and other small shared state: per process on the embedded setup,
# Redis when one is configured (several web processes must share counters).
CACHE_URL = env.str("CACHE_URL", default="")


def _with_shared_redis_pool(config: dict) -> dict:
    # Every request's cache object shares the process's Redis connections and clients (core/cache.py).
    if config["BACKEND"] == "django.core.cache.backends.redis.RedisCache":
        config["BACKEND"] = "core.cache.RedisCache"
        config.setdefault("OPTIONS", {})["pool_class"] = "core.cache.ProcessConnectionPool"
    return config


CACHES = {
    "default": _with_shared_redis_pool(env.cache_url_config(CACHE_URL))
    if CACHE_URL
    else {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
    }
}

# --- Celery -----------------------------------------------------------------------------

BROKER_DIR = DATA_DIR / "broker"
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://")
if CELERY_BROKER_URL.startswith("filesystem:"):
    # The stock transport can hand a worker a half-written message file, which stops the
    # worker (celery/kombu#1551); config.broker's writes each message whole (see there).
    CELERY_BROKER_TRANSPORT = "config.broker:Transport"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "queue"),
        "data_folder_out": str(BROKER_DIR / "queue"),
        "processed_folder": str(BROKER_DIR / "processed"),
        "control_folder": str(BROKER_DIR / "control"),
        "store_processed": False,
    }
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=600)
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=540)
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE_FILENAME = str(DATA_DIR / "celerybeat-schedule")
# Video jobs (videos/). Seconds unless named otherwise.
VIDEO_MAX_JOBS_IN_FLIGHT = env.int("VIDEO_MAX_JOBS_IN_FLIGHT", default=3)  # per user
VIDEO_POLL_INTERVAL = env.float("VIDEO_POLL_INTERVAL", default=15.0)  # between polls of one job
VIDEO_SWEEP_INTERVAL = env.float("VIDEO_SWEEP_INTERVAL", default=15.0)  # beat's safety-net sweep
# How late a job's own task may be before the sweep sends another (lost message, dead worker).
VIDEO_SWEEP_GRACE = env.float("VIDEO_SWEEP_GRACE", default=VIDEO_SWEEP_INTERVAL)
VIDEO_JOB_DEADLINE = env.int("VIDEO_JOB_DEADLINE", default=30 * 60)  # from creation to failed
# A worker acting on a job holds it this long; longer than the slowest provider call
# (connect + read timeout + retry budget), so no two workers act on one job at once.
VIDEO_TASK_LEASE = env.int("VIDEO_TASK_LEASE", default=300)
VIDEO_RETRY_BACKOFF = env.float("VIDEO_RETRY_BACKOFF", default=5.0)  # first wait after a transient error
VIDEO_RETRY_BACKOFF_MAX = env.float("VIDEO_RETRY_BACKOFF_MAX", default=300.0)
VIDEO_SUBMIT_MAX_ATTEMPTS = env.int("VIDEO_SUBMIT_MAX_ATTEMPTS", default=5)
VIDEO_POLL_MAX_ERRORS = env.int("VIDEO_POLL_MAX_ERRORS", default=10)  # in a row, then failed
VIDEO_SOURCE_DATA_URL_MAX_BYTES = env.int("VIDEO_SOURCE_DATA_URL_MAX_BYTES", default=5 * 1024 * 1024)
# Minutes an image URL in a /v1/ answer (response_format "url") works without credentials.
GATEWAY_IMAGE_URL_MINUTES = env.int("GATEWAY_IMAGE_URL_MINUTES", default=60)
# The largest image an edit may send as a data URL (POST /api/generate/image's source_image_url).
GENERATION_SOURCE_IMAGE_MAX_BYTES = env.int("GENERATION_SOURCE_IMAGE_MAX_BYTES", default=5 * 1024 * 1024)
# A request body must be able to carry such an image as base64 (4/3 of its size) in JSON.
DATA_UPLOAD_MAX_MEMORY_SIZE = max(
    2_621_440, VIDEO_SOURCE_DATA_URL_MAX_BYTES * 4 // 3 + 65_536, GENERATION_SOURCE_IMAGE_MAX_BYTES * 4 // 3 + 65_536
)
# The largest request body the served app reads at all (core/bodylimit.py: a larger
# Content-Length is answered 413 at once, a chunked body is cut there), on every path and
# before authentication. Room for the JSON bodies above and for multipart uploads of a few
# images; Django's own limits must fit inside it.
MAX_REQUEST_BODY_BYTES = env.int("MAX_REQUEST_BODY_BYTES", default=max(25 * 1024 * 1024, DATA_UPLOAD_MAX_MEMORY_SIZE))
if MAX_REQUEST_BODY_BYTES < DATA_UPLOAD_MAX_MEMORY_SIZE:
    raise environ.ImproperlyConfigured(
        f"MAX_REQUEST_BODY_BYTES ({MAX_REQUEST_BODY_BYTES}) must be at least {DATA_UPLOAD_MAX_MEMORY_SIZE}, "
        "the largest JSON body an image edit or an image-to-video request may send."
    )
# Bodies up to this size stay in memory; larger ones (at most MAX_REQUEST_BODY_BYTES) go to a
# temporary file that is deleted when the request ends.
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
VIDEO_FINISHED_RETENTION_DAYS = env.int(
    "VIDEO_FINISHED_RETENTION_DAYS", default=30
)  # failed/cancelled rows; 0 keeps them
VIDEO_PAGE_POLL_MS = env.int("VIDEO_PAGE_POLL_MS", default=5000)  # how often job pages ask for status (no SSE)
VIDEO_LIVE_INTERVAL = env.float("VIDEO_LIVE_INTERVAL", default=0.5)  # s between the live watcher's reads
VIDEO_LIVE_HEARTBEAT = env.float("VIDEO_LIVE_HEARTBEAT", default=15.0)  # s between ": ping" comments
# Open live status streams a web process serves per person and in all (videos/stream_limits.py);
# beyond, 429 and the pages poll instead.
LIVE_STREAMS_PER_USER = env.int("LIVE_STREAMS_PER_USER", default=8)
LIVE_STREAMS_PER_PROCESS = env.int("LIVE_STREAMS_PER_PROCESS", default=1000)
GALLERY_PAGE_SIZE = env.int("GALLERY_PAGE_SIZE", default=60)  # images and videos per gallery page
# Kombu's filesystem transport looks for new messages once a second unless told otherwise;
# a job's submit should start well within a second of its POST (Redis needs no polling).
if CELERY_BROKER_URL.startswith("filesystem:"):
    CELERY_BROKER_TRANSPORT_OPTIONS["polling_interval"] = env.float("CELERY_BROKER_POLLING_INTERVAL", default=0.1)
# One queue name per stack lets test and benchmark stacks share a Redis without taking
# each other's tasks.
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_TASK_DEFAULT_QUEUE", default="celery")
# Every periodic task, in one place (beat reads this; its file scheduler keeps no rows).
CELERY_BEAT_SCHEDULE = {
    # Rows of expired refresh tokens serve nothing (their JWTs are refused on expiry alone).
    "purge-expired-refresh-tokens": {
        "task": "accounts.tasks.purge_expired_refresh_tokens",
        "schedule": timedelta(hours=1),
    },
    # The provider's model catalogue, refreshed daily.
    "sync-provider-models": {
        "task": "catalogue.tasks.sync_provider_models",
        "schedule": timedelta(days=1),
    },
    "video-sweep": {
        "task": "videos.tasks.sweep_video_jobs",
        "schedule": VIDEO_SWEEP_INTERVAL,
        # Sweeps piled up while no worker ran are dropped: the next one does it all.
        "options": {"expires": VIDEO_SWEEP_INTERVAL},
    },
}

# --- OpenRouter -------------------------------------------------------------------------

OPENROUTER_API_KEY = env.str("OPENROUTER_API_KEY", default="")
# Demo mode: no key, so every provider call goes to the bundled offline double.
DEMO_MODE = not OPENROUTER_API_KEY
FAKE_OPENROUTER_PORT = env.int("FAKE_OPENROUTER_PORT", default=PORT + 10)
OPENROUTER_BASE_URL = env.str(
    "OPENROUTER_BASE_URL",
    default=(f"http://127.0.0.1:{FAKE_OPENROUTER_PORT}/api/v1" if DEMO_MODE else "https://openrouter.ai/api/v1"),
).rstrip("/")
if DEMO_MODE:
    # The double checks that a bearer key is sent, like the real provider.
    OPENROUTER_API_KEY = "demo-key"
# Email (password-reset links). EMAIL_URL picks the transport, as django-environ reads it:
# smtp+tls://user:password@smtp.example.com:587 (SMTP with STARTTLS), smtps://... (TLS), or
# consolemail:// (the default, and always in demo mode while EMAIL_URL is unset): messages
# are printed in the web server's log, so the link can be copied from there.
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Studio <studio@localhost>")
# How long a password-reset link works (Django's default is three days).
PASSWORD_RESET_TIMEOUT = env.int("PASSWORD_RESET_TIMEOUT", default=3600)
OPENROUTER_APP_URL = env.str("OPENROUTER_APP_URL", default=f"http://127.0.0.1:{PORT}")
OPENROUTER_APP_TITLE = env.str("OPENROUTER_APP_TITLE", default="Studio")
OPENROUTER_CONNECT_TIMEOUT = env.float("OPENROUTER_CONNECT_TIMEOUT", default=5.0)
OPENROUTER_READ_TIMEOUT = env.float("OPENROUTER_READ_TIMEOUT", default=120.0)
OPENROUTER_MAX_RETRIES = env.int("OPENROUTER_MAX_RETRIES", default=3)
OPENROUTER_RETRY_BUDGET = env.float("OPENROUTER_RETRY_BUDGET", default=30.0)
OPENROUTER_IMAGES_PATH = env.str("OPENROUTER_IMAGES_PATH", default="/images")
OPENROUTER_VIDEO_MAX_BYTES = env.int("OPENROUTER_VIDEO_MAX_BYTES", default=200 * 1024 * 1024)
# Overall limits on downloading a provider-hosted video / image, whatever the read timeout allows.
OPENROUTER_DOWNLOAD_DEADLINE = env.float("OPENROUTER_DOWNLOAD_DEADLINE", default=300.0)
OPENROUTER_IMAGE_DOWNLOAD_DEADLINE = env.float("OPENROUTER_IMAGE_DOWNLOAD_DEADLINE", default=60.0)

# --- Access: who may register, which models are offered ---------------------------------

# "open": anyone registers and logs in at once; "approval": new accounts wait (inactive)
# until an administrator approves them; "closed": only administrators add accounts.
REGISTRATION = env.str("REGISTRATION", default="open").strip().lower()
if REGISTRATION not in ("open", "approval", "closed"):
    raise environ.ImproperlyConfigured('REGISTRATION must be "open", "approval" or "closed"')
# Two-factor authentication (twofactor/): who must set up an authenticator app before
# their next login, "none", "admins" or "everyone" (until an administrator chooses on the
# admin panel's two-factor page); the name apps show for the account; how long the API's
# login challenge and the web's second step last; the key sealing TOTP secrets (by default
# derived from SECRET_KEY; changing it makes enrolled authenticators unreadable).
TWO_FACTOR_REQUIRED = env.str("TWO_FACTOR_REQUIRED", default="none").strip().lower()
if TWO_FACTOR_REQUIRED not in ("none", "admins", "everyone"):
    raise environ.ImproperlyConfigured('TWO_FACTOR_REQUIRED must be "none", "admins" or "everyone"')
TWO_FACTOR_ISSUER = env.str("TWO_FACTOR_ISSUER", default="Studio")
TWO_FACTOR_CHALLENGE_SECONDS = env.int("TWO_FACTOR_CHALLENGE_SECONDS", default=300)
TWO_FACTOR_KEY = env.str("TWO_FACTOR_KEY", default="")
# Single sign-on with OpenID Connect (sso/): on when OIDC_ISSUER is set. The provider's
# endpoints and keys come from its discovery document (ISSUER/.well-known/openid-configuration).
OIDC_ISSUER = env.str("OIDC_ISSUER", default="").strip()
OIDC_CLIENT_ID = env.str("OIDC_CLIENT_ID", default="").strip()
OIDC_CLIENT_SECRET = env.str("OIDC_CLIENT_SECRET", default="")
OIDC_PROVIDER_NAME = env.str("OIDC_PROVIDER_NAME", default="single sign-on").strip()
OIDC_SCOPES = env.str("OIDC_SCOPES", default="openid email profile").strip()
# A claim whose values name Studio groups to put the person in (e.g. "groups"); empty: none.
OIDC_GROUPS_CLAIM = env.str("OIDC_GROUPS_CLAIM", default="").strip()
# A claim, and the value in it, that make the person an administrator; empty: roles stay Studio's.
OIDC_ADMIN_CLAIM = env.str("OIDC_ADMIN_CLAIM", default="").strip()
OIDC_ADMIN_VALUE = env.str("OIDC_ADMIN_VALUE", default="").strip()
OIDC_TIMEOUT = env.float("OIDC_TIMEOUT", default=10.0)
if OIDC_ISSUER and not OIDC_CLIENT_ID:
    raise environ.ImproperlyConfigured("OIDC_ISSUER is set: OIDC_CLIENT_ID is needed too")
if OIDC_ISSUER and not {"openid", "email"} <= set(OIDC_SCOPES.split()):
    raise environ.ImproperlyConfigured('OIDC_SCOPES needs "openid" (an ID token) and "email"')
if bool(OIDC_ADMIN_CLAIM) != bool(OIDC_ADMIN_VALUE):
    raise environ.ImproperlyConfigured("OIDC_ADMIN_CLAIM and OIDC_ADMIN_VALUE go together")
# Whether a model the catalogue sync sees for the first time starts enabled (an
# administrator's later switches are kept by every sync).
MODELS_ENABLED_BY_DEFAULT = env.bool("MODELS_ENABLED_BY_DEFAULT", default=True)

# --- Generation (text and images) -------------------------------------------------------

GENERATION_PROMPT_MAX_CHARS = env.int("GENERATION_PROMPT_MAX_CHARS", default=8000)
GENERATION_MAX_TOKENS_LIMIT = env.int("GENERATION_MAX_TOKENS_LIMIT", default=32000)
GENERATION_MAX_IMAGES = env.int("GENERATION_MAX_IMAGES", default=4)
# Generations one person may have running at once (the rest get 429), and the longest a
# whole generation request may take, streaming included.
GENERATION_MAX_IN_FLIGHT = env.int("GENERATION_MAX_IN_FLIGHT", default=4)
GENERATION_DEADLINE = env.float("GENERATION_DEADLINE", default=300.0)
# Seconds a web process keeps a catalogue entry it read (catalogue.selectors) at most;
# a change made through the application is seen by every process at once (core.changes).
CATALOGUE_CACHE_SECONDS = env.float("CATALOGUE_CACHE_SECONDS", default=5.0)
# Whether each process keeps the API keys' owners, budget limits and catalogue entries it
# read until something changes them (core.changes); off: read at every request.
KEEP_READS = env.bool("KEEP_READS", default=True)
# The Redis key of that change counter when CACHE_URL is Redis (else a file under DATA_DIR).
CHANGES_KEY = env.str("CHANGES_KEY", default="studio:changes")
# Database steps a web process runs at once for its async requests (each holds a
# connection meanwhile): bounds connections however many requests are in flight. Every
# thread past a few contends for the GIL with the event loop, which slows every page
# (measured: bench/concurrent_generations.py); on PostgreSQL a step also waits on the
# server, so a few more threads overlap those waits.
WEB_DB_CONCURRENCY = env.int("WEB_DB_CONCURRENCY", default=2 if USES_DUCKDB else 4)
# Where those steps run: "pool", threads shared by all requests (core.db.in_db), or
# "request", each request's own thread (the test settings, for the test's transaction).
WEB_DB_THREADS = "pool"
# Conversations: tokens kept free for the answer when the thread is trimmed to the context.
CONVERSATION_ANSWER_TOKENS = env.int("CONVERSATION_ANSWER_TOKENS", default=1024)
# A generation still pending this long after the deadline was interrupted (its process
# died mid-call): the beat's sweep, every GENERATION_SWEEP_INTERVAL seconds, fails it.
GENERATION_STALE_MARGIN = env.float("GENERATION_STALE_MARGIN", default=120.0)
GENERATION_SWEEP_INTERVAL = env.float("GENERATION_SWEEP_INTERVAL", default=60.0)
CELERY_BEAT_SCHEDULE["fail-stale-generations"] = {
    "task": "generation.tasks.fail_stale_generations",
    "schedule": GENERATION_SWEEP_INTERVAL,
    "options": {"expires": GENERATION_SWEEP_INTERVAL},
}
# Answers longer than this are stored as escaped plain text instead of rendered markdown.
GENERATION_MARKDOWN_MAX_CHARS = env.int("GENERATION_MARKDOWN_MAX_CHARS", default=100_000)

# --- Stored files (storage/) -------------------------------------------------------------

# What each person's images, uploads and videos may take on disk, in MB (0: no quota). Past
# it, new image and video generations and uploads are refused (409) until they delete some.
STORAGE_QUOTA_MB = env.int("STORAGE_QUOTA_MB", default=1024)
# /healthz fails its "storage" check while the filesystem of MEDIA_ROOT has less free than this.
STORAGE_MIN_FREE_MB = env.int("STORAGE_MIN_FREE_MB", default=100)
# Media files no row owns (a process killed between writing a file and committing its row)
# are removed by the beat's sweep every STORAGE_SWEEP_INTERVAL seconds once older than
# STORAGE_ORPHAN_GRACE seconds, longer than any write takes to be committed (a video
# download may take OPENROUTER_DOWNLOAD_DEADLINE).
STORAGE_SWEEP_INTERVAL = env.float("STORAGE_SWEEP_INTERVAL", default=3600.0)
STORAGE_ORPHAN_GRACE = env.float("STORAGE_ORPHAN_GRACE", default=6 * 3600.0)
CELERY_BEAT_SCHEDULE["sweep-orphan-media"] = {
    "task": "storage.tasks.sweep_orphan_media",
    "schedule": STORAGE_SWEEP_INTERVAL,
    "options": {"expires": STORAGE_SWEEP_INTERVAL},
}

# --- Spending budgets (billing) ---------------------------------------------------------


# USD per user per UTC day / UTC calendar month; unset (or empty) = unlimited. An admin
# overrides them per user (PUT /api/users/{id}/limits, the admin panel, the Django admin).
def _budget(name: str):
    text = env.str(name, default="").strip()
    if not text:
        return None
    try:
        amount = Decimal(text)
    except InvalidOperation:
        amount = None
    if amount is None or not amount.is_finite() or amount < 0:
        raise environ.ImproperlyConfigured(f"{name} must be an amount in USD such as 5.00 (or unset), not {text!r}.")
    return amount


DEFAULT_DAILY_BUDGET_USD = _budget("DEFAULT_DAILY_BUDGET_USD")
DEFAULT_MONTHLY_BUDGET_USD = _budget("DEFAULT_MONTHLY_BUDGET_USD")
# How long after its request's deadline (GENERATION_DEADLINE, VIDEO_JOB_DEADLINE) a
# reservation nobody settled (its process was killed) stops counting against a budget.
BILLING_RESERVATION_MARGIN = env.int("BILLING_RESERVATION_MARGIN", default=120)

# --- Logging ----------------------------------------------------------------------------

# "text" (the default) or "json": one JSON object per line, each with the request id of the
# request or task it belongs to (operations/logs.py); both formats redact secrets.
LOG_FORMAT = env.str("LOG_FORMAT", default="text").strip().lower()
if LOG_FORMAT not in ("text", "json"):
    raise environ.ImproperlyConfigured('LOG_FORMAT must be "text" or "json"')
# A line per web request (studio.requests) and per provider call (openrouter.calls); on by
# default with JSON logs (plain text has uvicorn's access lines).
LOG_REQUESTS = env.bool("LOG_REQUESTS", default=LOG_FORMAT == "json")
# With JSON logs the worker and beat keep Django's handlers (Celery would put its own text
# format on the root logger).
CELERY_WORKER_HIJACK_ROOT_LOGGER = LOG_FORMAT != "json"
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "operations.logs.RequestIdFilter"}},
    "formatters": {
        "text": {"()": "operations.logs.TextFormatter", "format": "%(levelname)s %(name)s: %(message)s"},
        "json": {"()": "operations.logs.JsonFormatter"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT, "filters": ["request_id"]},
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    # httpx logs every provider request at INFO: a line per call, for hundreds at once.
    "loggers": {
        "httpx": {"level": "WARNING"},
        "httpcore": {"level": "WARNING"},
        "studio.requests": {"level": "INFO" if LOG_REQUESTS else "WARNING"},
        "openrouter.calls": {"level": "INFO" if LOG_REQUESTS else "WARNING"},
    },
}

# --- Operations: metrics and backups ---------------------------------------------------

# GET /metrics answers these client addresses (CIDR or single addresses; the address is
# taken as the throttles take it, so behind a proxy it is the real client's), or anyone
# sending "Authorization: Bearer <METRICS_TOKEN>" when a token is set.
METRICS_ALLOWED_ADDRESSES = env.list("METRICS_ALLOWED_ADDRESSES", default=["127.0.0.0/8", "::1/128"])
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
# Scheduled backups (beat): BACKUP_SCHEDULE is a period in hours ("" or 0: none), written
# under BACKUP_DIR (better on another disk than DATA_DIR), keeping the newest BACKUP_KEEP.
BACKUP_DIR = _resolve(env.str("BACKUP_DIR", default=str(DATA_DIR / "backups")))
BACKUP_SCHEDULE_HOURS = env.float("BACKUP_SCHEDULE_HOURS", default=0.0)
BACKUP_KEEP = env.int("BACKUP_KEEP", default=7)
if BACKUP_SCHEDULE_HOURS > 0:
    CELERY_BEAT_SCHEDULE["backup"] = {
        "task": "operations.tasks.scheduled_backup",
        "schedule": timedelta(hours=BACKUP_SCHEDULE_HOURS),
        "options": {"expires": BACKUP_SCHEDULE_HOURS * 3600},
    }

if urlparse(OPENROUTER_BASE_URL).scheme not in ("http", "https"):
    raise environ.ImproperlyConfigured("OPENROUTER_BASE_URL must be an http(s) URL")
