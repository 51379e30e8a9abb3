"""The async client's connections: one aiohttp session (openrouter.pools)."""

from __future__ import annotations

import asyncio
import socket
import threading

import pytest

from openrouter.aclient import AsyncOpenRouterClient
from openrouter.errors import ProviderTimeout, ProviderUnavailable
from openrouter.pools import ProviderHttp

from .conftest import USER_HELLO


def test_concurrent_requests_share_one_pool_and_are_all_answered(fake):
    http = ProviderHttp()

    async def main():
        client = AsyncOpenRouterClient(http=http, base_url=fake.base_url, api_key="test-key", max_retries=0)
        try:
            first = await asyncio.gather(
                *(
                    client.chat(model="fake/echo", messages=[{"role": "user", "content": f"hello {i}"}])
                    for i in range(8)
                )
            )
            again = await client.chat(model="fake/echo", messages=[{"role": "user", "content": "again"}])
            kept = sum(len(idle) for idle in http._session_now().connector._conns.values())  # aiohttp's idle pool
            return [result.text for result in first], again.text, kept
        finally:
            await client.aclose()

    texts, again, kept = asyncio.run(main())
    assert texts == [f"hello {i}" for i in range(8)] and again == "again"
    assert 1 <= kept <= 8  # the connections went back to one pool, kept for the next request
    assert http._session is None  # closed with its client


def test_answers_come_back_whole_and_streamed_through_the_transport(fake):
    async def main():
        client = AsyncOpenRouterClient(base_url=fake.base_url, api_key="test-key", max_retries=0)
        try:
            whole = await client.chat(model="fake/echo", messages=USER_HELLO)
            stream = await client.chat_stream(model="fake/echo", messages=USER_HELLO)
            pieces = [item async for item in stream]
            return whole, pieces
        finally:
            await client.aclose()

    whole, pieces = asyncio.run(main())
    assert whole.text == "hello there"
    assert "".join(getattr(piece, "text", "") for piece in pieces[:-1]) == "hello there"
    assert pieces[-1].finish_reason == "stop"


def _server(behaviour):
    """A TCP server on 127.0.0.1 that runs ``behaviour(connection)`` for each client."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()

    def serve():
        while True:
            try:
                connection, _ = listener.accept()
            except OSError:
                return
            threading.Thread(target=behaviour, args=(connection,), daemon=True).start()

    threading.Thread(target=serve, daemon=True).start()
    return listener, f"http://127.0.0.1:{listener.getsockname()[1]}/api/v1"


def _ask(base_url: str, **options):
    async def main():
        client = AsyncOpenRouterClient(base_url=base_url, api_key="k", max_retries=0, **options)
        try:
            return await client.chat(model="fake/echo", messages=USER_HELLO)
        finally:
            await client.aclose()

    return asyncio.run(main())


def test_a_connection_dropped_before_the_answer_is_a_provider_failure_not_a_timeout():
    def hang_up(connection):
        connection.recv(65536)
        connection.close()

    listener, url = _server(hang_up)
    try:
        with pytest.raises(ProviderUnavailable) as raised:
            _ask(url)
        assert not isinstance(raised.value, ProviderTimeout)
    finally:
        listener.close()


def test_a_silent_server_is_a_timeout_that_a_post_does_not_send_again():
    def say_nothing(connection):
        connection.recv(65536)
        threading.Event().wait(5)
        connection.close()

    listener, url = _server(say_nothing)
    try:
        with pytest.raises(ProviderTimeout) as raised:
            _ask(url, read_timeout=0.3)
        assert raised.value.retryable is False  # the POST may be running at the provider
    finally:
        listener.close()


def test_nothing_listening_is_a_failure_to_connect():
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    url = f"http://127.0.0.1:{probe.getsockname()[1]}/api/v1"
    probe.close()
    with pytest.raises(ProviderUnavailable) as raised:
        _ask(url)
    assert "reach the provider" in str(raised.value)


def test_a_proxy_in_the_environment_is_honoured(monkeypatch):
    """The provider is reached through the proxy HTTPS_PROXY names (a server here that
    records the request line it is sent and answers as the provider would)."""
    seen: list[bytes] = []
    body = b'{"id":"x","model":"fake/echo","choices":[{"message":{"role":"assistant","content":"by proxy"},"finish_reason":"stop"}]}'

    def proxy(connection):
        seen.append(connection.recv(65536).split(b"\r\n", 1)[0])
        connection.sendall(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
            + str(len(body)).encode()
            + b"\r\nConnection: close\r\n\r\n"
            + body
        )
        connection.close()

    listener, proxy_url = _server(proxy)
    try:
        for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY", "no_proxy"):
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("http_proxy", proxy_url.removesuffix("/api/v1"))
        result = _ask("http://provider.example/api/v1")
    finally:
        listener.close()
    assert result.text == "by proxy"
    assert seen == [b"POST http://provider.example/api/v1/chat/completions HTTP/1.1"]
