"""An offline OpenRouter double: a real HTTP server speaking the provider's wire formats.

Used by the test suite and by demo mode (``python manage.py run_fake_openrouter``).
Built on the standard library only. Everything under ``/api/v1`` needs an
``Authorization: Bearer <key>`` header (any non-empty key, or exactly ``api_key``
when one is given), like the real API: without it the answer is 401.

Endpoints (prefix ``/api/v1``)
------------------------------
``POST /chat/completions``   text, whole or streamed (SSE, word by word, with
                             ``: OPENROUTER PROCESSING`` keep-alive comments); with
                             ``modalities`` containing ``image``, images as data URLs
``POST /images``, ``POST /images/generations``
                             image-only models: ``b64_json`` items (FLUX: hosted URLs)
``POST /videos``             202 + job; ``GET /videos/{id}`` polls it;
                             ``GET /videos/{id}/content?index=0`` the MP4 bytes
``GET /models[?output_modalities=...]``, ``GET /images/models``, ``GET /videos/models``,
``GET /key``
``GET /files/{name}``        (no prefix, no key) hosted images handed out as URLs

Images are real PNGs whose pixel size follows the request (chat route: aspect
ratio and image_size, 1K = 1024 px on the long side; images route: ``size``
exactly, else aspect ratio and resolution) and whose colours follow the prompt.
Video jobs go pending -> in_progress -> completed over ``video_duration`` seconds
(times ``time_scale``); the content is a small bundled MP4.

Fault injection
---------------
A fault is chosen per request by the header ``X-Fake-Fault: <name>`` or by the
model name: ``fake/fault-<name>`` (behaves like a permissive model of the
endpoint's kind) or any model with the suffix ``:fault=<name>`` (e.g.
``openai/gpt-4o-mini:fault=rate_limit``). ``<name>*N`` or the header
``X-Fake-Fault-Count: N`` makes the fault hit only the first N identical requests
(same method, path and body), so retries then succeed. Faults:

=================  ==========================================================
``rate_limit``     429 with ``Retry-After`` (``retry_after`` x time_scale
                   seconds; header ``X-Fake-Retry-After`` sets it verbatim, and
                   adds it to the other error faults below too)
``server_error``   500
``bad_gateway``    502
``unavailable``    503
``request_timeout`` 408
``bad_request``    400
``auth``           401 (as for a wrong key)
``out_of_credits`` 402
``moderation``     403 with ``metadata.reasons``
``not_found``      404
``slow``           answers normally after ``slow_seconds`` x time_scale (trips timeouts)
``malformed``      200 whose body is not JSON
``disconnect``     closes the connection without answering
``drop_stream``    sends part of the body, then drops the connection (streams:
                   after the first pieces)
``truncated``      the body ends early but cleanly (streams: no final chunk, no
                   ``[DONE]``; JSON: cut in half, with a matching Content-Length)
``stream_error``   streams: an error event mid-stream; otherwise 200 with only an
                   ``error`` object
``chunked``        the body is sent chunked, without Content-Length
=================  ==========================================================

Per-job faults, chosen the same way on ``POST /videos``: ``fail`` (ends
``failed``), ``never_finish`` (stays ``in_progress``), ``expire`` (ends
``expired``), ``no_urls`` (``completed`` without ``unsigned_urls``).
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import logging
import re
import socket
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Iterable, Iterator, NamedTuple
from urllib.parse import parse_qs, urlsplit

from . import fake_catalogue, fake_media
from .fake_catalogue import FakeModel

logger = logging.getLogger(__name__)

API_PREFIX = "/api/v1"
REQUEST_FAULTS = {
    "rate_limit": (429, "Rate limit exceeded: too many requests."),
    "server_error": (500, "Internal server error at the upstream provider."),
    "bad_gateway": (502, "The upstream provider returned an invalid response."),
    "unavailable": (503, "No provider is available for this model right now."),
    "request_timeout": (408, "The upstream provider timed out."),
    "bad_request": (400, "Invalid request parameters."),
    "auth": (401, "User not found."),
    "out_of_credits": (402, "Insufficient credits. Add more using https://openrouter.ai/credits"),
    "moderation": (403, "Your input was flagged by content moderation."),
    "not_found": (404, "Not found."),
}
BEHAVIOUR_FAULTS = {"slow", "malformed", "disconnect", "drop_stream", "truncated", "stream_error", "chunked"}
JOB_FAULTS = {"fail", "never_finish", "expire", "no_urls"}
ALL_FAULTS = set(REQUEST_FAULTS) | BEHAVIOUR_FAULTS | JOB_FAULTS
# Chunks a dropped stream sends before the connection goes (keep-alive + two pieces).
DROP_AFTER_CHUNKS = 3
# Streams get a mid-stream error after this many pieces.
STREAM_ERROR_AFTER = 3
_FAULT_SUFFIX = re.compile(r":fault=([a-z_]+(?:\*\d+)?)$")


class ReceivedRequest(NamedTuple):
    """One request the double received. Header names are lower-case; ``path``
    includes the query string; ``body`` is the parsed JSON body or None."""

    method: str
    path: str
    headers: dict[str, str]
    body: Any


class RequestLog:
    """A thread-safe, list-like record of every request received."""

    def __init__(self) -> None:
        self._items: list[ReceivedRequest] = []
        self._lock = threading.Lock()

    def append(self, item: ReceivedRequest) -> None:
        with self._lock:
            self._items.append(item)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def snapshot(self) -> list[ReceivedRequest]:
        """A copy of the log as a plain list."""
        with self._lock:
            return list(self._items)

    def matching(self, method: str | None = None, path: str | None = None) -> list[ReceivedRequest]:
        """Requests with this method and this path (query string ignored when ``path`` has none)."""
        def same_path(item: ReceivedRequest) -> bool:
            return path is None or item.path == path or ("?" not in path and item.path.split("?")[0] == path)

        return [i for i in self.snapshot() if (method is None or i.method == method) and same_path(i)]

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)

    def __getitem__(self, index: int) -> ReceivedRequest:
        with self._lock:
            return self._items[index]

    def __iter__(self) -> Iterator[ReceivedRequest]:
        return iter(self.snapshot())


@dataclass
class FakeVideoJob:
    """A video job of the double; its status follows from the clock."""

    id: str
    model: str
    created: float
    fault: str | None
    body: dict


@dataclass
class _Reply:
    status: int
    body: bytes | Iterable[bytes] = b""
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)


def _json_reply(status: int, payload: Any, headers: dict[str, str] | None = None) -> _Reply:
    return _Reply(status, json.dumps(payload).encode("utf-8"), headers=headers or {})


def _error_reply(status: int, message: str, metadata: dict | None = None, headers: dict | None = None) -> _Reply:
    error: dict[str, Any] = {"code": status, "message": message}
    if metadata:
        error["metadata"] = metadata
    return _json_reply(status, {"error": error}, headers)


class _BadRequest(Exception):
    """Raised inside handlers to answer 400 with the provider's error shape."""


