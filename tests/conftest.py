import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ON_CI = os.environ.get("CI", "").lower() == "true"
# The test process runs on tests.settings (pytest.ini), which pytest-django also puts in
# the environment; processes the tests start run on Studio's own settings, as in production.
SUBPROCESS_ENV = {"DJANGO_SETTINGS_MODULE": "config.settings"}


def require_service(name: str, host: str, port: int) -> None:
    """Skip when a local service is missing on a developer machine; fail on CI."""
    try:
        socket.create_connection((host, port), timeout=1).close()
    except OSError as exc:
        message = f"{name} is not reachable on {host}:{port} ({exc})"
        if ON_CI:
            pytest.fail(message + "; CI must provide it")
        pytest.skip(message)


def run_manage(*args: str, env: dict | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run manage.py in a fresh process (own settings, own environment)."""
    full_env = {**os.environ, **SUBPROCESS_ENV, **(env or {})}
    full_env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)  # set for the browser tests only
    return subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *args],
        cwd=ROOT,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Throttle counters and cached values never leak from one test into the next: nor
    the catalogue entries a process keeps (a test's rows are rolled back without a signal)."""
    from django.core.cache import cache

    from catalogue.selectors import catalogue_entries_changed

    cache.clear()
    catalogue_entries_changed()
    yield
    cache.clear()
    catalogue_entries_changed()


@pytest.fixture(autouse=True, scope="session")
def _remove_test_queue():
    from tests.support.tasks import BrokerTap, remove_test_queue

    yield
    if BrokerTap.used:
        remove_test_queue()


@pytest.fixture(autouse=True)
def sent_tasks(_remove_test_queue):
    """Tasks sent during the test, taken off the broker as a worker would take them
    (tests/support/tasks.py); ``sent_tasks.run_inline = True`` runs each at once."""
    from tests.support.tasks import BrokerTap

    with BrokerTap() as sent:
        yield sent


@pytest.fixture
def production_hashers(settings):
    """Studio's own PASSWORD_HASHERS (Argon2 first) instead of the test settings' fast one."""
    from config import settings as studio_settings

    settings.PASSWORD_HASHERS = studio_settings.PASSWORD_HASHERS
    return settings.PASSWORD_HASHERS


@pytest.fixture
def user(db):
    from tests.factories import UserFactory

    return UserFactory()


@pytest.fixture
def other_user(db):
    from tests.factories import UserFactory

    return UserFactory()


@pytest.fixture
def admin_user(db):
    from tests.factories import AdminFactory

    return AdminFactory()


@pytest.fixture
def client_for():
    """An API client signed in as the given user (None: anonymous)."""
    from rest_framework.test import APIClient

    def make(user=None):
        client = APIClient()
        if user is not None:
            client.force_authenticate(user)
        return client

    return make


@pytest.fixture
def anon_api(client_for):
    """An API client that is not signed in."""
    return client_for()


@pytest.fixture
def user_api(client_for, user):
    """An API client signed in as ``user``."""
    return client_for(user)


@pytest.fixture
def stored_files(media_root):
    """The files currently under MEDIA_ROOT (relative paths), to check nothing is left over."""

    def list_files():
        if not media_root.exists():
            return []
        return sorted(str(path.relative_to(media_root)) for path in media_root.rglob("*") if path.is_file())

    return list_files


@pytest.fixture
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def fresh_store_env(tmp_path):
    """Environment for a subprocess that gets its own empty store of the kind under test:
    a new DuckDB file under a temporary DATA_DIR, or a new PostgreSQL database."""
    import uuid

    from django.conf import settings

    env = {"DATA_DIR": str(tmp_path)}
    db = settings.DATABASES["default"]
    if db["ENGINE"] == "django_duckdb":
        env["DATABASE_URL"] = f"duckdb:///{tmp_path / 'fresh.duckdb'}"
        yield env
        return
    import psycopg

    name = f"studio_fresh_{uuid.uuid4().hex[:10]}"
    admin_dsn = f"host={db['HOST'] or '127.0.0.1'} port={db['PORT'] or 5432} user={db['USER']} dbname=postgres"
    if db.get("PASSWORD"):
        admin_dsn += f" password={db['PASSWORD']}"
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    env["DATABASE_URL"] = (
        f"postgres://{db['USER']}:{db.get('PASSWORD') or ''}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{name}"
    )
    try:
        yield env
    finally:
        with psycopg.connect(admin_dsn, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def asgi_server(transactional_db, settings):
    """Studio served by uvicorn (as `make run` serves it) on the test database."""
    from core.db import close_step_pool
    from tests.support.asgi import AsgiTestServer

    settings.ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]
    settings.WEB_DB_THREADS = "pool"  # as served: nothing runs inside the test's transaction here
    with AsgiTestServer() as server:
        yield server
    close_step_pool()  # the pool's kept PostgreSQL connections would hold the test database
