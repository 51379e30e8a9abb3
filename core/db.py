"""Database helpers every app needs: letting go of the connection while waiting on the
provider, trying a write again after a concurrent writer's conflict (DuckDB), and, for
async code, the database-step threads (:func:`in_db`), the batching of concurrent
callers' writes (:class:`Coalesced`) and one UPDATE for many rows (:func:`update_rows`)."""

from __future__ import annotations

import asyncio
import collections
import contextvars
import functools
import logging
import random
import threading
import time
import weakref
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Generic, TypeVar

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import IntegrityError, OperationalError, connection

from django_duckdb.errors import WriteConflict
from operations import metrics

log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")

# Waits before trying a conflicting write again: DuckDB answers a concurrent write to the
# same row with an error (instead of waiting) while the other transaction commits.
CONFLICT_PAUSES = (0.01, 0.03, 0.1, 0.3)


# Marks the web process's database-step threads (in_db's pool).
_step_thread = threading.local()


def release_db_connection() -> None:
    """Give the database connection back before waiting on the provider.

    On DuckDB the web server, worker and beat take turns on one file, and a process lets
    go of it when its last connection closes; on PostgreSQL this frees a slot. Inside a
    transaction (a caller's atomic block, or a test's) nothing is closed.

    On PostgreSQL a thread of in_db's pool keeps its connection for the next step: the
    pool is the bound (WEB_DB_CONCURRENCY connections per process, whatever is in
    flight), and a new connection per step would cost PostgreSQL a process start each.
    A connection that failed and is no longer usable is closed.
    """
    if connection.in_atomic_block:
        return
    if getattr(_step_thread, "keeps_connection", False):
        if connection.connection is not None and connection.errors_occurred and not connection.is_usable():
            connection.close()
        return
    connection.close()


def is_write_conflict(exc: BaseException) -> bool:
    """A concurrent transaction changed the same rows (DuckDB refuses instead of waiting;
    PostgreSQL waits, so there it never happens)."""
    return isinstance(exc, WriteConflict)


def is_unique_clash(exc: BaseException) -> bool:
    """A unique index refused a concurrent insert (IntegrityError), or on DuckDB the
    insert met a concurrent writer of the same key (a write conflict)."""
    return isinstance(exc, IntegrityError) or is_write_conflict(exc)


def retry_on_write_conflict(write: Callable[[], T], *, what: str = "write") -> T:
    """Run ``write``; after a write conflict wait a moment and run it again (a few times).

    Outside a transaction only: inside one, the failed statement has spoilt it, so the
    conflict goes to the caller. ``write`` must be safe to repeat (a conditional UPDATE
    that re-reads its condition).
    """
    for pause in (*CONFLICT_PAUSES, None):
        try:
            return write()
        except OperationalError as exc:
            if pause is None or connection.in_atomic_block or not is_write_conflict(exc):
                raise
            log.info("%s: write conflict, trying again", what)
            time.sleep(pause * (1 + random.random()))
    raise AssertionError("unreachable")


# ------------------------------------------------------------------ from async code

_step_limits: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = weakref.WeakKeyDictionary()
_step_threads: ThreadPoolExecutor | None = None
_step_threads_lock = threading.Lock()


def _step_limit() -> asyncio.Semaphore:
    loop = asyncio.get_running_loop()
    limit = _step_limits.get(loop)
    if limit is None:
        limit = _step_limits[loop] = asyncio.Semaphore(settings.WEB_DB_CONCURRENCY)
    return limit


def _start_step_thread() -> None:
    _step_thread.keeps_connection = not settings.USES_DUCKDB


def _step_pool() -> ThreadPoolExecutor:
    global _step_threads
    with _step_threads_lock:
        if _step_threads is None:
            _step_threads = ThreadPoolExecutor(
                max_workers=settings.WEB_DB_CONCURRENCY, thread_name_prefix="db-step", initializer=_start_step_thread
            )
        return _step_threads


