"""Conversations: create, rename, delete, and answer a turn through the provider.

A turn reuses the text generation's machinery rather than copying it: its request is a
`TextRequest` (validated by `text_request_validate`), `generation.services._open_record`
takes the owner's in-flight slot and records the pending history row (so the same cap,
budget checks and deadline apply to every message), the async client is awaited with no
database connection held, and the history row is finished by `generation.records`
(completed, failed with the reason, partial when cut short). The answer message then
takes the row's final state (`conversations.records.settle_answer`).
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from catalogue.selectors import catalogue_entry
from conversations import context, records, selectors
from conversations.models import Conversation, Message
from core.db import release_db_connection
from core.errors import Conflict, InvalidInput, NotFound
from generation import capacity
from generation import services as generation_services
from generation.models import Generation
from generation.services import TextStream, in_db
from generation.validation import TextRequest, clean_prompt, text_request_validate
from openrouter.aclient import get_async_client

TITLE_MAX = 200


class AnswerPending(Conflict):
    default_message = "An answer is still being written in this conversation; wait for it (or stop it) first."


# ------------------------------------------------------------------ conversations


def _clean_title(title) -> str:
    if not isinstance(title, str):
        raise InvalidInput("Must be text.", field="title")
    title = " ".join(title.split())
    if len(title) > TITLE_MAX:
        raise InvalidInput(f"At most {TITLE_MAX} characters.", field="title")
    return title


def _text_model(model) -> str:
    return catalogue_entry(model_id=model if isinstance(model, str) else "", kind="text").pk


def conversation_create(*, user, model: str, title: str = "", system: str = "") -> Conversation:
    """A new, empty conversation with a text model (its title comes from the first prompt
    when none is given)."""
    fields = {
        "title": _clean_title(title or ""),
        "system": clean_prompt(system, field="system", required=False),
        "model_id": _text_model(model),
    }
    now = timezone.now()
    return Conversation.objects.create(owner=user, created_at=now, updated_at=now, **fields)


def conversation_update(*, conversation: Conversation, by, title=None, model=None, system=None) -> Conversation:
    """Rename it, or change the model or the system prompt of the next turns."""
    if conversation.owner_id != by.id:
        raise NotFound("Conversation not found.")
    if title is not None:
        conversation.title = _clean_title(title)
    if model is not None:
        conversation.model_id = _text_model(model)
    if system is not None:
        conversation.system = clean_prompt(system, field="system", required=False)
    conversation.updated_at = timezone.now()
    conversation.save(update_fields=["title", "model_id", "system", "updated_at"])
    return conversation


def conversation_delete(*, conversation: Conversation, by) -> None:
    """Delete the conversation and its messages. The answers' history rows stay in the
    owner's history (they record what the provider was asked and charged)."""
    if conversation.owner_id != by.id:
        raise NotFound("Conversation not found.")
    with transaction.atomic():
        conversation.delete()


# ------------------------------------------------------------------ turns


@dataclass
class Turn:
    """The messages of a turn, filled in when its rows are recorded."""

    user_message: Message | None = None
    answer: Message | None = None


@dataclass(frozen=True)
class TurnRequest(TextRequest):
    """A validated turn: the text request (model, prompt = the message answered, system)
    and what the provider gets."""

    conversation: Conversation = None
    replaces: Message | None = None  # regenerating: the answer replaced
    answered: Message | None = None  # regenerating: the user message answered again
    turn: Turn = field(default_factory=Turn)

    @property
    def params(self) -> dict:
        return {**super().params, "conversation": self.conversation.pk, "messages": len(self.messages)}


def _history(messages: list[Message]) -> list[dict]:
    """The thread as the provider reads it: user messages and the answers that have text."""
    return [
        {"role": m.role, "content": m.content}
        for m in messages
        if m.role == Message.Role.USER or (m.content and m.status != Message.Status.PENDING)
    ]


def turn_validate(*, user, conversation_id, content=None, model=None, regenerate_id=None) -> TurnRequest:
    """Check a turn before anything is recorded: the conversation is the owner's, no
    answer is pending in it, the text request is valid, and the thread fits the model."""
    conversation = selectors.user_conversation(user=user, conversation_id=conversation_id)
    records.settle_pending(conversation)
    thread = selectors.thread(conversation)
    if any(m.status == Message.Status.PENDING for m in thread):
        raise AnswerPending()
    replaces = answered = None
    if regenerate_id is not None:
        last = thread[-1] if thread else None
        if last is None or str(last.pk) != str(regenerate_id):
            if not any(str(m.pk) == str(regenerate_id) for m in thread):
                raise NotFound("Message not found.")
            raise Conflict("Only the last answer of a conversation can be regenerated.")
        if last.role != Message.Role.ASSISTANT or len(thread) < 2 or thread[-2].role != Message.Role.USER:
            raise Conflict("Only the last answer of a conversation can be regenerated.")
        replaces, answered = last, thread[-2]
        thread, content = thread[:-1], answered.content
    else:
        thread = [*thread, Message(role=Message.Role.USER, content=clean_prompt(content, field="content"))]
    base = text_request_validate(
        model=model or conversation.model_id, prompt=thread[-1].content, system=conversation.system, user=user
    )
    messages = context.fit_thread(
        system=base.system, messages=_history(thread), context_length=base.model.context_length, model=base.model.pk
    )
    copied = {f.name: getattr(base, f.name) for f in dataclasses.fields(TextRequest) if f.name != "messages"}
    return TurnRequest(
        **copied, conversation=conversation, messages=tuple(messages), replaces=replaces, answered=answered
    )


