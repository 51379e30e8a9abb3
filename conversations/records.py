"""The rows of a conversation turn: recorded before the provider call, settled after it.

Synchronous units of database work, run by the async services in a worker thread (as
`generation.records`). An answer's provider call is a text Generation (its history row,
written by `generation.records`); its final state is copied onto the assistant message.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from conversations.models import Conversation, Message
from core.db import release_db_connection
from core.errors import ErrorKind
from generation import records as generation_records
from generation.models import Generation

TITLE_CHARS = 80
ANSWER_LOST = "The answer was lost (its history row was deleted while it ran)."


def title_from(content: str) -> str:
    """A title from a first prompt: its first line, cut at a word near TITLE_CHARS."""
    line = next((line.strip() for line in content.splitlines() if line.strip()), "")
    if len(line) <= TITLE_CHARS:
        return line
    cut = line[:TITLE_CHARS].rsplit(" ", 1)[0] or line[:TITLE_CHARS]
    return cut.rstrip(" ,.;:") + "…"


def turn_pending(*, user, request, stream: bool, hold=None) -> Generation:
    """In one transaction: the user's message (or, regenerating, the old answer removed),
    the pending history row and the pending answer; the conversation takes the turn's
    model, and a title from its first prompt. Returns the history row; the messages go
    on ``request.turn``."""
    conversation: Conversation = request.conversation
    now = timezone.now()
    with transaction.atomic():
        if request.replaces is not None:
            Message.objects.filter(pk=request.replaces.pk).delete()
            user_message = request.answered
        else:
            user_message = Message.objects.create(
                conversation=conversation, role=Message.Role.USER, content=request.prompt, created_at=now
            )
        generation = generation_records.text_pending(
            user=user, request=request, stream=stream, hold=hold, conversation=conversation
        )
        answer = Message.objects.create(
            conversation=conversation,
            role=Message.Role.ASSISTANT,
            model_id=request.model.pk,
            status=Message.Status.PENDING,
            generation=generation,
            created_at=timezone.now(),
        )
        changes = {"updated_at": now, "model_id": request.model.pk}
        if not conversation.title:
            changes["title"] = title_from(request.prompt)
        Conversation.objects.filter(pk=conversation.pk).update(**changes)
    release_db_connection()
    request.turn.user_message, request.turn.answer = user_message, answer
    return generation


def _answer_fields(generation: Generation | None) -> dict:
    if generation is None:
        return {
            "status": Message.Status.FAILED,
            "error": ANSWER_LOST,
            "error_kind": ErrorKind.FAILED,
            "finished_at": timezone.now(),
        }
    return {
        "status": generation.status,
        "content": generation.text,
        "html": generation.html,
        "error": generation.error,
        "error_kind": generation.error_kind,
        "finish_reason": generation.finish_reason,
        "prompt_tokens": generation.prompt_tokens,
        "completion_tokens": generation.completion_tokens,
        "total_tokens": generation.total_tokens,
        "cost": generation.cost,
        "finished_at": generation.finished_at or timezone.now(),
    }


def settle_answer(answer: Message, generation: Generation) -> Message:
    """Copy the finished history row onto the pending answer (a conditional update: an
    answer already settled stays as it is) and return the fresh message."""
    if generation.status != Generation.Status.PENDING:
        fields = _answer_fields(generation)
        with transaction.atomic():
            if Message.objects.filter(pk=answer.pk, status=Message.Status.PENDING).update(**fields):
                Conversation.objects.filter(pk=answer.conversation_id).update(updated_at=timezone.now())
    fresh = Message.objects.filter(pk=answer.pk).first()
    release_db_connection()
    if fresh is None:  # the conversation was deleted meanwhile
        for name, value in _answer_fields(generation).items():
            setattr(answer, name, value)
        return answer
    return fresh


def settle_pending(conversation: Conversation) -> None:
    """Answers left pending whose history row has ended anyway (a stopped server, the
    stale sweep) or is gone take its final state."""
    pending = Message.objects.filter(
        conversation=conversation, status=Message.Status.PENDING, role=Message.Role.ASSISTANT
    ).select_related("generation")
    for answer in pending:
        if answer.generation is None:
            Message.objects.filter(pk=answer.pk, status=Message.Status.PENDING).update(**_answer_fields(None))
        elif answer.generation.status != Generation.Status.PENDING:
            Message.objects.filter(pk=answer.pk, status=Message.Status.PENDING).update(
                **_answer_fields(answer.generation)
            )