def close_step_pool(timeout: float = 10.0) -> None:
    """Close the connections the pool's threads keep (PostgreSQL) and stop the threads:
    when the web server stops (after the streams in flight are saved), and after tests
    that used the pool. The next step starts a new pool."""
    global _step_threads
    with _step_threads_lock:
        pool, _step_threads = _step_threads, None
    if pool is None:
        return
    # One closing task per thread: each waits at the barrier until all have started, so
    # no thread takes two and every thread runs one.
    barrier = threading.Barrier(pool._max_workers)

    def close_this_threads_connection() -> None:
        connection.close()
        try:
            barrier.wait(timeout)
        except threading.BrokenBarrierError:
            pass

    for future in [pool.submit(close_this_threads_connection) for _ in range(pool._max_workers)]:
        future.result()
    pool.shutdown(wait=True)


def in_db(fn: Callable[..., T]) -> Callable[..., Awaitable[T]]:
    """``fn`` (sync database work, and only that) as a coroutine: run on a database-step
    thread, at most WEB_DB_CONCURRENCY at once per process, and the connection given back
    when it ends. Work that is not the database's (rendering markdown or templates,
    encoding files) runs on threads of its own, so that it never holds up every request's
    database steps.
    So however many requests a process holds in flight, it holds at most that many
    database connections (PostgreSQL refuses past max_connections), and none while a
    request awaits the provider.

    The threads are one shared pool (WEB_DB_THREADS=pool): a step keeps nothing on its
    thread between steps, so a request needs no thread of its own, and hundreds in
    flight do not mean hundreds of threads. WEB_DB_THREADS=request runs each step on the
    request's own thread (asgiref's thread-sensitive mode) instead: the test settings use
    it, so that steps see the test's open transaction."""

    def step(queued_at, *args, **kwargs):
        metrics.db_step_waited(time.monotonic() - queued_at)
        try:
            return fn(*args, **kwargs)
        finally:
            release_db_connection()

    async def run(*args, **kwargs):
        queued_at = time.monotonic()
        async with _step_limit():
            if settings.WEB_DB_THREADS == "request":
                return await sync_to_async(step)(queued_at, *args, **kwargs)
            # A plain executor call (the step sees the request's context variables): cheaper
            # than sync_to_async, which a step needs none of (it awaits nothing).
            context = contextvars.copy_context()
            return await asyncio.get_running_loop().run_in_executor(
                _step_pool(), functools.partial(context.run, step, queued_at, *args, **kwargs)
            )

    return functools.wraps(fn)(run)


class Coalesced(Generic[T, R]):
    """One database step for the items of concurrent callers: ``await batched(item)``
    waits while a batch runs; the next batch takes every item that came meanwhile (at
    most ``max_batch``) and runs ``run_batch(items) -> results`` (in order) in one step.
    Alone, an item goes at once: nothing waits for others to come.

    For writes whose fixed cost per statement dominates: on DuckDB one INSERT of 32 rows
    costs about what two single-row INSERTs do. A batch that fails is run again item by
    item, so a bad item fails alone: ``run_batch`` must be safe to repeat for the items of
    a failed batch. A caller that stops waiting does not take its item back."""

    def __init__(self, run_batch: Callable[[list[T]], list[R]], *, max_batch: int = 64) -> None:
        self._step = in_db(run_batch)
        self._max_batch = max_batch
        self._queues: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _BatchQueue] = weakref.WeakKeyDictionary()

    async def __call__(self, item: T) -> R:
        loop = asyncio.get_running_loop()
        queue = self._queues.get(loop)
        if queue is None:
            queue = self._queues[loop] = _BatchQueue()
        waiter = loop.create_future()
        queue.items.append((item, waiter))
        if queue.drainer is None:
            queue.drainer = loop.create_task(self._drain(queue))
        return await waiter

    async def _drain(self, queue: _BatchQueue) -> None:
        batch: list = []
        try:
            while queue.items:
                batch = [queue.items.popleft() for _ in range(min(len(queue.items), self._max_batch))]
                if len(batch) == 1:
                    await self._run_alone(*batch[0])
                    continue
                try:
                    results = await self._step([item for item, _ in batch])
                except Exception:
                    log.info("a batch of %s failed; running its items one by one", len(batch))
                    for item, waiter in batch:
                        await self._run_alone(item, waiter)
                else:
                    for (_, waiter), result in zip(batch, results):
                        _resolve(waiter, result=result)
        except BaseException as exc:  # the drainer itself was stopped (its loop is closing)
            for _, waiter in [*batch, *queue.items]:
                _resolve(waiter, error=exc)
            queue.items.clear()
            raise
        finally:
            queue.drainer = None

    async def _run_alone(self, item: T, waiter: asyncio.Future) -> None:
        try:
            [result] = await self._step([item])
        except Exception as exc:
            _resolve(waiter, error=exc)
        else:
            _resolve(waiter, result=result)


