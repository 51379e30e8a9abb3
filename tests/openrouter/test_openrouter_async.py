"""What the async client does beyond sending: concurrent chat-route images, closing a
stream early, and the double's long streams and records that show them."""

import asyncio

import pytest

from openrouter.aclient import AsyncOpenRouterClient
from openrouter.errors import ProviderRateLimited
from openrouter.fake import FakeOpenRouter
from openrouter.types import StreamEnd

from .conftest import USER_HELLO, ManualClock, production_async_http


def _chat_spans(fake):
    return sorted((s for s in fake.spans if s.path == "/api/v1/chat/completions"), key=lambda s: s.started)


def test_async_chat_route_images_are_requested_concurrently():
    # Each answer is held 0.3 s (slow fault), so overlapping requests are visible in the spans.
    with FakeOpenRouter(slow_seconds=0.3) as fake:

        async def generate():
            client = AsyncOpenRouterClient(
                base_url=fake.base_url, api_key="k", http=production_async_http({"X-Fake-Fault": "slow"})
            )
            try:
                return await client.generate_image(model="google/gemini-2.5-flash-image", prompt="cats", n=3)
            finally:
                await client.aclose()

        result = asyncio.run(generate())
        assert fake.wait_for(lambda: len(_chat_spans(fake)) == 3)
        spans = _chat_spans(fake)

    assert len(result.images) == 3 and result.usage.completion_tokens == 3 * 1290
    # every request started before any of them ended: all three were in flight together
    assert max(s.started for s in spans) < min(s.ended for s in spans)


def test_async_stream_aclose_closes_the_upstream_connection():
    with FakeOpenRouter(stream_interval=0.02) as fake:

        async def read_three_then_close():
            client = AsyncOpenRouterClient(base_url=fake.base_url, api_key="k")
            try:
                stream = await client.chat_stream(model="fake/long-stream:pieces=500", messages=USER_HELLO)
                seen = []
                async for item in stream:
                    seen.append(item.text)
                    if len(seen) == 3:
                        break
                await stream.aclose()
                return seen
            finally:
                await client.aclose()

        seen = asyncio.run(read_three_then_close())
        assert fake.wait_for(lambda: len(fake.disconnects) == 1)
        [gone] = fake.disconnects
        [request] = fake.received

    assert seen == ["word1 ", "word2 ", "word3 "]
    assert (gone.id, gone.model, gone.path) == (request.id, "fake/long-stream:pieces=500", "/api/v1/chat/completions")
    assert 3 <= gone.chunks_sent < 500


def test_a_stream_read_to_the_end_is_no_disconnect(client, fake):
    items = list(client.chat_stream(model="fake/long-stream:pieces=5:interval=0", messages=USER_HELLO))
    assert [i.text for i in items[:-1]] == ["word1 ", "word2 ", "word3 ", "word4 ", "word5"]
    assert isinstance(items[-1], StreamEnd) and items[-1].usage.completion_tokens == 5
    assert fake.wait_for(lambda: len(fake.spans) == 1) and len(fake.disconnects) == 0


def _stream_texts(base_url: str, model: str, headers: dict[str, str] | None = None) -> list[str]:
    """The texts of every item of one streamed answer from the double at ``base_url``."""

    async def read():
        client = AsyncOpenRouterClient(base_url=base_url, api_key="k", http=production_async_http(headers))
        try:
            return [
                getattr(item, "text", "") async for item in await client.chat_stream(model=model, messages=USER_HELLO)
            ]
        finally:
            await client.aclose()

    return asyncio.run(read())


def test_long_stream_pieces_and_interval_come_from_constructor_env_and_request(monkeypatch, make_client):
    monkeypatch.setenv("FAKE_OPENROUTER_STREAM_PIECES", "7")
    monkeypatch.setenv("FAKE_OPENROUTER_STREAM_INTERVAL", "0")
    with FakeOpenRouter() as from_env, FakeOpenRouter(stream_pieces=3, stream_interval=0) as from_args:
        assert (from_env.stream_pieces, from_env.stream_interval) == (7, 0.0)
        env_items = _stream_texts(from_env.base_url, "fake/long-stream")
        arg_items = _stream_texts(from_args.base_url, "fake/long-stream")
        header_items = _stream_texts(from_args.base_url, "fake/long-stream", {"X-Fake-Stream-Pieces": "2"})
        whole = make_client(base_url=from_args.base_url).chat(model="fake/long-stream:pieces=4", messages=USER_HELLO)
    assert (len(env_items), len(arg_items), len(header_items)) == (7 + 1, 3 + 1, 2 + 1)
    assert whole.text == "word1 word2 word3 word4"


def test_long_stream_paces_its_pieces():
    # 4 pieces 0.05 s apart take at least 0.15 s between the first and the last.
    with FakeOpenRouter() as fake:
        _stream_texts(fake.base_url, "fake/long-stream:pieces=4:interval=0.05")
        assert fake.wait_for(lambda: len(fake.spans) == 1)
        [span] = fake.spans
    assert span.ended - span.started >= 0.15


def test_the_async_client_retries_with_the_shared_policy(fake):
    clock = ManualClock()

    async def sleep(seconds):
        clock.sleep(seconds)

    async def call():
        client = AsyncOpenRouterClient(
            base_url=fake.base_url,
            api_key="k",
            backoff_base=0.1,
            backoff_cap=1.0,
            rand=lambda: 0.5,
            clock=clock,
            sleep=sleep,
            http=production_async_http({"X-Fake-Fault": "rate_limit", "X-Fake-Retry-After": "0"}),
        )
        try:
            await client.chat(model="fake/echo", messages=USER_HELLO)
        finally:
            await client.aclose()

    with pytest.raises(ProviderRateLimited) as error:
        asyncio.run(call())
    assert error.value.attempts == 4 and clock.sleeps == pytest.approx([0.075, 0.15, 0.3])
    assert len(fake.received) == 4


def test_the_double_accepts_a_large_backlog(fake):
    assert fake._server.request_queue_size >= 1024
