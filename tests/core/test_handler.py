"""core.handler: a request takes a thread from the pool only when it runs sync code, and
the request signals still reach every receiver."""

from __future__ import annotations

import asyncio
import json
import threading

import pytest
from asgiref.sync import async_to_sync
from django.core import signals

from core.handler import PooledThreadsAsgiHandler, RequestThreads
from tests.support.asgi import http_scope

pytestmark = pytest.mark.django_db(transaction=True)


def serve(handler, method: str, path: str, body: bytes = b"", headers=()) -> tuple[int, bytes]:
    sent: list[dict] = []

    async def run():
        messages = [{"type": "http.request", "body": body, "more_body": False}]

        async def receive():
            if messages:
                return messages.pop(0)
            await asyncio.Event().wait()  # the client stays

        async def send(message):
            sent.append(message)

        scope = http_scope(method, path, [(b"content-length", str(len(body)).encode()), *headers])
        await handler(scope, receive, send)

    async_to_sync(run)()
    status = next(message["status"] for message in sent if message["type"] == "http.response.start")
    return status, b"".join(message.get("body", b"") for message in sent if message["type"] == "http.response.body")


@pytest.fixture
def borrowed(monkeypatch):
    """Every executor a request borrowed."""
    taken: list = []
    real = RequestThreads.borrow

    def borrow(self):
        taken.append(real(self))
        return taken[-1]

    monkeypatch.setattr(RequestThreads, "borrow", borrow)
    return taken


def test_an_api_request_that_runs_no_sync_code_takes_no_thread(borrowed, settings):
    # Throttles counting in this process's memory, as in the embedded setup (on a shared
    # cache they are network calls, made on the request's thread).
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    handler = PooledThreadsAsgiHandler()
    body = json.dumps({"model": "openai/gpt-4o-mini", "messages": []}).encode()

    status, answer = serve(handler, "POST", "/v1/chat/completions", body, [(b"content-type", b"application/json")])

    assert status == 401 and b"error" in answer
    assert borrowed == []


def test_a_sync_view_runs_on_a_borrowed_thread_given_back_after(borrowed):
    handler = PooledThreadsAsgiHandler()

    for _ in range(2):
        status, _ = serve(handler, "GET", "/healthz")
        assert status == 200

    assert len(borrowed) == 2 and borrowed[0] is borrowed[1]  # the second request took the idle one
    assert handler.request_threads._idle == [borrowed[0]]


def test_other_receivers_of_the_request_signals_get_them_on_the_request_thread(borrowed):
    heard: list[tuple[str, str]] = []

    def started(**kwargs):
        heard.append(("started", threading.current_thread().name))

    def finished(**kwargs):
        heard.append(("finished", threading.current_thread().name))

    signals.request_started.connect(started)
    signals.request_finished.connect(finished)
    try:
        status, _ = serve(PooledThreadsAsgiHandler(), "POST", "/v1/chat/completions", b"{}")
    finally:
        signals.request_started.disconnect(started)
        signals.request_finished.disconnect(finished)

    assert status == 401
    assert [what for what, _ in heard] == ["started", "finished"]
    assert all(name.startswith("request") for _, name in heard), heard
    assert len(borrowed) == 1
