"""Reads of conversations for the API and the pages: always the owner's own."""

from __future__ import annotations

import json

from django.db.models import Case, CharField, Count, Exists, F, OuterRef, Q, QuerySet, Subquery, Value, When
from django.utils import timezone
from django.utils.text import slugify

from conversations.models import Conversation, Message
from core.errors import NotFound
from core.parsing import int_or_none

SNIPPET_CHARS = 120


def user_conversations(*, user, search: str = "") -> QuerySet[Conversation]:
    """The user's conversations, most recently active first; with ``search``, those whose
    title or any message (the user's text or an answer's) contains it, case-insensitive,
    each with ``matched_text``: the first message that matched (empty when the title did)."""
    conversations = Conversation.objects.filter(owner=user)
    search = (search or "").strip()
    if search:
        matching = (
            Message.objects.filter(conversation=OuterRef("pk"))
            .filter(Q(role=Message.Role.USER, content__icontains=search) | Q(generation__text__icontains=search))
            .order_by("id")
        )
        text = Case(
            When(role=Message.Role.USER, then=F("content")), default=F("generation__text"), output_field=CharField()
        )
        conversations = conversations.filter(Q(title__icontains=search) | Exists(matching)).annotate(
            matched_text=Subquery(matching.annotate(said=text).values("said")[:1], output_field=CharField())
        )
    else:
        conversations = conversations.annotate(matched_text=Value("", output_field=CharField()))
    return conversations.annotate(message_count=Count("messages")).order_by("-updated_at", "-id")


def snippet(text: str | None, search: str) -> str:
    """A short piece of ``text`` around the first place ``search`` occurs (whole words kept
    where they fit), for showing why a conversation matched; empty without a match."""
    text = " ".join((text or "").split())
    at = text.lower().find((search or "").strip().lower()) if search else -1
    if at < 0:
        return ""
    start = max(0, at - SNIPPET_CHARS // 3)
    end = min(len(text), start + SNIPPET_CHARS)
    if start > 0:
        start = text.find(" ", start, at) + 1 or start
    return ("…" if start > 0 else "") + text[start:end] + ("…" if end < len(text) else "")


def user_conversation(*, user, conversation_id, allow_admin: bool = False) -> Conversation:
    """One of the user's conversations (any one for an admin when ``allow_admin``);
    someone else's is NotFound (404), never 403."""
    pk = int_or_none(conversation_id)
    row = None
    if pk is not None and getattr(user, "is_authenticated", False):
        rows = Conversation.objects.filter(pk=pk)
        if not (allow_admin and user.is_admin):
            rows = rows.filter(owner=user)
        row = rows.first()
    if row is None:
        raise NotFound("Conversation not found.")
    return row


def shared_conversation(*, token) -> Conversation:
    """The conversation shared under ``token`` (anyone may read it); an unknown or revoked
    token is NotFound."""
    row = None
    if isinstance(token, str) and 20 <= len(token) <= 64:
        row = Conversation.objects.filter(share_token=token).first()
    if row is None:
        raise NotFound("This shared conversation does not exist, or its link was revoked.")
    return row


def thread(conversation: Conversation) -> list[Message]:
    """The conversation's messages in order, each answer with its history row."""
    return list(conversation.messages.select_related("generation").prefetch_related("images").order_by("id"))


def with_snippets(conversations, search: str) -> list[Conversation]:
    """The conversations (of :func:`user_conversations`), each with ``snippet``: where its
    messages matched ``search`` (empty when only the title did, or without a search)."""
    rows = list(conversations)
    for row in rows:
        row.snippet = snippet(getattr(row, "matched_text", ""), search)
    return rows


# ------------------------------------------------------------------ export


def export_filename(conversation: Conversation, extension: str) -> str:
    return f"{slugify(conversation.title)[:60] or 'conversation'}-{conversation.pk}.{extension}"


def export_data(conversation: Conversation) -> dict:
    """The conversation as plain data: what it is, and each message in order (an answer's
    text, model and state as its history row has them; a message's images by count)."""
    return {
        "id": conversation.pk,
        "title": conversation.display_title,
        "model": conversation.model_id,
        "system": conversation.system,
        "created_at": conversation.created_at.isoformat(),
        "updated_at": conversation.updated_at.isoformat(),
        "exported_at": timezone.now().isoformat(),
        "messages": [
            {
                "role": message.role,
                "content": message.text,
                "images": len(message.images.all()),
                "model": message.model_id,
                "status": message.status,
                "created_at": message.created_at.isoformat(),
            }
            for message in thread(conversation)
        ],
    }


def export_json(conversation: Conversation) -> str:
    return json.dumps(export_data(conversation), ensure_ascii=False, indent=2) + "\n"


def export_markdown(conversation: Conversation) -> str:
    """The conversation as a Markdown document: a heading, the instructions quoted, then
    each message under a heading saying who wrote it."""
    data = export_data(conversation)
    lines = [f"# {data['title']}", "", f"Model: {data['model']} · exported {data['exported_at'][:16]} UTC", ""]
    if data["system"]:
        lines += ["> **Instructions:** " + data["system"].replace("\n", "\n> "), ""]
    for message in data["messages"]:
        if message["role"] == "user":
            lines.append("## You")
        else:
            lines.append(f"## Answer ({message['model'] or 'model unknown'})")
        lines.append("")
        if message["images"]:
            lines += [f"*({message['images']} image{'s' if message['images'] != 1 else ''} attached)*", ""]
        if message["status"] not in (Message.Status.COMPLETED, Message.Status.PENDING):
            lines += [f"*({Message.Status(message['status']).label.lower()})*", ""]
        lines += [message["content"], ""]
    return "\n".join(lines)
