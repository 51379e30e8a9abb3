"""The web process as `make run` starts it (the Procfile's uvicorn command), with real
streams from the offline double: many streams in flight on one process, pages still
answering, disconnects and SIGTERM saving what arrived."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import time

import httpx
import pytest

from openrouter.fake import FakeOpenRouter
from tests.support.stack import Stack

pytestmark = pytest.mark.integration

EMAIL, PASSWORD = "streams@example.com", "correct-horse-battery-staple"
# 40 pieces 0.25 s apart: each stream lasts about 10 s.
LONG = "fake/long-stream"


@pytest.fixture
def fake():
    with FakeOpenRouter(port=0, stream_pieces=40, stream_interval=0.25) as double:
        yield double


@pytest.fixture
def stack(tmp_path, fake):
    env = {"GENERATION_MAX_IN_FLIGHT": "1000", "WEB_SHUTDOWN_GRACE": "2", "OPENROUTER_MAX_RETRIES": "0"}
    with Stack(tmp_path, fake=fake, env=env) as stack:
        stack.prepare(users=[(EMAIL, PASSWORD)])
        stack.start_web()
        stack.wait_until_healthy()
        yield stack


def _token(stack) -> str:
    response = httpx.post(stack.url("/api/auth/login"), json={"email": EMAIL, "password": PASSWORD}, timeout=30)
    response.raise_for_status()
    return response.json()["access"]


def _rows(stack) -> list[dict]:
    script = (
        "import json; from generation.models import Generation; "
        "print(json.dumps(list(Generation.objects.values('id', 'status', 'text', 'error').order_by('id'))))"
    )
    return json.loads(stack.manage("shell", "-c", script).stdout.strip().splitlines()[-1])


class Stream:
    """One streamed generation read line by line; ``first_piece`` is set once text arrived."""

    def __init__(self, client: httpx.AsyncClient, token: str, url: str) -> None:
        self.client, self.token, self.url = client, token, url
        self.first_piece = asyncio.Event()
        self.done = False
        self.events: list[str] = []

    async def run(self, *, stop_after_first_piece: bool = False) -> None:
        headers = {"Authorization": f"Bearer {self.token}"}
        body = {"model": LONG, "prompt": "a long answer", "stream": True}
        async with self.client.stream("POST", self.url, json=body, headers=headers) as response:
            assert response.status_code == 200, await response.aread()
            async for line in response.aiter_lines():
                if line.startswith('data: {"text"'):
                    self.first_piece.set()
                    if stop_after_first_piece:
                        return  # leaving the block closes the connection mid-stream
                if line.startswith("event: "):
                    self.events.append(line[7:])
        self.done = "done" in self.events


def test_a_page_answers_while_more_streams_are_in_flight_than_any_thread_pool_holds(stack):
    token, count = _token(stack), 50

    async def scenario():
        limits = httpx.Limits(max_connections=count + 10)
        async with httpx.AsyncClient(timeout=120, limits=limits) as client:
            streams = [Stream(client, token, stack.url("/api/generate/text")) for _ in range(count)]
            tasks = [asyncio.create_task(s.run()) for s in streams]
            await asyncio.wait_for(asyncio.gather(*(s.first_piece.wait() for s in streams)), 90)
            page = await client.get(stack.url("/login"))
            health = await client.get(stack.url("/healthz"))
            finished_before_pages = sum(s.done for s in streams)
            await asyncio.gather(*tasks)
            return streams, page, health, finished_before_pages

    streams, page, health, finished_before_pages = asyncio.run(scenario())

    assert page.status_code == 200 and health.status_code == 200
    assert finished_before_pages == 0  # every stream was still running when the pages answered
    assert all(s.done for s in streams)
    rows = _rows(stack)
    assert len(rows) == count and {row["status"] for row in rows} == {"completed"}


def test_a_client_that_disconnects_mid_stream_gets_its_row_saved_as_partial_and_upstream_closed(stack, fake):
    token = _token(stack)

    async def scenario():
        async with httpx.AsyncClient(timeout=60) as client:
            await Stream(client, token, stack.url("/api/generate/text")).run(stop_after_first_piece=True)

    asyncio.run(scenario())

    # Bounded waits for the server to notice and save; not timing assertions.
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and (not fake.disconnects or _rows(stack)[0]["status"] == "pending"):
        time.sleep(0.2)
    [row] = _rows(stack)
    assert row["status"] == "partial" and row["text"].startswith("word1") and "cut short" in row["error"]
    assert [d.model for d in fake.disconnects] == [LONG]  # the provider saw its stream abandoned


def test_sigterm_during_streams_saves_every_one_and_exits_cleanly(stack, fake):
    token, count = _token(stack), 5

    async def scenario():
        async with httpx.AsyncClient(timeout=60) as client:
            streams = [Stream(client, token, stack.url("/api/generate/text")) for _ in range(count)]
            tasks = [asyncio.create_task(s.run()) for s in streams]
            await asyncio.wait_for(asyncio.gather(*(s.first_piece.wait() for s in streams)), 60)
            web = stack.processes["web"]
            os.killpg(web.pid, signal.SIGTERM)  # what honcho sends on Ctrl-C
            await asyncio.gather(*tasks, return_exceptions=True)
            return web

    web = asyncio.run(scenario())

    try:
        code = web.wait(timeout=30)
    except subprocess.TimeoutExpired:
        pytest.fail("the web process did not stop within 30 s of SIGTERM\n" + stack.log_tail("web"))
    # uvicorn finishes its shutdown, then re-raises the signal it caught (exit status -15).
    assert code in (0, -signal.SIGTERM) and "Finished server process" in stack.log_tail("web"), stack.log_tail("web")
    stack.processes.pop("web")
    rows = _rows(stack)
    assert len(rows) == count
    # Cut by the grace period (2 s of a 10 s stream): what arrived is kept, nothing pending.
    assert {row["status"] for row in rows} == {"partial"}, rows
    assert all(row["text"].startswith("word1") for row in rows)
