"""What the /v1/ API keeps of its own: the input of each Responses answer, so that a
later request can continue from it (``previous_response_id``)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class ResponseTurn(models.Model):
    """The input a /v1/responses answer was asked with, as the chat messages sent to the
    provider (earlier turns of the thread included, the request's ``instructions`` left
    out: as OpenAI's, they do not carry over). The answer itself is its generation's row
    (text, tool calls), so the thread is these messages plus that answer. Deleting the
    generation from the history ends the thread there."""

    generation = models.OneToOneField(
        "generation.Generation", on_delete=models.CASCADE, primary_key=True, related_name="response_turn"
    )
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    messages = models.JSONField(default=list)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "response_turns"

    def __str__(self) -> str:
        return f"response turn of generation {self.generation_id}"
