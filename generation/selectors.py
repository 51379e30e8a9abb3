"""Reads of generations shared by the API, the pages and other apps (videos)."""
from __future__ import annotations

from django.db.models import Count, QuerySet, Sum

from core.errors import NotFound
from core.parsing import int_or_none
from generation.models import Generation, GeneratedImage


def user_generations(*, user, kind: str | None = None) -> QuerySet[Generation]:
    """The user's own generations, newest first, with their images."""
    generations = Generation.objects.filter(owner=user)
    if kind:
        generations = generations.filter(kind=kind)
    return generations.order_by("-created_at", "-id").prefetch_related("images")


def user_generation(*, user, generation_id, allow_admin: bool = False) -> Generation:
    """One of the user's generations (any one for an admin when ``allow_admin``);
    someone else's is NotFound (404), never 403."""
    return _one_visible_to(user, Generation.objects.prefetch_related("images"), pk=int_or_none(generation_id),
                           owner_lookup="owner", allow_admin=allow_admin, not_found="Generation not found.")


def user_image(*, user, image_id, allow_admin: bool = False) -> GeneratedImage:
    """A stored image the user owns (any image for an admin when ``allow_admin``);
    otherwise NotFound (404), never revealing that it exists."""
    return _one_visible_to(user, GeneratedImage.objects.select_related("generation"), pk=int_or_none(image_id),
                           owner_lookup="generation__owner", allow_admin=allow_admin, not_found="Image not found.")


def _one_visible_to(user, rows: QuerySet, *, pk: int | None, owner_lookup: str, allow_admin: bool, not_found: str):
    """The row ``pk`` of ``rows`` if ``user`` owns it (or is an admin, when ``allow_admin``);
    otherwise NotFound, whether or not it exists."""
    row = None
    if pk is not None and getattr(user, "is_authenticated", False):
        rows = rows.filter(pk=pk)
        if not (allow_admin and user.is_admin):
            rows = rows.filter(**{owner_lookup: user})
        row = rows.first()
    if row is None:
        raise NotFound(not_found)
    return row


def generation_stats() -> dict:
    """Site-wide counts by kind and status and the total provider cost (admin stats)."""
    by_kind = {kind: 0 for kind in Generation.Kind.values}
    for row in Generation.objects.values("kind").annotate(n=Count("id")).order_by():
        by_kind[row["kind"]] = row["n"]
    by_status = {status: 0 for status in Generation.Status.values}
    for row in Generation.objects.values("status").annotate(n=Count("id")).order_by():
        by_status[row["status"]] = row["n"]
    totals = Generation.objects.aggregate(cost=Sum("cost"), tokens=Sum("total_tokens"))
    return {
        "total": sum(by_kind.values()),
        "by_kind": by_kind,
        "by_status": by_status,
        "total_tokens": totals["tokens"] or 0,
        "total_cost": totals["cost"] or 0,
    }


def user_usage_summary(*, user) -> dict:
    """One user's generation counts, tokens and cost (profile page, admin views)."""
    generations = Generation.objects.filter(owner=user)
    by_kind = {kind: 0 for kind in Generation.Kind.values}
    for row in generations.values("kind").annotate(n=Count("id")).order_by():
        by_kind[row["kind"]] = row["n"]
    totals = generations.aggregate(
        cost=Sum("cost"), prompt=Sum("prompt_tokens"), completion=Sum("completion_tokens"),
        tokens=Sum("total_tokens"),
    )
    return {
        "total": sum(by_kind.values()),
        "by_kind": by_kind,
        "failed": generations.filter(status=Generation.Status.FAILED).count(),
        "images": GeneratedImage.objects.filter(generation__owner=user).count(),
        "prompt_tokens": totals["prompt"] or 0,
        "completion_tokens": totals["completion"] or 0,
        "total_tokens": totals["tokens"] or 0,
        "total_cost": totals["cost"] or 0,
    }
