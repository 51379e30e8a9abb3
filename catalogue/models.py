"""The provider's model catalogue: every model Studio can offer, kept in step with the
provider by `catalogue.services.catalogue_sync`."""

from __future__ import annotations

from typing import Any, cast

from django.db import models
from django.utils import timezone

from openrouter.types import CatalogueModel, ImageRoute


class ProviderModel(models.Model):
    """One model from the provider's catalogues (GET /models, /images/models,
    /videos/models merged), kept by `manage.py sync_models`.

    The primary key is the provider's model id ("google/veo-3.1"). Models that leave
    the provider are marked unavailable, never deleted, so history keeps its meaning.
    List fields are JSON; the kind flags exist so pickers can filter in the database.
    """

    class Kind(models.TextChoices):
        TEXT = "text", "Text"
        IMAGE = "image", "Image"
        VIDEO = "video", "Video"
        EMBEDDING = "embedding", "Embedding"

    id = models.CharField(primary_key=True, max_length=200)
    name = models.CharField(max_length=300, blank=True, default="")
    description = models.TextField(blank=True, default="")
    kinds = models.JSONField(default=list, help_text="text, image, video and/or embedding")
    is_text = models.BooleanField(default=False)
    is_image = models.BooleanField(default=False)
    is_video = models.BooleanField(default=False)
    is_embedding = models.BooleanField(default=False)
    input_modalities = models.JSONField(default=list)
    output_modalities = models.JSONField(default=list)
    image_route = models.CharField(
        max_length=10, blank=True, default="", help_text='"chat" (text+image models) or "images" (image-only)'
    )
    aspect_ratios = models.JSONField(default=list)
    resolutions = models.JSONField(default=list, help_text="1K/2K/4K for images, 720p/1080p for videos")
    sizes = models.JSONField(default=list)
    durations = models.JSONField(default=list)
    frame_images = models.JSONField(default=list)
    max_n = models.PositiveIntegerField(null=True, blank=True)
    generate_audio = models.BooleanField(null=True, blank=True)
    context_length = models.PositiveIntegerField(null=True, blank=True)
    pricing = models.JSONField(default=dict)
    available = models.BooleanField(default=True)
    # An administrator's switches (never changed by the sync once the row exists): a
    # disabled model is offered to nobody; an admins-only one to administrators only.
    enabled = models.BooleanField(default=True, help_text="offered in the pickers and accepted by the API")
    admins_only = models.BooleanField(default=False, help_text="offered to and accepted from administrators only")
    first_seen = models.DateTimeField(default=timezone.now)
    last_seen = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "provider_models"
        ordering = ["id"]

    # The groups this entry is limited to (teams.models.Team.limited_models), as
    # catalogue.selectors read them with the entry; empty: not limited by groups.
    group_ids: tuple[int, ...] = ()

    def __str__(self) -> str:
        return self.id

    def usable_by(self, user) -> bool:
        """Whether ``user`` may choose this model by its switches (enabled, and not admins-only
        unless an admin). A limit to groups is decided by catalogue.selectors."""
        return self.enabled and (not self.admins_only or bool(getattr(user, "is_admin", False)))

    # Fields copied from a CatalogueModel by the sync (everything but bookkeeping and the
    # administrator's switches).
    CATALOGUE_FIELDS = (
        "name",
        "description",
        "kinds",
        "input_modalities",
        "output_modalities",
        "image_route",
        "aspect_ratios",
        "resolutions",
        "sizes",
        "durations",
        "frame_images",
        "max_n",
        "generate_audio",
        "context_length",
        "pricing",
    )

    def has_kind(self, kind: str) -> bool:
        return kind in (self.kinds or [])

    def as_catalogue_model(self) -> CatalogueModel:
        """The entry as openrouter.validation expects it."""
        return CatalogueModel(
            id=self.id,
            name=self.name,
            kinds=set(self.kinds or []),
            input_modalities=list(self.input_modalities or []),
            output_modalities=list(self.output_modalities or []),
            # The column holds only a route or "" (values_from_catalogue writes it).
            image_route=cast("ImageRoute | None", self.image_route or None),
            aspect_ratios=list(self.aspect_ratios or []),
            resolutions=list(self.resolutions or []),
            sizes=list(self.sizes or []),
            durations=[int(d) for d in self.durations or []],
            max_n=self.max_n,
            pricing=dict(self.pricing or {}),
            frame_images=list(self.frame_images or []),
            generate_audio=self.generate_audio,
            description=self.description,
            context_length=self.context_length,
        )

    @staticmethod
    def values_from_catalogue(entry: CatalogueModel) -> dict:
        """Column values for a catalogue entry (JSON-ready, kinds sorted)."""
        data = entry.as_dict()
        values: dict[str, Any] = {name: data.get(name) for name in ProviderModel.CATALOGUE_FIELDS}
        values["image_route"] = values["image_route"] or ""
        values["name"] = (values["name"] or entry.id)[:300]
        values["description"] = values["description"] or ""
        for name in (
            "kinds",
            "input_modalities",
            "output_modalities",
            "aspect_ratios",
            "resolutions",
            "sizes",
            "durations",
            "frame_images",
        ):
            values[name] = list(values[name] or [])
        values["pricing"] = dict(values["pricing"] or {})
        for name in ("max_n", "context_length"):  # unsigned columns
            if values[name] is not None and values[name] < 0:
                values[name] = None
        kinds = set(values["kinds"])
        values["is_text"] = "text" in kinds
        values["is_image"] = "image" in kinds
        values["is_video"] = "video" in kinds
        values["is_embedding"] = "embedding" in kinds
        return values
