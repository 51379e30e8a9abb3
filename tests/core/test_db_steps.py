"""Database steps from async code (core.db.in_db) as the served web process runs them
(WEB_DB_THREADS=pool): at most WEB_DB_CONCURRENCY at once on a shared pool, the
request's context variables visible, errors raised to the awaiting request, and the
connection given back (closed on DuckDB, kept by the pool thread on PostgreSQL)."""

from __future__ import annotations

import asyncio
import contextvars
import threading
import time

import pytest
from asgiref.sync import async_to_sync
from django.conf import settings
from django.db import connection

from core.db import close_step_pool, in_db

pytestmark = pytest.mark.django_db(transaction=True)

request_name = contextvars.ContextVar("request_name", default=None)


@pytest.fixture(autouse=True)
def pooled(settings):
    settings.WEB_DB_THREADS = "pool"
    yield
    close_step_pool()


def _backend_id() -> tuple[int, object]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return threading.get_ident(), id(connection.connection)


def test_steps_see_the_callers_context_and_raise_its_errors():
    def read():
        return request_name.get()

    def fail():
        raise ValueError("refused")

    async def go():
        request_name.set("alice")
        seen = await in_db(read)()
        with pytest.raises(ValueError, match="refused"):
            await in_db(fail)()
        return seen

    assert async_to_sync(go)() == "alice"


def test_at_most_web_db_concurrency_steps_run_at_once(settings):
    running, peak, lock = [0], [0], threading.Lock()

    def step():
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        time.sleep(0.05)
        with lock:
            running[0] -= 1

    async def go():
        await asyncio.gather(*(in_db(step)() for _ in range(settings.WEB_DB_CONCURRENCY * 3)))

    async_to_sync(go)()
    assert 1 < peak[0] <= settings.WEB_DB_CONCURRENCY


def test_the_connection_is_given_back_after_each_step():
    def open_after_step():
        return connection.connection is not None

    async def go():
        steps = [await in_db(_backend_id)() for _ in range(settings.WEB_DB_CONCURRENCY * 2)]
        return steps, await in_db(open_after_step)()

    steps, open_at_start = async_to_sync(go)()
    if settings.USES_DUCKDB:
        # Closed at the end of every step: the worker and beat can take the file.
        assert open_at_start is False
    else:
        # One connection per pool thread, reused: no new PostgreSQL connection per step.
        connections_by_thread = {}
        for thread, conn in steps:
            connections_by_thread.setdefault(thread, set()).add(conn)
        assert all(len(conns) == 1 for conns in connections_by_thread.values())
        assert len(connections_by_thread) <= settings.WEB_DB_CONCURRENCY


def _server_pid():
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1" if settings.USES_DUCKDB else "SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def test_closing_the_pool_closes_every_kept_connection_and_a_new_pool_follows():
    async def go():
        return await asyncio.gather(*(in_db(_server_pid)() for _ in range(settings.WEB_DB_CONCURRENCY)))

    used = set(async_to_sync(go)())
    close_step_pool()
    assert async_to_sync(go)()  # a new pool serves the next steps
    close_step_pool()
    if not settings.USES_DUCKDB:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pid FROM pg_stat_activity WHERE pid = ANY(%s)", [list(used)])
            assert cursor.fetchall() == []
