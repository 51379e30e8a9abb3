"""Fixtures for the provider boundary's tests: the offline double over real HTTP and
clients whose sleeping and clock are observable. No database, no Django settings needed.

``make_client`` and ``client`` give :class:`Clients`: each method is served by the client
production calls it on, text and images by AsyncOpenRouterClient (driven from the test
through :class:`AsyncDriver`), video jobs, the catalogues and the key by
OpenRouterClient.
"""

from __future__ import annotations

import asyncio
import inspect
from typing import Any

import httpx
import pytest

from openrouter.aclient import AsyncOpenRouterClient
from openrouter.client import OpenRouterClient
from openrouter.fake import FakeOpenRouter
from openrouter.pools import ProviderHttp
from openrouter.urlguard import IPAddress, is_public


def production_async_http(headers: dict | None = None) -> ProviderHttp:
    """The connections production's async client uses (openrouter.pools), with
    ``headers`` on every request (faults for the double)."""
    return ProviderHttp(headers=headers)


def public_or_loopback(ip: IPAddress) -> bool:
    """The URL guard's rule for these tests only: public addresses, and loopback, where
    the tests' own servers (a second double, a redirecting server) listen beside the one
    the client calls its provider. Clients built from settings never widen the rule."""
    return is_public(ip) or ip.is_loopback


class ManualClock:
    """A clock that moves only when told: ``sleep`` records the delay and advances it."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def advance(self, seconds: float) -> None:
        self.now += seconds


class AsyncDriver:
    """An AsyncOpenRouterClient seen from synchronous test code: every coroutine method
    runs to completion on the test's own event loop; ``chat_stream`` gives an iterator
    whose ``close()`` is the async stream's ``aclose()``."""

    def __init__(self, client: AsyncOpenRouterClient, loop: asyncio.AbstractEventLoop) -> None:
        self.aclient = client
        self.loop = loop

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self.aclient, name)
        if name == "chat_stream":
            return lambda **kw: _DrivenStream(self.loop.run_until_complete(attr(**kw)), self.loop)
        if inspect.iscoroutinefunction(attr):
            return lambda *a, **kw: self.loop.run_until_complete(attr(*a, **kw))
        return attr


class _DrivenStream:
    def __init__(self, stream, loop) -> None:
        self.stream, self.loop = stream, loop

    def __iter__(self):
        return self

    def __next__(self):
        try:
            return self.loop.run_until_complete(self.stream.__anext__())
        except StopAsyncIteration:
            raise StopIteration from None

    def close(self) -> None:
        self.loop.run_until_complete(self.stream.aclose())


@pytest.fixture
def fake_clock():
    """The double's clock (drives video jobs)."""
    return ManualClock()


@pytest.fixture
def fake(fake_clock):
    """The double on a free loopback port: 10 s video jobs on a manual clock, no stream
    pacing, slow answers of 2 s (time_scale 0.1 of slow_seconds=20)."""
    with FakeOpenRouter(
        port=0,
        video_duration=10.0,
        time_scale=0.1,
        slow_seconds=20.0,
        stream_delay=0.0,
        clock=fake_clock,
        retry_after=10.0,
    ) as server:
        yield server


@pytest.fixture
def client_clock():
    """The client's clock: backoff sleeps are recorded, never waited."""
    return ManualClock()


@pytest.fixture
def event_loop_for_test():
    loop = asyncio.new_event_loop()
    yield loop
    loop.close()


class Clients:
    """Both clients over one configuration; an attribute comes from the client that has it
    (the sync one first, for what both have, such as ``config``)."""

    def __init__(self, sync: OpenRouterClient, driver: AsyncDriver) -> None:
        self.sync, self.driver = sync, driver

    def __getattr__(self, name: str) -> Any:
        if hasattr(self.sync, name):
            return getattr(self.sync, name)
        return getattr(self.driver, name)


@pytest.fixture
def make_client(fake, client_clock, event_loop_for_test):
    """Build clients for the double; keyword arguments override the test defaults.
    ``headers`` are sent with every request (e.g. ``fault_headers(...)``);
    ``real_time=True`` keeps the real clock and sleep."""
    made: list[Clients] = []

    def make(*, headers: dict[str, str] | None = None, real_time: bool = False, **overrides) -> Clients:
        options: dict[str, Any] = dict(
            base_url=fake.base_url,
            api_key="test-key",
            app_url="https://studio.example",
            app_title="Studio Tests",
            connect_timeout=2.0,
            read_timeout=5.0,
            max_retries=3,
            retry_budget=30.0,
            backoff_base=0.1,
            backoff_cap=1.0,
            allow=public_or_loopback,
        )
        if not real_time:
            options.update(clock=client_clock, rand=lambda: 0.5)
        options.update(overrides)
        sync_sleep = options.pop("sleep", None if real_time else client_clock.sleep)

        async def async_sleep(seconds: float) -> None:
            sync_sleep(seconds)

        sleeps: dict[str, Any] = {"sleep": sync_sleep} if sync_sleep else {}
        async_sleeps: dict[str, Any] = {"sleep": async_sleep} if sync_sleep else {}
        client = Clients(
            OpenRouterClient(http=httpx.Client(headers=headers), **sleeps, **options),
            AsyncDriver(
                AsyncOpenRouterClient(http=production_async_http(headers), **async_sleeps, **options),
                event_loop_for_test,
            ),
        )
        made.append(client)
        return client

    yield make
    for client in made:
        client.sync.close()
        event_loop_for_test.run_until_complete(client.driver.aclient.aclose())


@pytest.fixture
def client(make_client):
    return make_client()


def fault_headers(fault: str, **headers: str) -> dict[str, str]:
    """Headers that ask the double for ``fault`` on every request."""
    return {"X-Fake-Fault": fault, **headers}


USER_HELLO = [{"role": "user", "content": "hello there"}]


def content_url(client, job_id: str, index: int = 0) -> str:
    """Where the double serves a completed job's ``index``-th video."""
    return f"{client.base_url}/videos/{job_id}/content?index={index}"
