"""Conversations: create, rename, delete, and answer a turn through the provider.

A turn is a text generation (`generation.services`): the same opening (validation,
in-flight slot, budget reservation, pending history row), the same provider call with
every option and the budget's cap, the same finishing on every path. A conversation
adds only what is its own, through the pipeline's two hooks: :func:`turn_validate` (the
turn's checks, and the thread trimmed to the model's context as the request's messages)
and `conversations.records.turn_rows` (its messages, written with the pending row).
"""

from __future__ import annotations

import dataclasses
import secrets
from dataclasses import dataclass, field
from typing import Any, cast

from django.db import transaction
from django.utils import timezone

from audit import services as audit
from catalogue.selectors import catalogue_entry
from conversations import context, records, selectors
from conversations.models import Conversation, Message
from core.db import retry_on_write_conflict
from core.errors import Conflict, InvalidInput, NotFound
from core.images import DecodedImage
from generation import services as generation
from generation.validation import TextRequest, checked_image_url, clean_prompt, text_request_validate
from storage import quota

TITLE_MAX = 200
MAX_ATTACHED_IMAGES = 4  # per message


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


def _text_model(model, *, user) -> str:
    """A text model ``user`` may use (the same check, and message, as a turn's)."""
    return catalogue_entry(model_id=model if isinstance(model, str) else "", kind="text", user=user).pk


def conversation_create(*, user, model: str, title: str = "", system: str = "") -> Conversation:
    """A new, empty conversation with a text model (its title comes from the first prompt
    when none is given); without instructions of its own it starts with the user's default."""
    fields = {
        "title": _clean_title(title or ""),
        "system": clean_prompt(system, field="system", required=False) or user.default_system,
        "model_id": _text_model(model, user=user),
    }
    now = timezone.now()
    return Conversation.objects.create(owner=user, created_at=now, updated_at=now, **fields)


def conversation_update(*, conversation: Conversation, by, title=None, model=None, system=None) -> Conversation:
    """Rename it, or change the model or the system prompt of the next turns."""
    if conversation.owner_id != by.id:
        raise NotFound("Conversation not found.")
    changes: dict[str, Any] = {}
    if title is not None:
        changes["title"] = _clean_title(title)
    if model is not None:
        changes["model_id"] = _text_model(model, user=by)
    if system is not None:
        changes["system"] = clean_prompt(system, field="system", required=False)
    changes["updated_at"] = timezone.now()
    # Only the fields changed: a turn beginning meanwhile keeps its own (turns, title).
    retry_on_write_conflict(
        lambda: Conversation.objects.filter(pk=conversation.pk).update(**changes), what="conversation update"
    )
    for name, value in changes.items():
        setattr(conversation, name, value)
    return conversation


def conversation_delete(*, conversation: Conversation, by) -> None:
    """Delete the conversation and its messages. The answers' history rows stay in the
    owner's history (they record what the provider was asked and charged)."""
    if conversation.owner_id != by.id:
        raise NotFound("Conversation not found.")
    with transaction.atomic():
        conversation.delete()


# ------------------------------------------------------------------ share links

SHARE_TOKEN_BYTES = 24  # 192 random bits: not guessable


def conversation_share(*, conversation: Conversation, by) -> Conversation:
    """Give the conversation a read-only link (the same one again while it is shared)."""
    if conversation.owner_id != by.id:
        raise NotFound("Conversation not found.")
    if conversation.share_token:
        return conversation
    token, now = secrets.token_urlsafe(SHARE_TOKEN_BYTES), timezone.now()
    with transaction.atomic():
        shared = Conversation.objects.filter(pk=conversation.pk, share_token__isnull=True).update(
            share_token=token, shared_at=now
        )
        if shared:
            audit.conversation_share_changed(
                conversation_id=conversation.pk, title=conversation.display_title, owner_id=by.id, shared=True
            )
    conversation.refresh_from_db(fields=["share_token", "shared_at"])
    return conversation


def conversation_unshare(*, conversation: Conversation, by) -> Conversation:
    """Revoke the read-only link: it answers 404 from then on (a new share makes a new one)."""
    if conversation.owner_id != by.id:
        raise NotFound("Conversation not found.")
    with transaction.atomic():
        revoked = Conversation.objects.filter(pk=conversation.pk, share_token__isnull=False).update(
            share_token=None, shared_at=None
        )
        if revoked:
            audit.conversation_share_changed(
                conversation_id=conversation.pk, title=conversation.display_title, owner_id=by.id, shared=False
            )
    conversation.share_token = conversation.shared_at = None
    return conversation


# ------------------------------------------------------------------ turns


@dataclass
class Turn:
    """The messages of a turn, filled in when its rows are recorded."""

    user_message: Message | None = None
    answer: Message | None = None


