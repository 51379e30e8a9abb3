"""Reads of video jobs shared by the API, the pages, the admin panel and commands."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q, QuerySet, Sum
from django.urls import reverse

from core.errors import NotFound
from core.parsing import int_or_none
from videos.models import VideoJob

# What the status endpoint (polled every few seconds by every open page) reads: one
# indexed query by primary key and owner, no joins, no big columns.
STATUS_FIELDS = ("id", "status", "progress", "video_file", "error", "created_at", "updated_at")


def user_video_job(*, user, job_id) -> VideoJob:
    """One of the user's jobs; someone else's (or none) is NotFound (404), never 403."""
    pk = int_or_none(job_id)
    job = VideoJob.objects.filter(pk=pk, owner=user).first() if pk is not None else None
    if job is None:
        raise NotFound("Video job not found.")
    return job


def user_video_file_job(*, user, job_id, allow_admin: bool = False) -> VideoJob:
    """A completed job with a stored video that the user owns (any such job for an admin
    when ``allow_admin``); otherwise NotFound (404), never revealing that it exists."""
    pk = int_or_none(job_id)
    job = None
    if pk is not None and getattr(user, "is_authenticated", False):
        jobs = VideoJob.objects.filter(pk=pk, status=VideoJob.Status.COMPLETED)
        if not (allow_admin and user.is_admin):
            jobs = jobs.filter(owner=user)
        job = jobs.only("pk", "video_file").first()
    if job is None or not job.video_file:
        raise NotFound("Video not found.")
    return job


def user_video_status(*, user, job_id) -> dict:
    """The status endpoint's answer for one of the user's jobs (NotFound otherwise)."""
    pk = int_or_none(job_id)
    row = VideoJob.objects.filter(pk=pk, owner=user).values(*STATUS_FIELDS).first() if pk is not None else None
    if row is None:
        raise NotFound("Video job not found.")
    return status_body(row)


def visible_video_statuses(*, user, job_ids) -> list[dict]:
    """Status bodies of those of ``job_ids`` the user may watch live: their own jobs, any
    job for an admin. Others' ids (and ids of no job) are left out, not an error."""
    jobs = VideoJob.objects.filter(pk__in=list(job_ids))
    if not user.is_admin:
        jobs = jobs.filter(owner=user)
    return [status_body(row) for row in jobs.order_by("id").values(*STATUS_FIELDS)]


def video_status_rows(*, job_ids) -> list[dict]:
    """The status fields of every job in ``job_ids``, in one query by primary key: what
    the live watcher (videos.live) reads each interval for all open streams at once. No
    owner filter: streams checked who may watch what when they connected."""
    return list(VideoJob.objects.filter(pk__in=list(job_ids)).order_by().values(*STATUS_FIELDS))


def status_body(row: dict) -> dict:
    completed = row["status"] == VideoJob.Status.COMPLETED and row["video_file"]
    return {
        "id": row["id"],
        "status": row["status"],
        "progress": 100 if completed else row["progress"],
        "video_url": reverse("videos:file", kwargs={"pk": row["id"]}) if completed else None,
        "error": row["error"] or None,
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
    }


def user_video_jobs(*, user, status: str | None = None) -> QuerySet[VideoJob]:
    """The user's jobs, newest first, optionally of one status."""
    jobs = VideoJob.objects.filter(owner=user).defer("usage", "error_detail")
    if status:
        jobs = jobs.filter(status=status)
    return jobs.order_by("-created_at", "-id")


def video_stats() -> dict:
    """Site-wide job counts by status (admin stats), with the total."""
    counts = {status: 0 for status in VideoJob.Status.values}
    for row in VideoJob.objects.values("status").annotate(n=Count("id")).order_by():
        counts[row["status"]] = row["n"]
    return {"total": sum(counts.values()), "by_status": counts}


def user_video_usage(*, user) -> dict:
    """One user's video jobs: how many, how many completed and failed, and their known
    cost (profile page). One aggregate query."""
    totals = VideoJob.objects.filter(owner=user).aggregate(
        total=Count("id"),
        completed=Count("id", filter=Q(status=VideoJob.Status.COMPLETED)),
        failed=Count("id", filter=Q(status=VideoJob.Status.FAILED)),
        cost=Sum("cost"),
    )
    return {**totals, "cost": totals["cost"] or 0}


def user_gallery(*, user, page: int = 1, per_page: int = 60, kind: str | None = None) -> tuple[list[dict], bool]:
    """One page of the user's images and videos (only one ``kind``, "image" or "video",
    when given), newest first, as cards for the gallery grid, and whether older cards
    exist (a next page)."""
    from generation.models import GeneratedImage

    # Both kinds share one timeline: the first `upto` of each contain the page.
    upto = page * per_page + 1
    cards: list[dict[str, Any]] = []
    if kind != "image":
        cards += [
            {"kind": "video", "created_at": job.created_at, "job": job} for job in user_video_jobs(user=user)[:upto]
        ]
    if kind != "video":
        images = (
            GeneratedImage.objects.filter(generation__owner=user)
            .select_related("generation")
            .order_by("-generation__created_at", "-id")[:upto]
        )
        cards += [{"kind": "image", "created_at": image.generation.created_at, "image": image} for image in images]
    cards.sort(key=lambda card: card["created_at"], reverse=True)
    return cards[(page - 1) * per_page : page * per_page], len(cards) > page * per_page


def user_source_images(*, user, limit: int = 24):
    """The user's own generated images, newest first: the image-to-video picker."""
    from generation.models import GeneratedImage

    return (
        GeneratedImage.objects.filter(generation__owner=user)
        .select_related("generation")
        .order_by("-generation__created_at", "-id")[:limit]
    )
