"""The beat's sweep (every VIDEO_SWEEP_INTERVAL): the safety net that carries every job on
to a terminal state whatever a lost task or a killed worker left behind."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from core.db import release_db_connection
from videos import dispatch
from videos.models import VideoJob
from videos.transitions import fail

log = logging.getLogger(__name__)

Status = VideoJob.Status
SWEEP_BATCH = 1000


@dataclass(frozen=True)
class SweepResult:
    failed_past_deadline: int = 0
    submits_sent: int = 0
    polls_sent: int = 0
    deleted: int = 0

    def __str__(self) -> str:
        return (
            f"{self.failed_past_deadline} failed past deadline, {self.submits_sent} submits sent, "
            f"{self.polls_sent} polls sent, {self.deleted} old jobs deleted"
        )


def video_jobs_sweep(*, now=None) -> SweepResult:
    """Fail jobs past their deadline, send the task of any job whose own task is late by
    more than VIDEO_SWEEP_GRACE (broker down, worker killed), and delete failed and
    cancelled jobs older than VIDEO_FINISHED_RETENTION_DAYS."""
    now = now or timezone.now()
    failed = _fail_past_deadline(now=now)
    late = now - timedelta(seconds=settings.VIDEO_SWEEP_GRACE)
    queued = _late_jobs(status=Status.QUEUED, late=late)
    processing = _late_jobs(status=Status.PROCESSING, late=late)
    deleted = _delete_old_jobs(now=now)
    release_db_connection()
    for pk in queued:
        dispatch.enqueue_submit(job_id=pk)
    for pk in processing:
        dispatch.enqueue_poll(job_id=pk)
    result = SweepResult(failed, len(queued), len(processing), deleted)
    if any((failed, queued, processing, deleted)):
        log.info("video sweep: %s", result)
    return result


def _fail_past_deadline(*, now) -> int:
    failed = 0
    for job in VideoJob.objects.filter(status__in=VideoJob.ACTIVE, deadline_at__lte=now).only(
        "pk", "status", "created_at", "deadline_at"
    )[:SWEEP_BATCH]:
        minutes = max(1, round((job.deadline_at - job.created_at).total_seconds() / 60))
        failed += fail(
            job,
            from_states=VideoJob.ACTIVE,
            error=f"The video was not ready within {minutes} minutes, so the job was stopped.",
            detail=f"deadline {job.deadline_at.isoformat()} passed while {job.status}",
        )
    return failed


def _late_jobs(*, status: str, late) -> list[int]:
    """Jobs in ``status`` whose next action was due before ``late``, longest waiting first."""
    return list(
        VideoJob.objects.filter(status=status, next_action_at__lte=late)
        .order_by("next_action_at")
        .values_list("pk", flat=True)[:SWEEP_BATCH]
    )


def _delete_old_jobs(*, now) -> int:
    days = settings.VIDEO_FINISHED_RETENTION_DAYS
    if days <= 0:
        return 0
    old = VideoJob.objects.filter(
        status__in=(Status.FAILED, Status.CANCELLED), finished_at__lt=now - timedelta(days=days)
    )
    pks = list(old.values_list("pk", flat=True)[:SWEEP_BATCH])
    if not pks:
        return 0
    # Their stored files go with them (videos.signals).
    return VideoJob.objects.filter(pk__in=pks, status__in=(Status.FAILED, Status.CANCELLED)).delete()[0]
