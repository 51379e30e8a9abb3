"""Conversations: a person's threads with a chat model, each an ordered list of messages."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils import timezone

from core.errors import ErrorKind


class Conversation(models.Model):
    """A thread: its title, the model the next answer comes from and an optional system prompt."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="conversations")
    title = models.CharField(max_length=200, blank=True, default="")
    model_id = models.CharField("model", max_length=200)
    system = models.TextField(blank=True, default="", help_text="the system prompt sent before the thread")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

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
    """One message of a thread, in order of ``id``. A user message is its content; an
    assistant message is one provider answer, recorded through a text Generation (the
    same history row, in-flight slot and error recording as the text endpoint) whose
    final state is copied here when it ends."""

    class Role(models.TextChoices):
        USER = "user", "User"
        ASSISTANT = "assistant", "Assistant"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        COMPLETED = "completed", "Completed"
        FAILED = "failed", "Failed"
        PARTIAL = "partial", "Partial"

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="messages")
    role = models.CharField(max_length=10, choices=Role.choices)
    content = models.TextField(blank=True, default="")
    # An answer's content as sanitized HTML, rendered once when it is saved (generation.markdown).
    html = models.TextField(blank=True, default="")
    model_id = models.CharField("model", max_length=200, blank=True, default="")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.COMPLETED)
    error = models.TextField(blank=True, default="", help_text="shown to the user")
    error_kind = models.CharField(
        max_length=30, blank=True, default="", choices=[(kind.value, kind.value) for kind in ErrorKind]
    )
    finish_reason = models.CharField(max_length=40, blank=True, default="")
    prompt_tokens = models.PositiveIntegerField(default=0)
    completion_tokens = models.PositiveIntegerField(default=0)
    total_tokens = models.PositiveIntegerField(default=0)
    cost = models.DecimalField(max_digits=14, decimal_places=8, default=Decimal("0"))
    # The provider call behind an answer (its history row); kept if the row is deleted.
    generation = models.OneToOneField(
        "generation.Generation", null=True, blank=True, on_delete=models.SET_NULL, related_name="conversation_message"
    )
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "conversation_messages"
        ordering = ["conversation_id", "id"]

    def __str__(self) -> str:
        return f"{self.role} message #{self.pk} of conversation {self.conversation_id}"

    @property
    def usage(self) -> dict:
        return {
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "total_tokens": self.total_tokens,
            "cost": self.cost,
        }
