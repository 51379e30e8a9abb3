"""Server-sent events shared by the streaming endpoints (text generation, live video status)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from typing import Any

from django.http import StreamingHttpResponse
from rest_framework.renderers import BaseRenderer
from rest_framework.utils import encoders

from core.db import in_db
from core.http import error_answer


class EventStreamRenderer(BaseRenderer):
    """Lets clients ask for text/event-stream; a refusal (4xx/5xx) is one `error` event."""

    media_type = "text/event-stream"
    format = "sse"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return sse_event(data, event="error").encode("utf-8")


def sse_event(data, *, event: str | None = None) -> str:
    payload = json.dumps(data, cls=encoders.JSONEncoder, ensure_ascii=False)
    return (f"event: {event}\n" if event else "") + f"data: {payload}\n\n"


def sse_comment(text: str) -> str:
    """A comment line: ignored by EventSource, keeps proxies and idle timers from closing."""
    return f": {text}\n\n"


def event_stream_response(events) -> StreamingHttpResponse:
    """A text/event-stream answer over an (async) iterator of ready-made event strings."""
    response = StreamingHttpResponse(events, content_type="text/event-stream")
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"  # proxies must pass events on at once
    return response


async def text_stream_events(stream, *, start: dict, record_id: int, done: Callable[[], Any]) -> AsyncIterator[str]:
    """SSE for a streamed text answer: `start`, then `data: {"text": ...}` pieces, then
    `done` carrying ``done()`` (run in a thread: it may read the database), or `error`.
    Cut short (client gone, server stopping), the stream is closed, which saves what
    arrived as partial and closes the provider's stream."""
    try:
        yield sse_event(start, event="start")
        async for text in stream.pieces():
            yield sse_event({"text": text})
    except Exception as exc:
        answer = error_answer(exc)
        if answer is None:
            raise
        yield sse_event({"id": record_id, "status": answer.status, "detail": answer.message}, event="error")
        return
    finally:
        await stream.aclose()
    yield sse_event(await in_db(done)(), event="done")
