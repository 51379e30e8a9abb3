"""Each person's share of the disk: what their stored files take, and the quota that
bounds it (STORAGE_QUOTA_MB; 0 means none).

Every stored file's row carries its size (GeneratedImage.size_bytes, for generated and
uploaded images alike; VideoJob.video_bytes and source_image_bytes), so what a person
uses is one query summing those columns, never a walk over the disk. Past the quota, new
image and video generations and uploads are refused with 409 (a Conflict: the request is
fine, the account's state stands in its way, and deleting files resolves it; not 413,
which says the request body itself is too large, nor 507, which says the server's disk
is full) naming what is used and what to delete.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import F, IntegerField, OuterRef, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from core.errors import Conflict
from generation.models import GeneratedImage
from videos.models import VideoJob

MB = 1024 * 1024


class StorageQuotaExceeded(Conflict):
    default_message = "Your stored images and videos use all of your storage; delete some to make room."

    def __init__(self, message: str | None = None, *, used: int, quota: int, **kwargs):
        super().__init__(message, **kwargs)
        self.extra = {"storage": {"used_bytes": used, "quota_bytes": quota}}


def quota_bytes() -> int | None:
    """The per-person quota in bytes; None when there is none."""
    return settings.STORAGE_QUOTA_MB * MB if settings.STORAGE_QUOTA_MB > 0 else None


def used_bytes(*, user_id: int) -> int:
    """Bytes of the person's stored images (uploads included) and videos (and a pending
    job's uploaded first frame): one query."""
    images = (
        GeneratedImage.objects.filter(generation__owner_id=OuterRef("pk"))
        .order_by()
        .values("generation__owner_id")
        .annotate(total=Sum("size_bytes"))
        .values("total")
    )
    videos = (
        VideoJob.objects.filter(owner_id=OuterRef("pk"))
        .order_by()
        .values("owner_id")
        .annotate(total=Sum(F("video_bytes") + F("source_image_bytes")))
        .values("total")
    )
    zero = Value(0, output_field=IntegerField())
    row = (
        get_user_model()
        .objects.filter(pk=user_id)
        .values(
            images=Coalesce(Subquery(images, output_field=IntegerField()), zero),
            videos=Coalesce(Subquery(videos, output_field=IntegerField()), zero),
        )
        .first()
    )
    return 0 if row is None else int(row["images"]) + int(row["videos"])


def storage_usage(*, user_id: int) -> dict:
    """``{"used_bytes", "quota_bytes"}`` (quota None without one), for the usage page and API."""
    return {"used_bytes": used_bytes(user_id=user_id), "quota_bytes": quota_bytes()}


def human(size: int) -> str:
    if size < 1024:
        return f"{size} bytes"
    amount = float(size)
    for unit in ("KB", "MB", "GB"):
        amount /= 1024
        if amount < 1024 or unit == "GB":
            break
    return f"{amount:.1f} {unit}"


def check_room(*, user_id: int, adding: int = 0) -> None:
    """Refuse (StorageQuotaExceeded, 409) a request that would store more for a person
    whose files already fill their quota, or whose upload of ``adding`` bytes would pass
    it. What a generation will store is not known before the provider answers: the last
    one that starts under the quota may end a little past it."""
    quota = quota_bytes()
    if quota is None:
        return
    used = used_bytes(user_id=user_id)
    if used >= quota or used + adding > quota:
        raise StorageQuotaExceeded(
            f"Your stored images and videos use {human(used)} of your {human(quota)}"
            + (f" (this upload adds {human(adding)})" if adding else "")
            + "; delete some from the History or the gallery to make room, then try again.",
            used=used,
            quota=quota,
        )
