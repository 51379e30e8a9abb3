"""Django's ASGI handler, with each request's thread taken from a pool when it needs one.

Django runs the synchronous parts of an ASGI request (a sync view, a sync middleware
hook, rendering a DRF or template response, the receivers of the request_started and
request_finished signals) on a thread of that request's own: asgiref's
ThreadSensitiveContext makes a single-thread executor per request, starts its thread at
the first such call, and at the end starts one more thread to join it. Two thread starts
per request were the largest single cost of a short /v1/ request (docs/PERFORMANCE.md).

Here a request borrows an idle single-thread executor from a pool when it first runs sync
code, and gives it back when it ends: a request's sync code still runs on one thread,
one call at a time, as Django expects. Most API requests run none (their views, hooks
and rendering run on the event loop), so they take no thread at all: a burst of 500
streams does not start 500 threads. The two signals are then sent on the event loop
when their receivers are Django's own, which only tidy the current thread's database
connections and caches (nothing, on the event loop, where no query may run); any other
receiver, or a request that has a thread, gets them on the request's thread as Django
sends them.
"""

from __future__ import annotations

import asyncio
import contextvars
import threading
from concurrent.futures import Executor, ThreadPoolExecutor

from asgiref.sync import ThreadSensitiveContext, sync_to_async
from django.core import signals
from django.core.cache import close_caches
from django.core.exceptions import RequestAborted
from django.core.handlers.asgi import ASGIHandler, get_script_prefix
from django.core.handlers.base import reset_urlconf
from django.db import close_old_connections, reset_queries
from django.http import HttpRequest
from django.urls import set_script_prefix

from core import changes

# Idle executors kept for the next requests; past this many (after a burst) they stop.
IDLE_REQUEST_THREADS = 64

# The receivers Django connects: each acts on the calling thread's connections, or on
# per-context state (the URLconf, the cache handles of this context).
TIDY_ON_START = {reset_queries, close_old_connections}
TIDY_ON_FINISH = {close_old_connections, close_caches, reset_urlconf}


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


class RequestThread(Executor):
    """One request's thread: borrowed from the pool at the request's first sync call,
    kept for its later ones, given back when the request ends."""

    def __init__(self, threads: RequestThreads) -> None:
        self._threads = threads
        self.executor: ThreadPoolExecutor | None = None

    def submit(self, fn, /, *args, **kwargs):
        if self.executor is None:
            self.executor = self._threads.borrow()
        return self.executor.submit(fn, *args, **kwargs)

    def give_back(self) -> None:
        executor, self.executor = self.executor, None
        if executor is not None:
            self._threads.give_back(executor)


_request_thread: contextvars.ContextVar[RequestThread | None] = contextvars.ContextVar("request_thread", default=None)


def _only(signal, receivers: set, sender) -> bool:
    sync_receivers, async_receivers = signal._live_receivers(sender)
    return not async_receivers and set(sync_receivers) <= receivers


def _on_the_loop(signal, receivers: set, sender) -> bool:
    """Whether ``signal`` may be sent here: the request has no thread, and every receiver
    is one of Django's tidying ones."""
    thread = _request_thread.get()
    return thread is not None and thread.executor is None and _only(signal, receivers, sender)


class PooledThreadsAsgiHandler(ASGIHandler):
    """ASGIHandler whose requests run their sync parts on a thread borrowed when needed."""

    def __init__(self) -> None:
        super().__init__()
        self.request_threads = RequestThreads()

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        thread = RequestThread(self.request_threads)
        token = _request_thread.set(thread)
        reading = changes.request_began()
        try:
            # A context given an executor hands it back untouched on exit; a task the
            # request left behind that later asks for the request's thread is refused
            # (RuntimeError) rather than sent to another request's thread.
            async with ThreadSensitiveContext(executor=thread):
                await self.handle(scope, receive, send)
        finally:
            changes.request_ended(reading)
            _request_thread.reset(token)
            thread.give_back()

    async def handle(self, scope, receive, send):
        """Django 5.2's ASGIHandler.handle, sending the two signals through _send and
        closing the response through _close."""
        try:
            body_file = await self.read_body(receive)
        except RequestAborted:
            return
        set_script_prefix(get_script_prefix(scope))
        await self._send(signals.request_started, TIDY_ON_START, scope=scope)
        request, error_response = self.create_request(scope, body_file)
        if request is None:
            body_file.close()
            await self.send_response(error_response, send)
            await self._close(error_response)
            return

        async def process_request(request, send):
            response = await self.run_get_response(request)
            try:
                await self.send_response(response, send)
            except asyncio.CancelledError:
                pass  # the client went away during send_response
            return response

        # The disconnect listener goes first: it does not raise unexpected errors that
        # would keep process_request from being cancelled.
        tasks = [
            asyncio.create_task(self.listen_for_disconnect(receive)),
            asyncio.create_task(process_request(request, send)),
        ]
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for task in tasks:
            if task.done():
                try:
                    task.result()
                except RequestAborted:
                    pass  # the client went away
                except AssertionError:
                    body_file.close()
                    raise
            else:
                task.cancel()  # views may handle their cancellation
                try:
                    await task
                except asyncio.CancelledError:
                    pass
        try:
            response = tasks[1].result()
        except asyncio.CancelledError:
            await self._send(signals.request_finished, TIDY_ON_FINISH)
        else:
            await self._close(response)
        body_file.close()

    async def _send(self, signal, tidy: set, **named) -> None:
        if _on_the_loop(signal, tidy, self.__class__):
            signal.send(sender=self.__class__, **named)
        else:
            await signal.asend(sender=self.__class__, **named)

    async def _close(self, response) -> None:
        """response.close(): its resources, then request_finished (sent by close()). On
        the event loop only when its resources are the request's own (its body, files
        it received), which close at once; an iterator's or a file's close may block."""
        sender = getattr(response, "_handler_class", None)
        if _on_the_loop(signals.request_finished, TIDY_ON_FINISH, sender) and all(
            isinstance(getattr(closer, "__self__", None), HttpRequest) for closer in response._resource_closers
        ):
            response.close()
        else:
            await sync_to_async(response.close)()
