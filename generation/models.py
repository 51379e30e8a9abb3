"""Generation data: each user's generations with their stored images."""

from __future__ import annotations

import base64
import mimetypes
import uuid
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone

from core.errors import ErrorKind
from core.images import IMAGE_EXTENSIONS


class Generation(models.Model):
    """One text, image or embeddings generation attempt, successful or not."""

    # Not a column: the request's budget reservation, held on the object while the request
    # runs, so that finishing it settles the reservation (billing.services.settle).
    budget_hold: Any = None
    # Not a column: the logprobs of a whole answer that asked for them, for the /v1/ reply only.
    logprobs: Any = None

    class Kind(models.TextChoices):
        TEXT = "text", "Text"
        IMAGE = "image", "Image"
        # An embeddings request (/v1/embeddings): one row per request, the vectors not kept.
        EMBEDDING = "embedding", "Embedding"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        COMPLETED = "completed", "Completed"
        FAILED = "failed", "Failed"
        # A streamed answer cut short (client gone or provider stopped): what arrived is kept.
        PARTIAL = "partial", "Partial"

    # The route of an image the user sent to edit, kept as theirs (no provider call, no cost).
    UPLOAD_ROUTE = "upload"

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="generations")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    model_id = models.CharField("model", max_length=200)
    prompt = models.TextField()
    system = models.TextField(blank=True, default="")
    params = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    text = models.TextField(blank=True, default="")
    # The text as sanitized HTML, rendered once when the text is saved (generation.records).
    html = models.TextField(blank=True, default="", help_text="the text rendered from markdown and sanitized")
    error = models.TextField(blank=True, default="", help_text="shown to the user")
    error_detail = models.TextField(blank=True, default="", help_text="for administrators only")
    error_kind = models.CharField(
        max_length=30,
        blank=True,
        default="",
        choices=[(kind.value, kind.value) for kind in ErrorKind],
        help_text="what went wrong, for a failed generation",
    )
    provider_id = models.CharField(max_length=200, blank=True, default="")
    finish_reason = models.CharField(max_length=40, blank=True, default="")
    route = models.CharField(max_length=10, blank=True, default="")
    prompt_tokens = models.PositiveIntegerField(default=0)
    completion_tokens = models.PositiveIntegerField(default=0)
    total_tokens = models.PositiveIntegerField(default=0)
    cost = models.DecimalField(max_digits=14, decimal_places=8, default=Decimal("0"))
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    # The personal API key the request came with (None: the pages, a token or a session).
    api_key = models.ForeignKey(
        "accounts.ApiKey", null=True, blank=True, on_delete=models.SET_NULL, related_name="generations"
    )
    # An image edit: the stored image it was made from (kept as NULL if that is deleted).
    source_image = models.ForeignKey(
        "GeneratedImage", null=True, blank=True, on_delete=models.SET_NULL, related_name="edits"
    )
    # A conversation's answer: its thread (kept as NULL when the conversation is deleted), so
    # the history shows the conversation once, not each answer, regenerated ones included.
    conversation = models.ForeignKey(
        "conversations.Conversation", null=True, blank=True, on_delete=models.SET_NULL, related_name="generations"
    )

    class Meta:
        db_table = "generations"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["owner", "-created_at"], name="generation_owner_recent")]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk} ({self.status})"

    @property
    def is_upload(self) -> bool:
        return self.route == self.UPLOAD_ROUTE

    @property
    def usage(self) -> dict:
        return {
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "total_tokens": self.total_tokens,
            "cost": self.cost,
        }


def generated_image_path(instance: GeneratedImage, filename: str) -> str:
    return f"generations/{instance.generation.owner_id}/{instance.generation_id}/{filename}"


class GeneratedImage(models.Model):
    """An image of a generation, stored through Django's storage API (MEDIA_ROOT under
    DATA_DIR by default; any storage backend via STORAGES)."""

    generation = models.ForeignKey(Generation, on_delete=models.CASCADE, related_name="images")
    index = models.PositiveSmallIntegerField(default=0)
    file = models.FileField(upload_to=generated_image_path, max_length=300)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    media_type = models.CharField(max_length=50)
    size_bytes = models.PositiveIntegerField(default=0)

    class Meta:
        db_table = "generated_images"
        ordering = ["generation_id", "index"]

    def __str__(self) -> str:
        return f"image {self.pk} of generation {self.generation_id}"

    @classmethod
    def file_name(cls, index: int, media_type: str) -> str:
        """The name of a new image's file in its generation's folder (see upload_to); types
        other than the usual four get what mimetypes knows, else .bin."""
        extension = IMAGE_EXTENSIONS.get(media_type) or (mimetypes.guess_extension(media_type) or ".bin").lstrip(".")
        return f"{index}-{uuid.uuid4().hex[:12]}.{extension}"

    @property
    def filename(self) -> str:
        return (self.file.name or "").rsplit("/", 1)[-1]

    @property
    def url(self) -> str:
        """The owner-only URL that serves this image (never a public media mount)."""
        from django.urls import reverse

        return reverse("generation:image-file", kwargs={"pk": self.pk, "filename": self.filename})

    def read_bytes(self) -> bytes:
        with self.file.open("rb") as handle:
            return handle.read()

    def as_data_url(self) -> str:
        """``data:<media type>;base64,...`` of the stored bytes (e.g. a video's first frame)."""
        return f"data:{self.media_type};base64,{base64.b64encode(self.read_bytes()).decode('ascii')}"
