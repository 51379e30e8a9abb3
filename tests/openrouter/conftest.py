"""Fixtures for the provider boundary's tests: the offline double over real HTTP and a
client whose sleeping and clock are observable. No database, no Django settings needed."""

from __future__ import annotations

import pytest
import requests

from openrouter.client import OpenRouterClient
from openrouter.fake import FakeOpenRouter


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


@pytest.fixture
def fake_clock():
    """The double's clock (drives video jobs)."""
    return ManualClock()


@pytest.fixture
def fake(fake_clock):
    """The double on a free loopback port: 10 s video jobs on a manual clock, no stream
    pacing, slow answers of 2 s (time_scale 0.1 of slow_seconds=20)."""
    with FakeOpenRouter(
        port=0, video_duration=10.0, time_scale=0.1, slow_seconds=20.0, stream_delay=0.0, clock=fake_clock,
        retry_after=10.0,
    ) as server:
        yield server


@pytest.fixture
def client_clock():
    """The client's clock: backoff sleeps are recorded, never waited."""
    return ManualClock()


@pytest.fixture
def make_client(fake, client_clock):
    """Build clients for the double; keyword arguments override the test defaults."""

    def make(**overrides) -> OpenRouterClient:
        options = dict(
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
            sleep=client_clock.sleep,
            clock=client_clock,
            rand=lambda: 0.5,
        )
        options.update(overrides)
        return OpenRouterClient(**options)

    return make


@pytest.fixture
def client(make_client):
    return make_client()


def fault_session(fault: str, **headers: str) -> requests.Session:
    """A session whose every request asks the double for ``fault``."""
    session = requests.Session()
    session.headers["X-Fake-Fault"] = fault
    session.headers.update(headers)
    return session


USER_HELLO = [{"role": "user", "content": "hello there"}]
