"""The double's server and state: start/stop, the request log, spans and disconnects,
fault counters, video jobs and hosted files. See the package docstring for what it serves."""

from __future__ import annotations

import hashlib
import itertools
import os
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import ThreadingHTTPServer
from typing import Any, Generic, NamedTuple, TypeVar

from .handler import API_PREFIX, Handler

T = TypeVar("T")


class ReceivedRequest(NamedTuple):
    """One request the double received. Header names are lower-case; ``path``
    includes the query string; ``body`` is the parsed JSON body or None."""

    method: str
    path: str
    headers: dict[str, str]
    body: Any
    id: int = 0

    @property
    def model(self) -> str | None:
        return self.body.get("model") if isinstance(self.body, dict) else None


class RequestSpan(NamedTuple):
    """When the double started and finished handling one request (monotonic seconds)."""

    id: int
    method: str
    path: str
    model: str | None
    started: float
    ended: float


class Disconnect(NamedTuple):
    """An answer the client abandoned: writing to its connection failed."""

    id: int
    method: str
    path: str
    model: str | None
    chunks_sent: int


class Record(Generic[T]):
    """A thread-safe, list-like record."""

    def __init__(self) -> None:
        self._items: list[T] = []
        self._lock = threading.Lock()

    def append(self, item: T) -> None:
        with self._lock:
            self._items.append(item)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def snapshot(self) -> list[T]:
        """A copy as a plain list."""
        with self._lock:
            return list(self._items)

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)

    def __getitem__(self, index: int) -> T:
        with self._lock:
            return self._items[index]

    def __iter__(self) -> Iterator[T]:
        return iter(self.snapshot())


class RequestLog(Record[ReceivedRequest]):
    """Every request received, in arrival order."""

    def matching(self, method: str | None = None, path: str | None = None) -> list[ReceivedRequest]:
        """Requests with this method and this path (query string ignored when ``path`` has none)."""

        def same_path(item: ReceivedRequest) -> bool:
            return path is None or item.path == path or ("?" not in path and item.path.split("?")[0] == path)

        return [i for i in self.snapshot() if (method is None or i.method == method) and same_path(i)]


@dataclass
class FakeVideoJob:
    """A video job of the double; its status follows from the clock."""

    id: str
    model: str
    created: float
    fault: str | None
    body: dict


class _Server(ThreadingHTTPServer):
    # socketserver's default backlog is 5: far too few for hundreds of concurrent streams.
    request_queue_size = 1024
    daemon_threads = True
    block_on_close = False  # a slow fault must not hold up stop()


def _env_number(name: str, default: float, kind: Callable[[str], Any]) -> Any:
    value = os.environ.get(name, "").strip()
    return kind(value) if value else default


