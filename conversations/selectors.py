"""Reads of conversations for the API and the pages: always the owner's own."""

from __future__ import annotations

from django.db.models import Count, QuerySet

from conversations.models import Conversation, Message
from core.errors import NotFound
from core.parsing import int_or_none


def user_conversations(*, user, search: str = "") -> QuerySet[Conversation]:
    """The user's conversations, most recently active first, optionally whose title
    contains ``search`` (case-insensitive)."""
    conversations = Conversation.objects.filter(owner=user)
    search = (search or "").strip()
    if search:
        conversations = conversations.filter(title__icontains=search)
    return conversations.annotate(message_count=Count("messages")).order_by("-updated_at", "-id")


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


def thread(conversation: Conversation) -> list[Message]:
    """The conversation's messages in order, each answer with its history row."""
    return list(conversation.messages.select_related("generation").prefetch_related("images").order_by("id"))