@dataclass(frozen=True)
class TurnRequest(TextRequest):
    """A validated turn: the text request (model, prompt = the message answered, system,
    messages = the thread the provider gets) and what the turn's rows need."""

    turns_seen: int = 0  # the conversation's turn count when the thread was read
    uploads: tuple[DecodedImage, ...] = ()  # images attached to the new message, kept with it
    replaces: Message | None = None  # regenerating: the answer replaced
    edits: Message | None = None  # editing: the user message changed (the thread is cut after it)
    answered: Message | None = None  # regenerating: the user message answered again
    turn: Turn = field(default_factory=Turn)

    @property
    def params(self) -> dict:
        return {**super().params, "conversation": self.conversation.pk, "messages": len(self.messages)}


def _history(messages: list[Message], *, sees_images: bool, attached: tuple[str, ...] = ()) -> list[dict]:
    """The thread as the provider reads it: user messages and the answers that have text. A
    user message with images has them as image_url parts after its text (for a model that
    takes images; another gets the text alone). ``attached``: the new message's images."""
    history = []
    for index, m in enumerate(messages):
        if m.role != Message.Role.USER and not (m.text and m.status != Message.Status.PENDING):
            continue
        sent: dict[str, Any] = {"role": m.role, "content": m.text}
        urls = attached if index == len(messages) - 1 and attached else _stored_image_urls(m)
        if sees_images and urls:
            text = [{"type": "text", "text": m.text}] if m.text else []
            sent["parts"] = text + [{"type": "image_url", "image_url": {"url": url}} for url in urls]
        history.append(sent)
    return history


def _stored_image_urls(message: Message) -> list[str]:
    """A saved message's images as data URLs; one whose file is gone is left out."""
    if message.pk is None or message.role != Message.Role.USER:
        return []
    urls = []
    for image in message.images.all():
        try:
            urls.append(image.as_data_url())
        except OSError:
            continue
    return urls


def _attached_images(images, *, model) -> tuple[tuple[str, ...], tuple[DecodedImage, ...], tuple[dict, ...]]:
    """The images attached to a new message (data: URLs of images, as the page sends them):
    the URLs for the provider, the decoded images to keep and what the history records."""
    if images in (None, ""):
        return (), (), ()
    if not isinstance(images, (list, tuple)) or len(images) > MAX_ATTACHED_IMAGES:
        raise InvalidInput(f"A list of at most {MAX_ATTACHED_IMAGES} images.", field="images")
    if images and "image" not in (model.input_modalities or []):
        raise InvalidInput(
            f"{model.pk} does not take images: remove them, or choose a model that reads images.", field="images"
        )
    urls, decoded, notes = [], [], []
    for url in images:
        if not isinstance(url, str) or not url.strip().startswith("data:"):
            raise InvalidInput("Each image must be a data:image/... URL.", field="images")
        sent, note, image = checked_image_url(url, field="images")
        assert image is not None, "a data URL is decoded"
        urls.append(sent)
        decoded.append(image)
        notes.append({"message": "attached", **note})
    return tuple(urls), tuple(decoded), tuple(notes)


class NotAnAnswerToEdit(Conflict):
    default_message = "Only your own messages can be edited, not the model's answers."


def turn_validate(
    *, user, conversation_id, turn: Turn, content=None, model=None, regenerate_id=None, edit_id=None, images=None
) -> TurnRequest:
    """Check a turn before anything is recorded: the conversation is the owner's, no
    answer is pending in it, the text request is valid, the thread fits the model, and
    images attached fit the model and the owner's storage quota."""
    conversation = selectors.user_conversation(user=user, conversation_id=conversation_id)
    thread = selectors.thread(conversation)
    if any(m.is_pending for m in thread):
        raise AnswerPending()
    replaces = answered = edits = None
    if edit_id is not None:
        at = next((index for index, m in enumerate(thread) if str(m.pk) == str(edit_id)), None)
        if at is None:
            raise NotFound("Message not found.")
        edits = thread[at]
        if edits.role != Message.Role.USER:
            raise NotAnAnswerToEdit()
        edits.content = clean_prompt(content, field="content", required=not edits.images.all())
        thread = thread[: at + 1]  # cut: what came after the edited message goes
    elif regenerate_id is not None:
        last = thread[-1] if thread else None
        if last is None or str(last.pk) != str(regenerate_id):
            if not any(str(m.pk) == str(regenerate_id) for m in thread):
                raise NotFound("Message not found.")
            raise Conflict("Only the last answer of a conversation can be regenerated.")
        if last.role != Message.Role.ASSISTANT or len(thread) < 2 or thread[-2].role != Message.Role.USER:
            raise Conflict("Only the last answer of a conversation can be regenerated.")
        replaces, answered = last, thread[-2]
        thread = thread[:-1]
    else:
        text = clean_prompt(content, field="content", required=not images)
        thread = [*thread, Message(role=Message.Role.USER, content=text)]
    base = text_request_validate(
        model=model or conversation.model_id,
        prompt=thread[-1].text or _images_prompt(_image_count(thread[-1], images)),
        system=conversation.system,
        user=user,
    )
    attached, uploads, notes = _attached_images(images, model=base.model)
    if uploads:
        quota.check_room(user_id=user.pk, adding=sum(len(image.data) for image in uploads))
    sees_images = "image" in (base.model.input_modalities or [])
    history = _history(thread, sees_images=sees_images, attached=attached)
    messages = context.fit_thread(
        system=base.system, messages=history, context_length=base.model.context_length, model=base.model.pk
    )
    sent_images = sum(part["type"] == "image_url" for m in messages for part in m.get("parts", ()))
    copied = {f.name: getattr(base, f.name) for f in dataclasses.fields(TextRequest) if f.name != "messages"}
    copied["conversation"] = conversation
    # What the history records of the images sent (the earlier ones by count, for the budget too).
    copied["images"] = notes + tuple({"message": "earlier"} for _ in range(sent_images - len(notes)))
    return TurnRequest(
        **copied,
        messages=tuple(messages),
        uploads=uploads,
        turns_seen=conversation.turns,
        replaces=replaces,
        answered=answered,
        edits=edits,
        turn=turn,
    )