class FakeOpenRouter:
    """The double. ``start()`` serves on a background thread; ``stop()`` ends it.

    ``time_scale`` multiplies every delay the double makes (slow answers, stream
    pacing, Retry-After, video duration, trickling), so tests can run the same
    scenarios fast. ``stream_pieces``/``stream_interval`` shape ``fake/long-stream``.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        api_key_required: bool = True,
        api_key: str | None = None,
        video_duration: float = 3.0,
        time_scale: float = 1.0,
        slow_seconds: float = 30.0,
        retry_after: float = 1.0,
        stream_delay: float = 0.03,
        stream_pieces: int | None = None,
        stream_interval: float | None = None,
        trickle_interval: float = 0.5,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.host = host
        self.port = port
        self.api_key_required = api_key_required
        self.api_key = api_key
        self.video_duration = video_duration
        self.time_scale = time_scale
        self.slow_seconds = slow_seconds
        self.retry_after = retry_after
        self.stream_delay = stream_delay
        self.stream_pieces = (
            stream_pieces if stream_pieces is not None else _env_number("FAKE_OPENROUTER_STREAM_PIECES", 100, int)
        )
        self.stream_interval = (
            stream_interval
            if stream_interval is not None
            else _env_number("FAKE_OPENROUTER_STREAM_INTERVAL", 0.1, float)
        )
        self.trickle_interval = trickle_interval
        self.clock = clock
        self.received = RequestLog()
        self.spans: Record[RequestSpan] = Record()
        self.disconnects: Record[Disconnect] = Record()
        self.jobs: dict[str, FakeVideoJob] = {}
        self.files: dict[str, tuple[bytes, str]] = {}
        self.spent = 0.0
        self._fault_hits: dict[str, int] = {}
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._ids = itertools.count(1)
        self._request_ids = itertools.count(1)

    # -------------------------------------------------------------- lifecycle

    def start(self) -> FakeOpenRouter:
        """Bind the port and serve on a daemon thread. Returns self."""
        self._stopping.clear()
        server = _Server((self.host, self.port), Handler)
        server.fake = self  # type: ignore[attr-defined]
        self._server = server
        self.port = server.server_address[1]
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.02}, name="fake-openrouter", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and release the port; pending slow answers are cut short."""
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def serve_forever(self) -> None:
        """Serve until ``stop()`` is called from another thread (or KeyboardInterrupt)."""
        if self._server is None:
            self.start()
        try:
            while not self._stopping.wait(0.5):
                pass
        finally:
            self.stop()

    def __enter__(self) -> FakeOpenRouter:
        return self.start()

    def __exit__(self, *exc_info: Any) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        """The API base URL clients should use, e.g. ``http://127.0.0.1:8765/api/v1``."""
        host = "127.0.0.1" if self.host in ("", "0.0.0.0") else self.host
        return f"http://{host}:{self.port}{API_PREFIX}"

    def reset(self) -> None:
        """Forget received requests, spans, disconnects, fault counters, jobs and files."""
        self.received.clear()
        self.spans.clear()
        self.disconnects.clear()
        with self._lock:
            self._fault_hits.clear()
            self.jobs.clear()
            self.files.clear()
            self.spent = 0.0

    # -------------------------------------------------------------- records

    def log_request(self, method: str, path: str, headers: dict[str, str], body: Any) -> ReceivedRequest:
        request = ReceivedRequest(method, path, headers, body, next(self._request_ids))
        self.received.append(request)
        return request

    def record_span(self, request: ReceivedRequest, started: float, ended: float) -> None:
        self.spans.append(RequestSpan(request.id, request.method, request.path, request.model, started, ended))

    def record_disconnect(self, request: ReceivedRequest, chunks_sent: int) -> None:
        self.disconnects.append(Disconnect(request.id, request.method, request.path, request.model, chunks_sent))

    def wait_for(self, condition: Callable[[], bool], timeout: float = 5.0) -> bool:
        """Poll ``condition`` until true or ``timeout`` real seconds pass (for tests that
        wait on the server thread noticing something, e.g. a disconnect)."""
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                return False
            time.sleep(0.01)
        return True

    # -------------------------------------------------------------- helpers

    def wait(self, seconds: float) -> None:
        """Sleep ``seconds`` x time_scale, cut short by stop()."""
        if seconds > 0:
            self._stopping.wait(seconds * self.time_scale)

    def fault_fires(self, name: str, count: int | None, key: str) -> bool:
        """Whether a fault with an optional hit budget fires for this request."""
        if count is None:
            return True
        with self._lock:
            hits = self._fault_hits.get(key, 0) + 1
            self._fault_hits[key] = hits
        return hits <= count

    def add_cost(self, cost: float) -> None:
        with self._lock:
            self.spent += cost

    def key_payload(self) -> dict[str, Any]:
        return {
            "data": {
                "label": "fake-openrouter",
                "usage": round(self.spent, 6),
                "limit": None,
                "limit_remaining": None,
                "is_free_tier": False,
                "is_provisioning_key": False,
            }
        }

    def store_file(self, data: bytes, media_type: str) -> str:
        """Keep ``data`` to be served under /files/; returns the file name."""
        name = hashlib.sha256(data).hexdigest()[:24] + ".png"
        with self._lock:
            if len(self.files) > 256:
                self.files.clear()  # a demo server must not grow without bound
            self.files[name] = (data, media_type)
        return name

    def new_job(self, model: str, fault: str | None, body: dict) -> FakeVideoJob:
        job = FakeVideoJob(
            id=f"vid-{next(self._ids):05d}-{uuid.uuid4().hex[:8]}",
            model=model,
            created=self.clock(),
            fault=fault,
            body=body,
        )
        with self._lock:
            self.jobs[job.id] = job
        return job

    def job_state(self, job: FakeVideoJob) -> tuple[str, int]:
        """(status, progress) of a job now."""
        duration = self.video_duration * self.time_scale
        fraction = 1.0 if duration <= 0 else (self.clock() - job.created) / duration
        if job.fault == "never_finish":
            fraction = min(fraction, 0.99) if duration > 0 else 0.5
        if fraction < 0.2:
            return "pending", 0
        if fraction < 1.0:
            return "in_progress", int(fraction * 100)
        return {"fail": "failed", "expire": "expired"}.get(job.fault or "", "completed"), 100
