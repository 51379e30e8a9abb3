"""The double's HTTP plumbing: one handler per connection that logs, authorises, picks
faults, routes to the endpoints and sends the answer (whole, chunked or faulty)."""

from __future__ import annotations

import hashlib
import logging
import re
import socket
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from . import catalogue, chat, embeddings, media_routes, responses
from .faults import (
    ALL_FAULTS,
    DROP_AFTER_CHUNKS,
    MODERATION_METADATA,
    REQUEST_FAULTS,
    TRICKLE_CHUNK,
    body_model_options,
    seconds_text,
)
from .replies import BadRequest, Reply, error_reply, json_reply, parse_json

if TYPE_CHECKING:
    from .server import FakeOpenRouter, ReceivedRequest

logger = logging.getLogger("openrouter.fake")

API_PREFIX = "/api/v1"


class Handler(BaseHTTPRequestHandler):
    """Routes one request of the double. State lives on ``self.server.fake``."""

    protocol_version = "HTTP/1.1"
    server_version = "FakeOpenRouter/1.0"
    timeout = 120  # idle keep-alive connections end eventually

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

    def api_base(self) -> str:
        return f"{self.site_base()}{API_PREFIX}"

    def site_base(self) -> str:
        return f"http://{self.headers.get('Host') or f'127.0.0.1:{self.fake.port}'}"

    # ------------------------------------------------------------ plumbing

    def _handle(self, method: str) -> None:
        started = time.monotonic()
        self._request: ReceivedRequest | None = None
        self._chunks_sent = 0
        self._sending = False
        try:
            self._dispatch(method)
        except (TimeoutError, BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client went away (e.g. its timeout fired)
            if self._sending and self._request is not None:
                self.fake.record_disconnect(self._request, self._chunks_sent)
        finally:
            if self._request is not None:
                self.fake.record_span(self._request, started, time.monotonic())

    def _dispatch(self, method: str) -> None:
        raw = self._read_body()
        body, body_error = parse_json(raw)
        self._request = self.fake.log_request(method, self.path, {k.lower(): v for k, v in self.headers.items()}, body)
        path = urlsplit(self.path).path
        if method == "GET" and path.startswith("/files/"):
            return self._send(media_routes.hosted_file(self, path[len("/files/") :]), None)
        if not path.startswith(API_PREFIX + "/"):
            return self._send(error_reply(404, f"No route for {path}"), None)
        if not self._authorised():
            return self._send(error_reply(401, "No auth credentials found"), None)
        if body_error:
            return self._send(error_reply(400, "The request body is not valid JSON."), None)
        try:
            fault = self._fault(method, raw, body)
        except BadRequest as exc:
            return self._send(error_reply(400, str(exc)), None)
        reply = self._fault_reply(fault)
        if reply is None:
            if fault == "slow":
                self.fake.wait(self.fake.slow_seconds)
            if fault == "disconnect":
                self.close_connection = True
                return
            reply = self._route(method, path[len(API_PREFIX) :], body, fault)
        self._send(reply, fault)

    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _authorised(self) -> bool:
        if not self.fake.api_key_required:
            return True
        scheme, _, token = self.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return False
        return self.fake.api_key is None or token.strip() == self.fake.api_key

    # --------------------------------------------------------------- faults

    def _fault(self, method: str, raw: bytes, body: Any) -> str | None:
        """The fault chosen for this request (None when none or its count is used up)."""
        spec = self.headers.get("X-Fake-Fault") or body_model_options(body).get("fault")
        if not spec:
            return None
        name, _, count_text = spec.strip().partition("*")
        if name not in ALL_FAULTS:
            raise BadRequest(f"Unknown fake fault {name!r}; known: {', '.join(sorted(ALL_FAULTS))}")
        count_text = self.headers.get("X-Fake-Fault-Count") or count_text
        count = int(count_text) if count_text.strip().isdigit() else None
        key = hashlib.sha256(f"{name}|{method}|{self.path}|".encode() + raw).hexdigest()
        return name if self.fake.fault_fires(name, count, key) else None

    def _fault_reply(self, fault: str | None) -> Reply | None:
        if fault in REQUEST_FAULTS:
            status, message = REQUEST_FAULTS[fault]
            headers: dict[str, str] = {}
            if fault == "rate_limit":
                headers["Retry-After"] = self.headers.get("X-Fake-Retry-After") or seconds_text(
                    self.fake.retry_after * self.fake.time_scale
                )
            elif self.headers.get("X-Fake-Retry-After"):
                headers["Retry-After"] = self.headers["X-Fake-Retry-After"]
            metadata = MODERATION_METADATA if fault == "moderation" else None
            return error_reply(status, message, metadata, headers)
        if fault == "malformed":
            return Reply(200, b'{"id": "gen-broken", "choices": [ this is not JSON')
        return None

    # --------------------------------------------------------------- routing

    def _route(self, method: str, path: str, body: Any, fault: str | None) -> Reply:
        query = parse_qs(urlsplit(self.path).query)
        routes: list[tuple[str, str, Callable[..., Reply]]] = [
            ("POST", r"/chat/completions", lambda: chat.chat(self, body, fault)),
            ("POST", r"/embeddings", lambda: embeddings.embeddings(self, body)),
            ("POST", r"/responses", lambda: responses.responses(self, body, fault)),
            ("POST", r"/images(?:/generations)?", lambda: media_routes.images(self, body)),
            ("POST", r"/videos", lambda: media_routes.video_submit(self, body, fault)),
            ("GET", r"/videos/models", lambda: json_reply(200, catalogue.video_models_payload())),
            ("GET", r"/videos/(?P<id>[^/]+)", lambda id: media_routes.video_poll(self, id)),
            ("GET", r"/videos/(?P<id>[^/]+)/content", lambda id: media_routes.video_content(self, id, query)),
            (
                "GET",
                r"/models",
                lambda: json_reply(
                    200, catalogue.models_payload(next(iter(query.get("output_modalities") or []), None))
                ),
            ),
            ("GET", r"/images/models", lambda: json_reply(200, catalogue.image_models_payload())),
            ("GET", r"/key", lambda: json_reply(200, self.fake.key_payload())),
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
                except BadRequest as exc:
                    return error_reply(exc.status, str(exc))
        if path_matched:
            return error_reply(405, f"Method {method} not allowed on {path}")
        return error_reply(404, f"No route for {API_PREFIX}{path}")

    # -------------------------------------------------------------- sending

    def _send(self, reply: Reply, fault: str | None) -> None:
        self._sending = True
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        for name, value in reply.headers.items():
            self.send_header(name, value)
        if isinstance(reply.body, bytes):
            if fault == "truncated":
                reply.body = reply.body[: len(reply.body) // 2]
            if fault == "trickle":
                size = TRICKLE_CHUNK
                reply.body = [reply.body[i : i + size] for i in range(0, len(reply.body), size)]
            elif fault not in ("chunked", "drop_stream"):
                self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                self.wfile.write(reply.body)
                return
            elif fault == "drop_stream":
                self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                self.wfile.write(reply.body[: len(reply.body) // 2])
                return self._drop()
        self._send_chunked(reply, fault)

    def _send_chunked(self, reply: Reply, fault: str | None) -> None:
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        chunks = [reply.body] if isinstance(reply.body, bytes) else reply.body
        for index, chunk in enumerate(chunks):
            if fault == "drop_stream" and index == DROP_AFTER_CHUNKS:
                return self._drop()
            if fault == "truncated" and index == DROP_AFTER_CHUNKS:
                break
            if fault == "trickle" and index:
                self.fake.wait(self.fake.trickle_interval)
            self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            self.wfile.flush()
            self._chunks_sent += 1
        self.wfile.write(b"0\r\n\r\n")

    def _drop(self) -> None:
        """Cut the connection mid-body, as a crashed upstream would."""
        self.wfile.flush()
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