class FakeOpenRouter:
    """The double. ``start()`` serves on a background thread; ``stop()`` ends it.

    ``time_scale`` multiplies every delay the double makes (slow answers, stream
    pacing, Retry-After, video duration), so tests can run the same scenarios fast.
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
        self.clock = clock
        self.received = RequestLog()
        self.jobs: dict[str, FakeVideoJob] = {}
        self.files: dict[str, tuple[bytes, str]] = {}
        self.spent = 0.0
        self._fault_hits: dict[str, int] = {}
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._ids = itertools.count(1)

    # -------------------------------------------------------------- lifecycle

    def start(self) -> "FakeOpenRouter":
        """Bind the port and serve on a daemon thread. Returns self."""
        self._stopping.clear()
        server = ThreadingHTTPServer((self.host, self.port), _Handler)
        server.daemon_threads = True
        server.block_on_close = False  # a slow fault must not hold up stop()
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

    def __enter__(self) -> "FakeOpenRouter":
        return self.start()

    def __exit__(self, *exc_info: Any) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        """The API base URL clients should use, e.g. ``http://127.0.0.1:8765/api/v1``."""
        host = "127.0.0.1" if self.host in ("", "0.0.0.0") else self.host
        return f"http://{host}:{self.port}{API_PREFIX}"

    def reset(self) -> None:
        """Forget received requests, fault counters, jobs and files."""
        self.received.clear()
        with self._lock:
            self._fault_hits.clear()
            self.jobs.clear()
            self.files.clear()
            self.spent = 0.0

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
            model=model, created=self.clock(), fault=fault, body=body,
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


