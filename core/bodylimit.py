"""A bound on request bodies, enforced in the served ASGI app before Django sees them.

Django's ASGI handler reads the whole body into a temporary file (spooled to disk past
FILE_UPLOAD_MAX_MEMORY_SIZE) before any middleware, authentication or view runs, so an
anonymous client could fill the temporary folder with one request. This middleware
answers 413 at once to a Content-Length over MAX_REQUEST_BODY_BYTES, without reading
the body; a body sent without a length (chunked) is passed on as it arrives and cut
once it passes the limit: Django then sees the client as gone (it closes, and so
deletes, its temporary file) and the client gets the 413.
"""

from __future__ import annotations

import json
import logging

from django.conf import settings

log = logging.getLogger(__name__)

MESSAGE = "The request body is too large: at most {limit} bytes are accepted."


def _declared_length(scope) -> int | None:
    for name, value in scope.get("headers") or ():
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


async def _refuse(send, limit: int) -> None:
    body = json.dumps({"detail": MESSAGE.format(limit=limit)}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class RequestBodyLimit:
    """ASGI middleware: bodies over ``settings.MAX_REQUEST_BODY_BYTES`` are answered 413
    (read per request, so tests may change it)."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = settings.MAX_REQUEST_BODY_BYTES
        declared = _declared_length(scope)
        if declared is not None and declared > limit:
            log.info("Refused a %s-byte body for %s %s", declared, scope.get("method"), scope.get("path"))
            await _refuse(send, limit)
            return
        received = 0
        cut = False
        started = False

        async def bounded_receive():
            nonlocal received, cut
            if cut:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    # Django reads a disconnect as the client gone: it drops what it read.
                    cut = True
                    return {"type": "http.disconnect"}
            return message

        async def watched_send(message):
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        await self.app(scope, bounded_receive, watched_send)
        if cut and not started:
            log.info("Cut a streamed body past %s bytes for %s %s", limit, scope.get("method"), scope.get("path"))
            await _refuse(send, limit)
