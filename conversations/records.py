"""The rows of a conversation turn, written with its answer's pending history row.

A synchronous step run inside the text pipeline's opening transaction
(`generation.services`, its ``record`` hook): the user's message (or, regenerating, the
old answer removed) and the pending answer, linked to the history row. Nothing is
written when the answer ends: an answer reads its state through its history row.
"""

from __future__ import annotations

from django.db import OperationalError
from django.db.models import F, prefetch_related_objects
from django.utils import timezone

from conversations.models import Conversation, Message
from core.db import is_write_conflict
from core.errors import Conflict
from generation.records import store_upload

TITLE_CHARS = 80


class TurnInProgress(Conflict):
    default_message = (
        "Another message was sent in this conversation at the same moment (in another tab or window?), "
        "and its answer is being written. Your message was not kept: wait for that answer, then send yours again."
    )


def title_from(content: str) -> str:
    """A title from a first prompt: its first line, cut at a word near TITLE_CHARS."""
    line = next((line.strip() for line in content.splitlines() if line.strip()), "")
    if len(line) <= TITLE_CHARS:
        return line
    cut = line[:TITLE_CHARS].rsplit(" ", 1)[0] or line[:TITLE_CHARS]
    return cut.rstrip(" ,.;:") + "…"


def turn_rows(*, user, request, generation) -> None:
    """Within the transaction that writes ``generation`` (the answer's pending history
    row): begin the turn in the conversation, then write the user's message with its
    attached images (or,
    regenerating, remove the answer replaced) and the pending answer. The turn begins
    only if none began since ``request`` read the thread (a conditional UPDATE of the
    conversation's turn count; on DuckDB a concurrent turn's write conflicts instead):
    else TurnInProgress (409), and nothing of this turn is kept. The messages go on
    ``request.turn``."""
    conversation: Conversation = request.conversation
    now = timezone.now()
    changes = {"updated_at": now, "model_id": request.model.pk, "turns": F("turns") + 1}
    if not conversation.title:
        changes["title"] = title_from(request.prompt)
    try:
        begun = Conversation.objects.filter(pk=conversation.pk, turns=request.turns_seen).update(**changes)
    except OperationalError as exc:
        if is_write_conflict(exc):
            raise TurnInProgress() from exc
        raise
    if not begun:
        raise TurnInProgress()
    if request.replaces is not None:
        Message.objects.filter(pk=request.replaces.pk).delete()
        user_message = request.answered
    elif request.edits is not None:
        user_message = request.edits
        Message.objects.filter(conversation=conversation, pk__gt=user_message.pk).delete()
        Message.objects.filter(pk=user_message.pk).update(content=user_message.content)
    else:
        user_message = Message.objects.create(
            conversation=conversation, role=Message.Role.USER, content=request.messages[-1]["content"], created_at=now
        )
        if request.uploads:
            # Kept as the user's uploads (their history, their storage quota), in this transaction.
            user_message.images.set([store_upload(user=user, image=image) for image in request.uploads])
    if user_message is not None:
        prefetch_related_objects([user_message], "images")  # read here, not where the answer is awaited
    answer = Message.objects.create(
        conversation=conversation, role=Message.Role.ASSISTANT, generation=generation, created_at=timezone.now()
    )
    request.turn.user_message, request.turn.answer = user_message, answer