class _BatchQueue:
    def __init__(self) -> None:
        self.items: collections.deque = collections.deque()
        self.drainer: asyncio.Task | None = None


def _resolve(waiter: asyncio.Future, *, result=None, error: BaseException | None = None) -> None:
    if waiter.done():  # its caller stopped waiting
        return
    if isinstance(error, asyncio.CancelledError):
        waiter.cancel()
    elif error is not None:
        waiter.set_exception(error)
    else:
        waiter.set_result(result)


# On DuckDB the joined list costs about four single-row UPDATEs whatever the batch (it
# plans a join): fewer rows than this are written one UPDATE each.
JOINED_UPDATE_FROM = 4


def update_rows(model, changes: dict, *, where: dict) -> set:
    """Write each row's own values in one UPDATE: ``changes`` maps a primary key to the
    values of its row (every row the same fields), ``where`` adds equality conditions (a
    row not matching them is left as it is). Returns the primary keys of the rows written.

    Django's bulk_update writes a CASE per field, which DuckDB answers no faster than one
    UPDATE per row; this joins the table to the rows instead, in one statement: on
    PostgreSQL a VALUES list, on DuckDB one list per column, unnested (a VALUES list costs
    DuckDB an expression per value: at 64 rows 34 ms against 12 ms, and a statement of its
    own to parse for every row count). On DuckDB fewer than JOINED_UPDATE_FROM rows are
    written one UPDATE each, one statement text for them all (QuerySet.update compiled
    each anew: 1.59 against 1.30 ms of CPU per row). The values are prepared for the
    database once, the same way for both forms."""
    if not changes:
        return set()
    names = list(next(iter(changes.values())))
    if any(list(values) != names for values in changes.values()):
        raise ValueError("every row must change the same fields, in the same order")
    meta = model._meta
    quote = connection.ops.quote_name
    pk = meta.pk
    fields = [meta.get_field(name) for name in names]
    rows = [
        [
            pk.get_db_prep_value(key, connection),
            *(field.get_db_prep_save(values[field.name], connection) for field in fields),
        ]
        for key, values in changes.items()
    ]
    conditions, condition_params = [], []
    for name, value in where.items():
        field = meta.get_field(name)
        conditions.append(f"{quote(field.column)} = %s")
        condition_params.append(field.get_db_prep_value(value, connection))
    duckdb = connection.vendor == "duckdb"
    if duckdb and len(rows) < JOINED_UPDATE_FROM:
        assignments = ", ".join(f"{quote(field.column)} = %s" for field in fields)
        matching = " AND ".join([f"{quote(pk.column)} = %s", *conditions])
        sql = f"UPDATE {quote(meta.db_table)} SET {assignments} WHERE {matching}"
        written = set()
        with connection.cursor() as cursor:
            for key, (prepared_key, *values) in zip(changes, rows):
                cursor.execute(sql, [*values, prepared_key, *condition_params])
                if cursor.rowcount:
                    written.add(key)
        return written
    columns = [pk, *fields]
    aliases = [f"c{index}" for index in range(len(columns))]
    if duckdb:
        unnested = ", ".join(
            f"unnest(%s::{field.cast_db_type(connection)}[]) AS {alias}" for field, alias in zip(columns, aliases)
        )
        source = f"(SELECT {unnested}) AS v"
        params: list = [list(column) for column in zip(*rows)]
    else:
        row_sql = "(" + ", ".join(f"CAST(%s AS {field.db_type(connection)})" for field in columns) + ")"
        source = f"(VALUES {', '.join([row_sql] * len(rows))}) AS v({', '.join(aliases)})"
        params = [value for row in rows for value in row]
    assignments = ", ".join(f"{quote(field.column)} = v.{alias}" for field, alias in zip(fields, aliases[1:]))
    joined = [f"t.{quote(pk.column)} = v.{aliases[0]}", *(f"t.{condition}" for condition in conditions)]
    sql = (
        f"UPDATE {quote(meta.db_table)} AS t SET {assignments} "
        f"FROM {source} WHERE {' AND '.join(joined)} RETURNING t.{quote(pk.column)}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, *condition_params])
        return {row[0] for row in cursor.fetchall()}
