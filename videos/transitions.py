"""The video job state machine: which status changes exist, and the one conditional
UPDATE that makes each of them (DESIGN.md's video lifecycle).

A status change is one UPDATE from the states the job may leave; the row count says
whether this caller won. So a cancel racing a completion ends in exactly one terminal
state, and no worker overwrites a cancel.
"""

from __future__ import annotations

import logging

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from billing import services as billing
from core.db import retry_on_write_conflict
from core.files import delete_stored_file
from videos.models import VideoJob

log = logging.getLogger(__name__)

Status = VideoJob.Status

# Every status change a job may make. Anything else is a programming error.
ALLOWED_TRANSITIONS = frozenset(
    {
        (Status.QUEUED, Status.PROCESSING),
        (Status.QUEUED, Status.FAILED),
        (Status.QUEUED, Status.CANCELLED),
        (Status.PROCESSING, Status.COMPLETED),
        (Status.PROCESSING, Status.FAILED),
        (Status.PROCESSING, Status.CANCELLED),
        # An operator's retry of a failed job (manage.py video_jobs retry).
        (Status.FAILED, Status.QUEUED),
        (Status.FAILED, Status.PROCESSING),
    }
)


def transition(*, job_id: int, from_states, to: str, **changes) -> bool:
    """Move a job to ``to`` if its status is one of ``from_states``; True if this call did.

    One conditional UPDATE. Leaving the active states frees the job's in-flight slot and
    stamps ``finished_at``; ``changes`` are written in the same statement. A job that
    ends (completed, failed or cancelled) also lets go of its uploaded source image,
    once this commits: the provider has it or will never need it, and a job that ends
    at once (a cancel) must not keep megabytes on disk for the retention period.
    """
    from_states = tuple(from_states)
    for source in from_states:
        if (source, to) not in ALLOWED_TRANSITIONS:
            raise ValueError(f"A video job may not go from {source} to {to}.")
    if to in VideoJob.TERMINAL:
        changes.setdefault("in_flight_slot", None)
        changes.setdefault("finished_at", timezone.now())
        changes.setdefault("next_action_at", None)
    moved = update_if(job_id=job_id, statuses=from_states, status=to, **changes) == 1
    if moved and to in VideoJob.TERMINAL:
        # The job's budget reservation becomes what it cost, or is released (billing).
        billing.safely(
            f"settling video job {job_id}",
            lambda: billing.video_job_ended(
                job_id=job_id,
                status=to,
                cost=changes.get("cost"),
                submitted=lambda: VideoJob.objects.filter(pk=job_id, provider_job_id__isnull=False).exists(),
            ),
        )
        _drop_source_file(job_id=job_id)
    return moved


def _drop_source_file(*, job_id: int) -> None:
    """Clear an ended job's uploaded source image and delete its file after the commit
    (a rolled-back change keeps it). Jobs that started from a URL or one of the owner's
    images have no file of their own."""
    name = VideoJob.objects.filter(pk=job_id).values_list("source_image_file", flat=True).first()
    if not name:
        return
    if update_if(
        job_id=job_id,
        statuses=VideoJob.TERMINAL,
        condition=Q(source_image_file=name),
        source_image_file="",
        source_image_bytes=0,
        touch=False,
    ):
        storage = VideoJob._meta.get_field("source_image_file").storage
        transaction.on_commit(lambda: delete_stored_file(storage, name))


def update_if(*, job_id: int, statuses, condition: Q | None = None, touch: bool = True, **changes) -> int:
    """UPDATE one job if its status is in ``statuses`` (and ``condition`` holds); row count.

    DuckDB refuses a second concurrent transaction on the same row ("Conflict on update")
    instead of making it wait: the loser waits a moment for the winner to commit and
    tries again; since the filter re-reads the status, it then matches nothing if the
    winner finished the job.
    """
    if touch:
        changes.setdefault("updated_at", timezone.now())
    rows = VideoJob.objects.filter(pk=job_id, status__in=tuple(statuses))
    if condition is not None:
        rows = rows.filter(condition)
    return retry_on_write_conflict(lambda: rows.update(**changes), what=f"video job {job_id}")


def fail(job: VideoJob, *, from_states, error: str, detail: str = "", **changes) -> bool:
    """Fail the job if it is still in one of ``from_states``: ``error`` for its owner,
    ``detail`` for administrators. True if this call did."""
    failed = transition(
        job_id=job.pk,
        from_states=from_states,
        to=Status.FAILED,
        error=error[:2000],
        error_detail=detail[:4000],
        **changes,
    )
    if failed:
        log.info("video job %s failed: %s (%s)", job.pk, error, detail)
    return failed