async def _open_turn(*, user, stream: bool, **fields) -> tuple[TurnRequest, Generation]:
    return await in_db(generation_services._open_record)(
        turn_validate,
        functools.partial(records.turn_pending, stream=stream),
        user=user,
        reserve=generation_services._reserve_text,
        **fields,
    )


async def _settle(request: TurnRequest, generation) -> Message:
    return await asyncio.shield(in_db(records.settle_answer)(request.turn.answer, generation))


async def _settle_cancelled(request: TurnRequest, generation, *, why: str) -> None:
    """The turn was cancelled before any text came: the answer is cut short, empty."""
    await _settle(request, await generation_services._cut_short(generation, text="", why=why))


async def _settle_failed(request: TurnRequest, generation, exc: BaseException) -> BaseException:
    """Record the failure on the generation and its answer; returns the error to raise."""
    error = await generation_services._failed(generation, exc)
    await _settle(request, await in_db(_fresh)(generation))
    return error


async def _answer_whole(*, user, request: TurnRequest, generation) -> Message:
    try:
        try:
            async with capacity.within_deadline():
                result = await get_async_client().chat(model=request.model.pk, messages=list(request.messages))
        except asyncio.CancelledError:
            await _settle_cancelled(request, generation, why="the request was cancelled before the answer came")
            raise
        except Exception as exc:
            raise await _settle_failed(request, generation, exc) from exc
        generation = await generation_services._complete_text(
            generation, text=result.text, provider_id=result.id, finish_reason=result.finish_reason, usage=result.usage
        )
        return await _settle(request, generation)
    finally:
        await generation_services._release(user.pk)


def _fresh(generation: Generation) -> Generation:
    """The history row as recorded (after `generation.services._failed` wrote it)."""
    fresh = Generation.objects.filter(pk=generation.pk).first() or generation
    release_db_connection()
    return fresh


async def message_send(*, user, conversation_id, content, model=None) -> tuple[Message, Message]:
    """Add the user's message and wait for the whole answer: (user message, answer).
    A provider error is re-raised after the answer is recorded as failed."""
    request, generation = await _open_turn(
        user=user, stream=False, conversation_id=conversation_id, content=content, model=model
    )
    answer = await _answer_whole(user=user, request=request, generation=generation)
    return request.turn.user_message, answer


async def message_regenerate(*, user, conversation_id, message_id, model=None) -> Message:
    """Answer the last user message again, replacing the last answer; the new answer."""
    request, generation = await _open_turn(
        user=user, stream=False, conversation_id=conversation_id, regenerate_id=message_id, model=model
    )
    return await _answer_whole(user=user, request=request, generation=generation)


class AnswerStream:
    """A streamed answer: a generation `TextStream` whose end also settles the answer.

    ``async for text in stream.pieces()``; ``await stream.aclose()`` always (it releases
    the slot; cut short, what arrived is kept as partial). ``answer`` is then final."""

    def __init__(self, request: TurnRequest, text_stream: TextStream) -> None:
        self.request = request
        self.text_stream = text_stream
        self.user_message = request.turn.user_message
        self.answer = request.turn.answer

    def pieces(self) -> AsyncIterator[str]:
        return self.text_stream.pieces()

    async def aclose(self, **kwargs) -> None:
        try:
            await self.text_stream.aclose(**kwargs)
        finally:
            self.answer = await _settle(self.request, self.text_stream.generation)


async def _stream_start(*, user, **fields) -> AnswerStream:
    deadline = asyncio.get_running_loop().time() + settings.GENERATION_DEADLINE
    request, generation = await _open_turn(user=user, stream=True, **fields)
    try:
        try:
            async with asyncio.timeout_at(deadline):
                provider_stream = await get_async_client().chat_stream(
                    model=request.model.pk, messages=list(request.messages)
                )
        except TimeoutError:
            raise await _settle_failed(request, generation, capacity.deadline_reached()) from None
        except asyncio.CancelledError:
            await _settle_cancelled(request, generation, why="the request was cancelled before the stream opened")
            raise
        except Exception as exc:
            raise await _settle_failed(request, generation, exc) from exc
    except BaseException:
        await generation_services._release(user.pk)
        raise
    return AnswerStream(request, TextStream(generation, provider_stream, user_id=user.pk, deadline=deadline))


async def message_stream_start(*, user, conversation_id, content, model=None) -> AnswerStream:
    """As :func:`message_send`, streamed: errors before the first piece raise here."""
    return await _stream_start(user=user, conversation_id=conversation_id, content=content, model=model)


async def regenerate_stream_start(*, user, conversation_id, message_id, model=None) -> AnswerStream:
    return await _stream_start(user=user, conversation_id=conversation_id, regenerate_id=message_id, model=model)
