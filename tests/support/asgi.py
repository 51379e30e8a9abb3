"""Studio's ASGI application in tests and benchmarks: served by uvicorn in a background
thread of the test process, for browser tests (the same server `make run` uses, on the
test database); started as a server starts it (the lifespan protocol); and the scope of
an HTTP request, for calling it directly."""

from __future__ import annotations

import asyncio
import socket
import threading
import time

import uvicorn


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class AsgiTestServer:
    """``with AsgiTestServer() as server: server.url``; stops when the block ends."""

    def __init__(self) -> None:
        from core.asgi import application

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(
            application,
            host="127.0.0.1",
            port=self.port,
            log_level="warning",
            lifespan="on",
            timeout_graceful_shutdown=2,
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name="asgi-test-server", daemon=True)

    def __enter__(self) -> AsgiTestServer:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the ASGI test server did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def http_scope(method: str, path: str, headers=(), *, host: str = "testserver", port: int = 80) -> dict:
    """The ASGI scope of an HTTP/1.1 request, for calling an ASGI application directly."""
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", host.encode()), *headers],
        "client": ("127.0.0.1", 50000),
        "server": (host, port),
    }


async def start_up(application, timeout: float = 60) -> list[dict]:
    """What an ASGI server does before it takes requests (uvicorn's ``--lifespan on``):
    send ``lifespan.startup`` and wait for the answer; returns the messages the
    application sent. No shutdown follows (Studio's closes the database-step pool)."""
    inbox: asyncio.Queue = asyncio.Queue()
    sent: list[dict] = []
    answered = asyncio.Event()

    async def send(message: dict) -> None:
        sent.append(message)
        answered.set()

    await inbox.put({"type": "lifespan.startup"})
    task = asyncio.create_task(application({"type": "lifespan", "asgi": {"version": "3.0"}}, inbox.get, send))
    try:
        await asyncio.wait_for(answered.wait(), timeout)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    return sent
