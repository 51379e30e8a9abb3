"""Live video status for the web process: ONE watcher per event loop (so one per uvicorn
worker process) reads the status of every job any open stream watches, in one query per
VIDEO_LIVE_INTERVAL, and hands each change to the streams that watch that job.

    subscription = watcher().subscribe({4, 7})
    try:
        changes = await subscription.changes(timeout=15)   # {job id: status body or None}
    finally:
        watcher().unsubscribe(subscription)

* One query per interval whatever the number of streams: ``pk IN (all watched ids)``.
  1,000 open job pages cost one small indexed query each interval, not 1,000.
* Every read compares (status, progress, video_url, error) with the last read instead
  of asking for ``updated_at > last time``: the worker stamps ``updated_at`` before its
  UPDATE commits (it may wait for the DuckDB file, or retry a write conflict), so a high
  water mark could step over a change that commits late. Comparing never misses one.
* The database connection is closed right after each read (core.db.release_db_connection):
  on DuckDB the web process holds the file only for the read itself, so the worker and
  beat get their turns between reads; on PostgreSQL no connection stays checked out.
* The watcher runs only while someone is subscribed and ends with the last subscriber.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import weakref

from django.conf import settings
from django.db import DatabaseError

from core.db import in_db, release_db_connection
from videos import selectors

log = logging.getLogger(__name__)

# What a page shows of a job; a change of anything else (the worker's retry bookkeeping
# touches updated_at too) is not worth an event.
VISIBLE = ("status", "progress", "video_url", "error")


def visible_state(body: dict | None) -> tuple | None:
    return None if body is None else tuple(body[key] for key in VISIBLE)


class Subscription:
    """One stream's interest in some jobs, and the changes the watcher found for it
    (the latest body per job: a stream that reads slowly gets the newest state, not a
    backlog). A body of None means the job is gone (deleted)."""

    def __init__(self, job_ids) -> None:
        self.job_ids: set[int] = set(job_ids)
        self.fresh = True  # the watcher's first read after subscribing reports every job
        self._pending: dict[int, dict | None] = {}
        self._wake = asyncio.Event()

    def push(self, job_id: int, body: dict | None) -> None:
        self._pending[job_id] = body
        self._wake.set()

    def forget(self, job_id: int) -> None:
        """Stop watching one job (it reached a terminal state)."""
        self.job_ids.discard(job_id)
        self._pending.pop(job_id, None)

    async def changes(self, *, timeout: float) -> dict[int, dict | None]:
        """The changes found since the last call, waiting up to ``timeout`` seconds for
        some; {} if none came."""
        if not self._pending:
            try:
                await asyncio.wait_for(self._wake.wait(), timeout)
            except TimeoutError:
                pass
        self._wake.clear()
        pending, self._pending = self._pending, {}
        return pending


def _read(job_ids: list[int]) -> list[dict]:
    try:
        return selectors.video_status_rows(job_ids=job_ids)
    finally:
        release_db_connection()  # never hold the DuckDB file (or a PostgreSQL slot) between reads


class JobWatcher:
    """Watches the jobs of all subscriptions of one event loop (see the module docstring)."""

    def __init__(self) -> None:
        self._subscriptions: set[Subscription] = set()
        self._seen: dict[int, tuple | None] = {}
        self._task: asyncio.Task | None = None
        self.reads = 0  # queries made, for tests and benchmarks

    @property
    def running(self) -> bool:
        return self._task is not None

    def subscribe(self, job_ids) -> Subscription:
        subscription = Subscription(job_ids)
        self._subscriptions.add(subscription)
        if self._task is None:
            # A context of its own: the watcher outlives the request that started it, so
            # it must not inherit that request's thread executor (asgiref's
            # ThreadSensitiveContext, shut down when the request ends).
            self._task = asyncio.get_running_loop().create_task(
                self._run(), name="video-live-watcher", context=contextvars.Context()
            )
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        self._subscriptions.discard(subscription)

    def watched_ids(self) -> set[int]:
        ids: set[int] = set()
        for subscription in self._subscriptions:
            ids |= subscription.job_ids
        return ids

    async def _run(self) -> None:
        try:
            while self._subscriptions:
                await asyncio.sleep(settings.VIDEO_LIVE_INTERVAL)
                if self._subscriptions:
                    await self.tick()
        finally:
            self._task = None
            self._seen.clear()

    async def tick(self) -> None:
        """Read every watched job once and hand the changes out."""
        ids = self.watched_ids()
        if not ids:
            return
        fresh = [subscription for subscription in self._subscriptions if subscription.fresh]
        try:
            rows = await in_db(_read)(sorted(ids))
        except DatabaseError as exc:
            # e.g. the DuckDB file stayed busy past lock_timeout: try again next interval.
            log.warning("live video status: read failed (%s); trying again", exc)
            return
        self.reads += 1
        current = {row["id"]: selectors.status_body(row) for row in rows}
        changed: dict[int, dict | None] = {}
        for job_id in ids:
            body = current.get(job_id)
            state = visible_state(body)
            if job_id not in self._seen or self._seen[job_id] != state:
                self._seen[job_id] = state
                changed[job_id] = body
        for job_id in [job_id for job_id in self._seen if job_id not in ids]:
            del self._seen[job_id]
        for subscription in list(self._subscriptions):
            if subscription in fresh:
                # Subscribed since the last read: the stream's first state may predate
                # it, so it gets every job's state now (it drops what it already sent).
                subscription.fresh = False
                for job_id in subscription.job_ids & ids:
                    subscription.push(job_id, current.get(job_id))
                continue
            for job_id in subscription.job_ids & changed.keys():
                subscription.push(job_id, changed[job_id])


_watchers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, JobWatcher] = weakref.WeakKeyDictionary()


def watcher() -> JobWatcher:
    """The running event loop's watcher: one per web process under uvicorn (one loop).
    Tests run each request on a loop of its own, and get a watcher of their own."""
    loop = asyncio.get_running_loop()
    found = _watchers.get(loop)
    if found is None:
        found = _watchers[loop] = JobWatcher()
    return found
