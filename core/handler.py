"""Django's ASGI handler, with each request's thread borrowed from a pool.

Django runs the synchronous parts of an ASGI request (the receivers of the
request_started and request_finished signals, a sync view, rendering a DRF or template
response) on a thread of that request's own: asgiref's ThreadSensitiveContext makes a
single-thread executor per request, starts its thread at the first such call, and at
the end starts one more thread to join it. Two thread starts per request were the largest
single cost of a short /v1/ request (docs/PERFORMANCE.md). Here a request borrows an
idle single-thread executor instead, and gives it back when it ends: a request's sync
code still runs on one thread, one request at a time, as Django expects.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from asgiref.sync import ThreadSensitiveContext
from django.core.handlers.asgi import ASGIHandler

# Idle executors kept for the next requests; past this many (after a burst) they stop.
IDLE_REQUEST_THREADS = 64


class RequestThreads:
    """Single-thread executors lent to requests, one at a time each."""

    def __init__(self, *, keep: int = IDLE_REQUEST_THREADS) -> None:
        self._idle: list[ThreadPoolExecutor] = []
        self._keep = keep
        self._lock = threading.Lock()

    def borrow(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._idle:
                return self._idle.pop()
        return ThreadPoolExecutor(max_workers=1, thread_name_prefix="request")

    def give_back(self, executor: ThreadPoolExecutor) -> None:
        with self._lock:
            if len(self._idle) < self._keep:
                self._idle.append(executor)
                return
        executor.shutdown(wait=False)


class PooledThreadsAsgiHandler(ASGIHandler):
    """ASGIHandler whose requests run their sync parts on a borrowed thread."""

    def __init__(self) -> None:
        super().__init__()
        self.request_threads = RequestThreads()

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        executor = self.request_threads.borrow()
        try:
            # A context given an executor hands it back untouched on exit; a task the
            # request left behind that later asks for the request's thread is refused
            # (RuntimeError) rather than sent to another request's thread.
            async with ThreadSensitiveContext(executor=executor):
                await self.handle(scope, receive, send)
        finally:
            self.request_threads.give_back(executor)
