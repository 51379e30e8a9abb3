"""Bounds on open live status streams (GET /api/generate/video/events, .../{id}/events).

A stream holds a subscription (and a connection) for up to VIDEO_JOB_DEADLINE, so one
person opening hundreds would hold that many for half an hour. Each web process counts
its open streams: LIVE_STREAMS_PER_USER per person and LIVE_STREAMS_PER_PROCESS in all;
beyond either the request is refused with 429 and Retry-After (the pages then poll the
status endpoint instead, static/js/videos.js). Counts are per process, like the watcher:
with WEB_CONCURRENCY processes a person may hold that many times the per-user figure.

    lease = stream_limits.take(user_id=user.pk)      # TooManyStreams beyond a bound
    stream = stream_limits.held(events, lease)        # the lease goes when the stream ends

A lease is given back once, whichever comes first: the stream ends or is cancelled (the
client went away), the response is closed, or the stream is dropped unstarted.
"""

from __future__ import annotations

import threading
import weakref
from collections import Counter
from collections.abc import AsyncIterator

from django.conf import settings

from core.errors import TooManyRequests

# A stream lasts until its jobs end: a person's tab that closes frees one within seconds,
# but a retry any sooner than this is likely refused again.
RETRY_AFTER = 30

_lock = threading.Lock()
_per_user: Counter[int] = Counter()
_open = 0


class TooManyStreams(TooManyRequests):
    default_message = "Too many live status streams are open; the page follows the job by polling instead."


class Lease:
    """One open stream's place in the counts; :meth:`release` is safe to call again."""

    def __init__(self, user_id: int) -> None:
        self.user_id = user_id
        self._released = False

    def release(self) -> None:
        global _open
        with _lock:
            if self._released:
                return
            self._released = True
            _open -= 1
            _per_user[self.user_id] -= 1
            if _per_user[self.user_id] <= 0:
                del _per_user[self.user_id]


def take(*, user_id: int) -> Lease:
    """A place for one more stream of ``user_id`` in this process, or TooManyStreams (429)."""
    global _open
    with _lock:
        if _per_user[user_id] >= settings.LIVE_STREAMS_PER_USER:
            raise TooManyStreams(
                f"You have {settings.LIVE_STREAMS_PER_USER} live status streams open already (close some "
                f"pages, or poll the status endpoint); try again in {RETRY_AFTER} seconds.",
                retry_after=RETRY_AFTER,
            )
        if _open >= settings.LIVE_STREAMS_PER_PROCESS:
            raise TooManyStreams(
                f"The server has as many live status streams open as it serves; poll the status endpoint, "
                f"or try again in {RETRY_AFTER} seconds.",
                retry_after=RETRY_AFTER,
            )
        _open += 1
        _per_user[user_id] += 1
    return Lease(user_id)


def held(events: AsyncIterator[str], lease: Lease) -> AsyncIterator[str]:
    """``events``, giving ``lease`` back when they end, fail, are cancelled, or are dropped
    without ever being read (a client gone before the first byte)."""

    async def stream():
        try:
            async for event in events:
                yield event
        finally:
            lease.release()

    wrapped = stream()
    weakref.finalize(wrapped, lease.release)
    return wrapped


def open_streams(user_id: int | None = None) -> int:
    """Streams open in this process (of ``user_id``, if given): for tests and the log."""
    with _lock:
        return _open if user_id is None else _per_user.get(user_id, 0)