def _image_count(message: Message, attached) -> int:
    """How many images a message answered carries: those attached now, or those it kept."""
    if message.pk is None:
        return len(attached) if isinstance(attached, (list, tuple)) else 0
    return len(message.images.all())


def _images_prompt(count: int) -> str:
    return f"({count} image{'s' if count != 1 else ''})"


def _turn(**fields) -> dict:
    """The text pipeline's arguments for a turn: its hooks and a Turn for its messages."""
    return {"validate": turn_validate, "record": records.turn_rows, "turn": Turn(), **fields}


def _answered(turn: Turn, generation_row) -> Message:
    """The turn's answer, reading the history row as it ended (no database read)."""
    answer = turn.answer
    assert answer is not None, "the turn's rows are recorded when its generation opens"
    answer.generation = generation_row
    return answer


async def message_send(*, user, conversation_id, content, model=None, images=None) -> tuple[Message, Message]:
    """Add the user's message (with ``images`` attached: data URLs) and wait for the whole
    answer: (user message, answer). A provider error is re-raised after the answer's row
    records it."""
    fields = _turn(user=user, conversation_id=conversation_id, content=content, model=model, images=images)
    row = await generation.text_generate(**fields)
    turn = fields["turn"]
    assert turn.user_message is not None
    return turn.user_message, _answered(turn, row)


async def message_regenerate(*, user, conversation_id, message_id, model=None) -> Message:
    """Answer the last user message again, replacing the last answer; the new answer."""
    fields = _turn(user=user, conversation_id=conversation_id, regenerate_id=message_id, model=model)
    row = await generation.text_generate(**fields)
    return _answered(fields["turn"], row)


class AnswerStream:
    """A streamed answer: the pipeline's `TextStream` with the turn's messages.

    ``async for text in stream.pieces()``; ``await stream.aclose()`` always (cut short,
    what arrived is kept as partial). ``answer`` reads the final row once it ends."""

    def __init__(self, text_stream: generation.TextStream) -> None:
        self.text_stream = text_stream
        self.turn: Turn = cast(TurnRequest, text_stream.request).turn
        self.user_message = self.turn.user_message

    @property
    def generation(self):
        return self.text_stream.generation

    @property
    def answer(self) -> Message:
        return _answered(self.turn, self.text_stream.generation)

    def pieces(self):
        return self.text_stream.pieces()

    def piece_ready(self) -> bool:
        return self.text_stream.piece_ready()

    async def aclose(self, **kwargs) -> None:
        await self.text_stream.aclose(**kwargs)


async def message_stream_start(*, user, conversation_id, content, model=None, images=None) -> AnswerStream:
    """As :func:`message_send`, streamed: errors before the first piece raise here."""
    fields = _turn(user=user, conversation_id=conversation_id, content=content, model=model, images=images)
    return AnswerStream(await generation.text_stream_start(**fields))


async def message_edit(*, user, conversation_id, message_id, content, model=None) -> tuple[Message, Message]:
    """Change an earlier message of the user and ask again from there: the thread is cut
    at that message (every later message is removed; their answers stay in the history)
    and the edited message is answered anew. (user message, answer)."""
    fields = _turn(user=user, conversation_id=conversation_id, edit_id=message_id, content=content, model=model)
    row = await generation.text_generate(**fields)
    turn = fields["turn"]
    assert turn.user_message is not None
    return turn.user_message, _answered(turn, row)


async def edit_stream_start(*, user, conversation_id, message_id, content, model=None) -> AnswerStream:
    """As :func:`message_edit`, streamed."""
    fields = _turn(user=user, conversation_id=conversation_id, edit_id=message_id, content=content, model=model)
    return AnswerStream(await generation.text_stream_start(**fields))


async def regenerate_stream_start(*, user, conversation_id, message_id, model=None) -> AnswerStream:
    fields = _turn(user=user, conversation_id=conversation_id, regenerate_id=message_id, model=model)
    return AnswerStream(await generation.text_stream_start(**fields))
