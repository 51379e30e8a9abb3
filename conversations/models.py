"""Conversations: a person's threads with a chat model, each an ordered list of messages."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils import timezone

from generation.models import Generation


class Conversation(models.Model):
    """A thread: its title, the model the next answer comes from and an optional system prompt."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="conversations")
    title = models.CharField(max_length=200, blank=True, default="")
    model_id = models.CharField("model", max_length=200)
    system = models.TextField(blank=True, default="", help_text="the system prompt sent before the thread")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    # Turns begun in it: a turn begins only if no other began since it checked the thread.
    turns = models.PositiveIntegerField(default=0)
    # A read-only link anyone holding it may open (/shared/<token>); empty: not shared.
    share_token = models.CharField(max_length=64, null=True, blank=True, unique=True, default=None)
    shared_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "conversations"
        ordering = ["-updated_at", "-id"]
        indexes = [models.Index(fields=["owner", "-updated_at"], name="conversation_owner_recent")]

    def __str__(self) -> str:
        return f"conversation #{self.pk} ({self.title or 'untitled'})"

    @property
    def display_title(self) -> str:
        return self.title or "New conversation"


class Message(models.Model):
    """One message of a thread, in order of ``id``. A user message is its ``content``; an
    assistant message is one provider answer, read through its text Generation (the
    history row with the same in-flight slot, budget and error recording as the text
    endpoint): its text, state, error and usage are the row's, never copied, so reading
    a thread never writes."""

    class Role(models.TextChoices):
        USER = "user", "User"
        ASSISTANT = "assistant", "Assistant"

    Status = Generation.Status
    # An answer whose history row was deleted (from the history, or by the API).
    ANSWER_DELETED = "This answer was deleted from your history."

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="messages")
    role = models.CharField(max_length=10, choices=Role.choices)
    # A user message's text (an answer's text is its generation's).
    content = models.TextField(blank=True, default="")
    # The provider call behind an answer (its history row).
    generation = models.OneToOneField(
        "generation.Generation", null=True, blank=True, on_delete=models.SET_NULL, related_name="conversation_message"
    )
    # Images attached to a user message: the user's uploads (stored images counted against
    # their storage quota), sent to the model as image_url parts with the message's text.
    images = models.ManyToManyField("generation.GeneratedImage", blank=True, related_name="conversation_messages")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "conversation_messages"
        ordering = ["conversation_id", "id"]

    def __str__(self) -> str:
        return f"{self.role} message #{self.pk} of conversation {self.conversation_id}"

    @property
    def is_answer(self) -> bool:
        return self.role == self.Role.ASSISTANT

    @property
    def text(self) -> str:
        if not self.is_answer:
            return self.content
        return self.generation.text if self.generation else ""

    @property
    def html(self) -> str:
        return self.generation.html if self.is_answer and self.generation else ""

    @property
    def model_id(self) -> str:
        return self.generation.model_id if self.is_answer and self.generation else ""

    @property
    def status(self) -> str:
        if not self.is_answer:
            return self.Status.COMPLETED
        return self.generation.status if self.generation else self.Status.FAILED

    @property
    def status_label(self) -> str:
        return self.Status(self.status).label

    @property
    def is_pending(self) -> bool:
        return self.status == self.Status.PENDING

    @property
    def error(self) -> str:
        if not self.is_answer:
            return ""
        return self.generation.error if self.generation else self.ANSWER_DELETED

    @property
    def finish_reason(self) -> str:
        return self.generation.finish_reason if self.is_answer and self.generation else ""

    @property
    def finished_at(self):
        return self.generation.finished_at if self.is_answer and self.generation else None

    @property
    def usage(self) -> dict:
        if self.is_answer and self.generation:
            return self.generation.usage
        return {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0, "cost": Decimal("0")}
