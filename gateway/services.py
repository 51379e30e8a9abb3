"""The Responses API's threads (``previous_response_id``), over the one text pipeline.

A /v1/responses request is a chat completion (generation.services): the same validation,
in-flight slots, budget reservation, history row and usage. What Responses adds is the
thread: each answer's input is kept (gateway.models.ResponseTurn, written with the
pending row in one transaction), and a request naming a previous response continues
from that input plus that response's answer.
"""

from __future__ import annotations

import functools
import re

from core.errors import Conflict, InvalidInput, NotFound
from gateway.models import ResponseTurn
from generation import services as generation
from generation.models import Generation
from generation.validation import text_request_validate

RESPONSE_ID = re.compile(r"^resp-studio-(\d{1,18})$")
# Where the chat validation's field names differ from the Responses request's.
RESPONSES_FIELDS = {"messages": "input", "response_format": "text", "max_tokens": "max_output_tokens"}


def response_id(generation_id: int) -> str:
    return f"resp-studio-{generation_id}"


class ResponseNotFinished(Conflict):
    default_message = "The previous response has not completed, so there is no answer to continue from."


async def response_create(
    *,
    user,
    api_key=None,
    model: str,
    messages: list[dict],
    instructions: str | None,
    previous_response_id: str | None,
    stream: bool,
    **fields,
):
    """Answer a Responses request: its ``messages`` (the input as chat messages) after the
    previous response's thread, ``instructions`` first as a system message. The finished
    row, or (``stream``) the open TextStream; either way its input is kept as a
    ResponseTurn for the next request to continue from."""
    arguments = dict(
        user=user,
        api_key=api_key,
        validate=functools.partial(
            _validate_turn, previous_response_id=previous_response_id, instructions=instructions
        ),
        record=functools.partial(_record_turn, instructions=instructions),
        model=model,
        messages=messages,
        **fields,
    )
    if stream:
        return await generation.text_stream_start(**arguments)
    return await generation.text_generate(**arguments)


def previous_turn(*, user, previous_response_id: str) -> ResponseTurn:
    """The user's response of that id with its input, answered in full; another user's,
    or none, is NotFound (404); one not completed is a Conflict (409)."""
    found = RESPONSE_ID.match(previous_response_id or "")
    turn = None
    if found:
        turn = (
            ResponseTurn.objects.select_related("generation")
            .filter(generation_id=int(found.group(1)), owner=user)
            .first()
        )
    if turn is None:
        raise NotFound(f"No response {previous_response_id!r} of yours to continue from.", field="previous_response_id")
    if turn.generation.status != Generation.Status.COMPLETED:
        raise ResponseNotFinished(field="previous_response_id")
    return turn


def thread_messages(turn: ResponseTurn) -> list[dict]:
    """A response's input followed by its answer, as chat messages."""
    row = turn.generation
    calls = (row.params or {}).get("tool_calls")
    answer: dict = {"role": "assistant", "content": row.text}
    if calls:
        answer = {"role": "assistant", "content": row.text or None, "tool_calls": calls}
    return [*turn.messages, answer]


def _validate_turn(*, user, messages, previous_response_id, instructions, **fields):
    """The chat request of a Responses turn: the thread so far, this turn's input, the
    instructions first; refusals name the Responses request's fields."""
    earlier = (
        thread_messages(previous_turn(user=user, previous_response_id=previous_response_id))
        if (previous_response_id is not None)
        else []
    )
    system = [{"role": "system", "content": instructions}] if instructions else []
    try:
        return text_request_validate(user=user, messages=[*system, *earlier, *messages], **fields)
    except InvalidInput as exc:
        if not any(name in RESPONSES_FIELDS for name in exc.errors):
            raise
        if exc.field is not None:
            raise InvalidInput(exc.message, field=RESPONSES_FIELDS.get(exc.field, exc.field)) from exc
        errors = {RESPONSES_FIELDS.get(name, name): texts for name, texts in exc.errors.items()}
        raise InvalidInput(exc.message, errors=errors) from exc


def _record_turn(*, user, request, generation: Generation, instructions) -> None:
    """Keep the turn's input (without its instructions) beside its pending row."""
    sent = request.provider_messages()
    ResponseTurn.objects.create(generation=generation, owner=user, messages=sent[1:] if instructions else sent)