class _Handler(BaseHTTPRequestHandler):
    """Routes one request of the double. State lives on ``self.server.fake``."""

    protocol_version = "HTTP/1.1"
    server_version = "FakeOpenRouter/1.0"
    timeout = 120  # idle keep-alive connections end eventually

    # ------------------------------------------------------------ plumbing

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in separate writes; without NODELAY, Nagle's algorithm and
        # the client's delayed ACK add ~40 ms to every answer.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    @property
    def fake(self) -> FakeOpenRouter:
        return self.server.fake  # type: ignore[attr-defined]

    def log_message(self, format: str, *args: Any) -> None:
        logger.info("%s %s", self.address_string(), format % args)

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_PUT(self) -> None:
        self._handle("PUT")

    def do_DELETE(self) -> None:
        self._handle("DELETE")

    def _handle(self, method: str) -> None:
        try:
            self._dispatch(method)
        except (BrokenPipeError, ConnectionResetError, socket.timeout):
            self.close_connection = True  # the client went away (e.g. its timeout fired)

    def _dispatch(self, method: str) -> None:
        raw = self._read_body()
        body, body_error = _parse_json(raw)
        self.fake.received.append(
            ReceivedRequest(method, self.path, {k.lower(): v for k, v in self.headers.items()}, body)
        )
        path = urlsplit(self.path).path
        if method == "GET" and path.startswith("/files/"):
            return self._send(self._file(path[len("/files/"):]), None)
        if not path.startswith(API_PREFIX + "/"):
            return self._send(_error_reply(404, f"No route for {path}"), None)
        if not self._authorised():
            return self._send(_error_reply(401, "No auth credentials found"), None)
        if body_error:
            return self._send(_error_reply(400, "The request body is not valid JSON."), None)
        try:
            fault = self._fault(method, raw, body)
        except _BadRequest as exc:
            return self._send(_error_reply(400, str(exc)), None)
        reply = self._fault_reply(fault)
        if reply is None:
            if fault == "slow":
                self.fake.wait(self.fake.slow_seconds)
            if fault == "disconnect":
                self.close_connection = True
                return
            reply = self._route(method, path[len(API_PREFIX):], body, fault)
        self._send(reply, fault)

    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _authorised(self) -> bool:
        if not self.fake.api_key_required:
            return True
        header = self.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return False
        return self.fake.api_key is None or token.strip() == self.fake.api_key

    def _api_base(self) -> str:
        host = self.headers.get("Host") or f"127.0.0.1:{self.fake.port}"
        return f"http://{host}{API_PREFIX}"

    # --------------------------------------------------------------- faults

    def _fault(self, method: str, raw: bytes, body: Any) -> str | None:
        """The fault chosen for this request (None when none or its count is used up)."""
        spec = self.headers.get("X-Fake-Fault") or _model_fault(body)
        if not spec:
            return None
        name, _, count_text = spec.strip().partition("*")
        if name not in ALL_FAULTS:
            raise _BadRequest(f"Unknown fake fault {name!r}; known: {', '.join(sorted(ALL_FAULTS))}")
        count_text = self.headers.get("X-Fake-Fault-Count") or count_text
        count = int(count_text) if count_text.strip().isdigit() else None
        key = hashlib.sha256(f"{name}|{method}|{self.path}|".encode() + raw).hexdigest()
        return name if self.fake.fault_fires(name, count, key) else None

    def _fault_reply(self, fault: str | None) -> _Reply | None:
        if fault in REQUEST_FAULTS:
            status, message = REQUEST_FAULTS[fault]
            headers, metadata = {}, None
            if fault == "rate_limit":
                headers["Retry-After"] = self.headers.get("X-Fake-Retry-After") or _seconds_text(
                    self.fake.retry_after * self.fake.time_scale
                )
            elif self.headers.get("X-Fake-Retry-After"):
                headers["Retry-After"] = self.headers["X-Fake-Retry-After"]
            if fault == "moderation":
                metadata = {
                    "reasons": ["violence", "harassment"],
                    "flagged_input": "…",
                    "provider_name": "fake",
                    "model_slug": "fake/moderation",
                }
            return _error_reply(status, message, metadata, headers)
        if fault == "malformed":
            return _Reply(200, b'{"id": "gen-broken", "choices": [ this is not JSON')
        return None

    # --------------------------------------------------------------- routing

    def _route(self, method: str, path: str, body: Any, fault: str | None) -> _Reply:
        query = parse_qs(urlsplit(self.path).query)
        routes: list[tuple[str, str, Callable[..., _Reply]]] = [
            ("POST", r"/chat/completions", lambda: self._chat(body, fault)),
            ("POST", r"/images(?:/generations)?", lambda: self._images(body)),
            ("POST", r"/videos", lambda: self._video_submit(body, fault)),
            ("GET", r"/videos/models", lambda: _json_reply(200, fake_catalogue.video_models_payload())),
            ("GET", r"/videos/(?P<id>[^/]+)", lambda id: self._video_poll(id)),
            ("GET", r"/videos/(?P<id>[^/]+)/content", lambda id: self._video_content(id, query)),
            ("GET", r"/models", lambda: _json_reply(
                200, fake_catalogue.models_payload((query.get("output_modalities") or [None])[0]))),
            ("GET", r"/images/models", lambda: _json_reply(200, fake_catalogue.image_models_payload())),
            ("GET", r"/key", lambda: self._key()),
        ]
        path_matched = False
        for route_method, pattern, handler in routes:
            match = re.fullmatch(pattern, path)
            if not match:
                continue
            path_matched = True
            if route_method == method:
                try:
                    return handler(**match.groupdict())
                except _BadRequest as exc:
                    return _error_reply(400, str(exc))
        if path_matched:
            return _error_reply(405, f"Method {method} not allowed on {path}")
        return _error_reply(404, f"No route for {API_PREFIX}{path}")

    # ------------------------------------------------------------------ chat

    def _chat(self, body: Any, fault: str | None) -> _Reply:
        body = _require_object(body)
        model_id, model = _lookup(body.get("model"), "chat-image" if _wants_image(body) else "text")
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            raise _BadRequest("messages must be a non-empty list.")
        if _wants_image(body):
            return self._chat_image(body, model_id, model)
        if "text" not in model.outputs:
            raise _BadRequest(f"{model_id} does not produce text; use its own endpoint.")
        text = fake_media.reply_text(model_id, messages)
        pieces = fake_media.words_of(text)
        finish_reason = "stop"
        max_tokens = body.get("max_tokens")
        if isinstance(max_tokens, int) and 0 < max_tokens < len(pieces):
            pieces, finish_reason = pieces[:max_tokens], "length"
            pieces[-1] = pieces[-1].rstrip(" ")
        text = "".join(pieces)
        usage = self._text_usage(model, messages, text)
        completion_id = f"gen-{uuid.uuid4().hex[:20]}"
        if body.get("stream"):
            return _Reply(
                200, self._stream(completion_id, model_id, pieces, usage, finish_reason, fault),
                content_type="text/event-stream", headers={"Cache-Control": "no-cache"},
            )
        if fault == "stream_error":
            return _json_reply(200, {"error": {"code": 502, "message": "The upstream provider failed."}})
        return _json_reply(200, {
            "id": completion_id,
            "object": "chat.completion",
            "created": int(time.time()),
            "model": model_id,
            "provider": "Fake",
            "choices": [{
                "index": 0,
                "message": {"role": "assistant", "content": text},
                "finish_reason": finish_reason,
                "native_finish_reason": finish_reason,
            }],
            "usage": usage,
        })

    def _text_usage(self, model: FakeModel, messages: list, text: str) -> dict[str, Any]:
        prompt_tokens = sum(
            fake_media.count_tokens(m.get("content") if isinstance(m.get("content"), str) else "")
            for m in messages if isinstance(m, dict)
        )
        completion_tokens = fake_media.count_tokens(text)
        cost = prompt_tokens * model.price("prompt") + completion_tokens * model.price("completion")
        self.fake.add_cost(cost)
        return {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
            "cost": round(cost, 10),
        }

    def _stream(
        self, completion_id: str, model_id: str, pieces: list[str], usage: dict, finish_reason: str,
        fault: str | None,
    ) -> Iterator[bytes]:
        def event(choice: dict, **extra: Any) -> bytes:
            chunk = {
                "id": completion_id, "object": "chat.completion.chunk", "created": int(time.time()),
                "model": model_id, "provider": "Fake", "choices": [choice], **extra,
            }
            return f"data: {json.dumps(chunk)}\n\n".encode("utf-8")

        yield b": OPENROUTER PROCESSING\n\n"
        for index, piece in enumerate(pieces):
            if fault == "stream_error" and index == STREAM_ERROR_AFTER:
                yield event(
                    {"index": 0, "delta": {"content": ""}, "finish_reason": "error"},
                    error={"code": 502, "message": "The upstream provider failed mid-stream."},
                )
                yield b"data: [DONE]\n\n"
                return
            if index and index % 4 == 0:
                yield b": OPENROUTER PROCESSING\n\n"
            self.fake.wait(self.fake.stream_delay)
            yield event({"index": 0, "delta": {"role": "assistant", "content": piece}, "finish_reason": None})
        yield event({"index": 0, "delta": {}, "finish_reason": finish_reason}, usage=usage)
        yield b"data: [DONE]\n\n"

    def _chat_image(self, body: dict, model_id: str, model: FakeModel) -> _Reply:
        if not model.is_image:
            raise _BadRequest(f"{model_id} does not support image output.")
        config = body.get("image_config") or {}
        if not isinstance(config, dict):
            raise _BadRequest("image_config must be an object.")
        aspect_ratio, image_size = config.get("aspect_ratio"), config.get("image_size")
        _check_listed(model_id, "aspect_ratio", aspect_ratio, model.aspect_ratios)
        _check_listed(model_id, "image_size", image_size, model.image_sizes)
        prompt = fake_media.last_user_text(body["messages"])
        width, height = fake_media.chat_image_dimensions(aspect_ratio, image_size)
        png = fake_media.png_bytes(width, height, prompt, 0)
        url = "data:image/png;base64," + base64.b64encode(png).decode("ascii")
        usage = self._text_usage(model, body["messages"], "")
        usage["completion_tokens"] = 1290
        usage["total_tokens"] = usage["prompt_tokens"] + 1290
        usage["cost"] = round(usage["cost"] + model.price("image"), 10)
        self.fake.add_cost(model.price("image"))
        return _json_reply(200, {
            "id": f"gen-{uuid.uuid4().hex[:20]}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": model_id,
            "choices": [{
                "index": 0,
                "message": {
                    "role": "assistant",
                    "content": f"Here is an image of: {prompt[:80]}",
                    "images": [{"type": "image_url", "image_url": {"url": url}}],
                },
                "finish_reason": "stop",
            }],
            "usage": usage,
        })

    # ---------------------------------------------------------------- images

    def _images(self, body: Any) -> _Reply:
        body = _require_object(body)
        model_id, model = _lookup(body.get("model"), "image")
        if not model.is_image:
            raise _BadRequest(f"{model_id} does not generate images.")
        prompt = body.get("prompt")
        if not isinstance(prompt, str) or not prompt.strip():
            raise _BadRequest("prompt is required.")
        n = body.get("n", 1)
        size, aspect_ratio, resolution = body.get("size"), body.get("aspect_ratio"), body.get("resolution")
        if size and aspect_ratio:
            raise _BadRequest("size and aspect_ratio cannot be combined; send one of them.")
        if not isinstance(n, int) or isinstance(n, bool) or n < 1 or (model.max_n and n > model.max_n):
            raise _BadRequest(f"n must be between 1 and {model.max_n or 1} for {model_id}.")
        _check_listed(model_id, "size", size, model.sizes, refuse_unlisted=bool(model.aspect_ratios))
        _check_listed(model_id, "aspect_ratio", aspect_ratio, model.aspect_ratios, refuse_unlisted=bool(model.sizes))
        _check_listed(model_id, "resolution", resolution, model.image_sizes)
        width, height = fake_media.images_endpoint_dimensions(size, aspect_ratio, resolution)
        items = []
        for index in range(n):
            png = fake_media.png_bytes(width, height, prompt, index)
            if model.returns_urls:
                items.append({"url": f"{self._api_base()[: -len(API_PREFIX)]}/files/{self.fake.store_file(png, 'image/png')}"})
            else:
                items.append({"b64_json": base64.b64encode(png).decode("ascii"), "media_type": "image/png"})
        cost = round(n * model.price("image"), 10)
        self.fake.add_cost(cost)
        prompt_tokens = fake_media.count_tokens(prompt)
        return _json_reply(200, {
            "created": int(time.time()),
            "data": items,
            "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": 0, "total_tokens": prompt_tokens, "cost": cost},
        })

    def _file(self, name: str) -> _Reply:
        stored = self.fake.files.get(name)
        if stored is None:
            return _error_reply(404, "File not found.")
        return _Reply(200, stored[0], content_type=stored[1])

    # ----------------------------------------------------------------- video

    def _video_submit(self, body: Any, fault: str | None) -> _Reply:
        body = _require_object(body)
        model_id, model = _lookup(body.get("model"), "video")
        if not model.is_video:
            raise _BadRequest(f"{model_id} is not a video model.")
        if not isinstance(body.get("prompt"), str) or not body["prompt"].strip():
            raise _BadRequest("prompt is required.")
        _check_listed(model_id, "aspect_ratio", body.get("aspect_ratio"), model.aspect_ratios)
        _check_listed(model_id, "resolution", body.get("resolution"), model.resolutions)
        _check_listed(model_id, "size", body.get("size"), model.sizes)
        _check_listed(model_id, "duration", body.get("duration"), model.durations)
        for frame in body.get("frame_images") or []:
            _check_frame(model_id, model, frame)
        job = self.fake.new_job(model_id, fault if fault in JOB_FAULTS else None, body)
        return _json_reply(202, {"id": job.id, "polling_url": f"{self._api_base()}/videos/{job.id}", "status": "pending"})

    def _video_poll(self, job_id: str) -> _Reply:
        job = self.fake.jobs.get(job_id)
        if job is None:
            return _error_reply(404, f"Video job {job_id} not found.")
        status, progress = self.fake.job_state(job)
        payload: dict[str, Any] = {
            "id": job.id, "generation_id": f"gen-{job.id}", "status": status, "progress": progress,
        }
        if status == "completed":
            if job.fault != "no_urls":
                payload["unsigned_urls"] = [f"{self._api_base()}/videos/{job.id}/content?index=0"]
            seconds = job.body.get("duration") or 4
            payload["usage"] = {"cost": round(seconds * fake_catalogue.BY_ID.get(
                job.model, fake_catalogue.PERMISSIVE["video"]).price("video_per_second"), 6)}
        elif status == "failed":
            # An object here and a string for expired jobs: clients must read both shapes.
            payload["error"] = {"code": "generation_failed", "message": "The fake provider failed to generate this video."}
        elif status == "expired":
            payload["error"] = "The video job expired before it was collected."
        return _json_reply(200, payload)

    def _video_content(self, job_id: str, query: dict) -> _Reply:
        job = self.fake.jobs.get(job_id)
        if job is None:
            return _error_reply(404, f"Video job {job_id} not found.")
        if self.fake.job_state(job)[0] != "completed":
            return _error_reply(404, f"Video job {job_id} has no content yet.")
        if (query.get("index") or ["0"])[0] != "0":
            return _error_reply(404, "No video at this index.")
        return _Reply(200, fake_media.sample_video_bytes(), content_type="video/mp4")

    def _key(self) -> _Reply:
        return _json_reply(200, {"data": {
            "label": "fake-openrouter", "usage": round(self.fake.spent, 6), "limit": None,
            "limit_remaining": None, "is_free_tier": False, "is_provisioning_key": False,
        }})

    # -------------------------------------------------------------- sending

    def _send(self, reply: _Reply, fault: str | None) -> None:
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        for name, value in reply.headers.items():
            self.send_header(name, value)
        if isinstance(reply.body, bytes) and fault == "truncated":
            reply.body = reply.body[: len(reply.body) // 2]
        if isinstance(reply.body, bytes) and fault not in ("chunked", "drop_stream"):
            self.send_header("Content-Length", str(len(reply.body)))
            self.end_headers()
            self.wfile.write(reply.body)
            return
        if isinstance(reply.body, bytes) and fault == "drop_stream":
            self.send_header("Content-Length", str(len(reply.body)))
            self.end_headers()
            self.wfile.write(reply.body[: len(reply.body) // 2])
            return self._drop()
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        chunks = [reply.body] if isinstance(reply.body, bytes) else reply.body
        for index, chunk in enumerate(chunks):
            if fault == "drop_stream" and index == DROP_AFTER_CHUNKS:
                return self._drop()
            if fault == "truncated" and index == DROP_AFTER_CHUNKS:
                break
            self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            self.wfile.flush()
        self.wfile.write(b"0\r\n\r\n")

    def _drop(self) -> None:
        """Cut the connection mid-body, as a crashed upstream would."""
        self.wfile.flush()
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


# ------------------------------------------------------------------ helpers


def _parse_json(raw: bytes) -> tuple[Any, bool]:
    if not raw:
        return None, False
    try:
        return json.loads(raw), False
    except ValueError:
        return None, True


def _model_fault(body: Any) -> str | None:
    model = body.get("model") if isinstance(body, dict) else None
    if not isinstance(model, str):
        return None
    if model.startswith("fake/fault-"):
        return model[len("fake/fault-"):]
    match = _FAULT_SUFFIX.search(model)
    return match.group(1) if match else None


def _lookup(model_id: Any, kind: str) -> tuple[str, FakeModel]:
    """(clean id, model) for a request's model; markers stripped; 400 when unknown."""
    if not isinstance(model_id, str) or not model_id:
        raise _BadRequest("model is required.")
    clean = _FAULT_SUFFIX.sub("", model_id)
    if clean.startswith("fake/fault-"):
        return clean, fake_catalogue.PERMISSIVE[kind]
    model = fake_catalogue.BY_ID.get(clean)
    if model is None:
        raise _BadRequest(f"{clean} is not a valid model ID")
    return clean, model


def _wants_image(body: dict) -> bool:
    modalities = body.get("modalities")
    return isinstance(modalities, list) and "image" in modalities


def _require_object(body: Any) -> dict:
    if not isinstance(body, dict):
        raise _BadRequest("The request body must be a JSON object.")
    return body


def _check_listed(model_id: str, name: str, value: Any, accepted: tuple, *, refuse_unlisted: bool = False) -> None:
    if value is None:
        return
    if accepted and value not in accepted:
        listed = ", ".join(str(a) for a in accepted)
        raise _BadRequest(f"{name} {value!r} is not supported by {model_id}. Supported: {listed}")
    if not accepted and refuse_unlisted:
        raise _BadRequest(f"{name} is not supported by {model_id}.")


def _check_frame(model_id: str, model: FakeModel, frame: Any) -> None:
    if not isinstance(frame, dict) or frame.get("type") != "image_url":
        raise _BadRequest("frame_images items must be {type: image_url, frame_type, image_url: {url}}.")
    frame_type = frame.get("frame_type")
    if frame_type not in model.frame_images:
        raise _BadRequest(f"frame_type {frame_type!r} is not supported by {model_id}.")
    url = (frame.get("image_url") or {}).get("url") if isinstance(frame.get("image_url"), dict) else None
    if not isinstance(url, str) or not url.startswith(("http://", "https://", "data:image/")):
        raise _BadRequest("frame_images image_url.url must be an http(s) or data:image URL.")


def _seconds_text(seconds: float) -> str:
    """Retry-After value: whole seconds when whole, else a short decimal."""
    if seconds == int(seconds):
        return str(int(seconds))
    return f"{seconds:.3f}".rstrip("0").rstrip(".")
