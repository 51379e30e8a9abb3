"""Server-sent events, framed here for every streaming endpoint: Studio's named events
(text answers, conversation turns, live video status) and OpenAI's unnamed chunks ending
with ``data: [DONE]`` (the /v1/ API)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from typing import Any

from django.http import StreamingHttpResponse
from rest_framework.renderers import BaseRenderer
from rest_framework.utils import encoders

from core.http import error_answer


class EventStreamRenderer(BaseRenderer):
    """Lets clients ask for text/event-stream; a refusal (4xx/5xx) is one `error` event."""

    media_type = "text/event-stream"
    format = "sse"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return sse_event(data, event="error").encode("utf-8")


def sse_event(data, *, event: str | None = None) -> str:
    """One event: ``data`` as JSON, named ``event`` (none: a plain ``message``, as
    OpenAI's chunks are)."""
    payload = json.dumps(data, cls=encoders.JSONEncoder, ensure_ascii=False)
    return (f"event: {event}\n" if event else "") + f"data: {payload}\n\n"


# The end of an OpenAI-style stream.
SSE_DONE = "data: [DONE]\n\n"


def sse_comment(text: str) -> str:
    """A comment line: ignored by EventSource, keeps proxies and idle timers from closing."""
    return f": {text}\n\n"


def event_stream_response(events) -> StreamingHttpResponse:
    """A text/event-stream answer over an (async) iterator of ready-made event strings."""
    response = StreamingHttpResponse(events, content_type="text/event-stream")
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"  # proxies must pass events on at once
    return response


async def relay_text(
    stream,
    *,
    opening: list[str],
    piece: Callable[[str], str],
    failure: Callable[[Exception], str | None],
    closing: Callable[[], list[str]],
    deltas: bool = False,
) -> AsyncIterator[str]:
    """Events of a streamed text answer (a generation's TextStream), in either format:
    the ``opening`` events, ``piece(text)`` for each piece, then ``closing()`` once the
    answer's row is final; a failure mid-stream is the one event ``failure(exc)`` (None:
    raised). The stream is closed on every path: cut short (client gone, server
    stopping), what arrived is saved as partial and the provider's stream closed. With
    ``deltas``, ``piece`` gets the provider's items (text and tool-call deltas).

    Pieces that arrived together (``stream.piece_ready()``: the next one is already
    here) go out as one write: each write is a trip through the server and a system
    call, and a provider often sends a burst of small events at once. A piece is never
    held back waiting for another."""
    waiting: list[str] = []  # events of pieces that arrived together, not sent yet
    try:
        for event in opening:
            yield event
        # Only a generation's own TextStream has deltas; other streams (a conversation's) yield text.
        async for item in stream.pieces(deltas=True) if deltas else stream.pieces():
            waiting.append(piece(item))
            if not stream.piece_ready():
                yield "".join(waiting)
                waiting.clear()
    except Exception as exc:
        refusal = failure(exc)
        if refusal is None:
            raise
        yield "".join([*waiting, refusal])
        return
    finally:
        await stream.aclose()
    for event in closing():
        yield event


def text_stream_events(stream, *, start: dict, record_id: int, done: Callable[[], Any]) -> AsyncIterator[str]:
    """Studio's events for a streamed text answer: `start`, then `data: {"text": ...}`
    pieces, then `done` carrying ``done()`` (the saved answer, read from memory), or
    `error` with the status and message a person can act on."""

    def failure(exc: Exception) -> str | None:
        answer = error_answer(exc)
        if answer is None:
            return None
        return sse_event({"id": record_id, "status": answer.status, "detail": answer.message}, event="error")

    return relay_text(
        stream,
        opening=[sse_event(start, event="start")],
        piece=lambda text: sse_event({"text": text}),
        failure=failure,
        closing=lambda: [sse_event(done(), event="done")],
    )
