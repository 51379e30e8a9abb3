"""The worker's side of a video job, run by videos.tasks: submit it to the provider, poll
it, and collect the finished video into our storage.

* Workers take a job with a lease: a conditional UPDATE that pushes ``next_action_at``
  forward while they act. A task delivered twice, or sent again by the sweep, finds
  nothing to take and does nothing.
* What the provider tells us (job id, polling URL) is written as soon as we know it, and
  no database connection is held while we wait on the provider: a worker killed at any
  moment loses nothing, and the sweep carries every job on to a terminal state.
"""

from __future__ import annotations

import logging
import random
import tempfile
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.files import File
from django.db.models import Q
from django.utils import timezone

from billing import services as billing
from core import diskfull
from core.db import release_db_connection
from core.errors import describe_failure
from core.parsing import cost_or_none
from openrouter import errors as provider
from openrouter.client import get_client
from openrouter.types import VIDEO_RUNNING, VideoJobStatus
from videos import dispatch
from videos.models import VideoJob
from videos.sources import first_frame_url
from videos.transitions import fail, transition, update_if

log = logging.getLogger(__name__)

Status = VideoJob.Status

# Provider failures worth trying again later; the rest (400/401/402/403/404) end the job.
TRANSIENT_ERRORS = (
    provider.ProviderRateLimited,
    provider.ProviderUnavailable,
    provider.ProviderTimeout,
    provider.ProviderMalformedResponse,
)
# An ETA task may fire a hair early by the worker's clock; a job this close to due is due.
CLOCK_SLACK = timedelta(seconds=1)
PROVIDER_ENDINGS = {
    "failed": "The AI provider could not generate this video.",
    "expired": "The job expired at the AI provider before the video could be collected.",
    "cancelled": "The AI provider cancelled this job.",
}


def _take(*, job_id: int, status: str, condition: Q) -> bool:
    """Lease a due job in ``status`` for VIDEO_TASK_LEASE; True if this call got it."""
    now = timezone.now()
    return bool(
        update_if(
            job_id=job_id,
            statuses=(status,),
            condition=condition & Q(next_action_at__lte=now + CLOCK_SLACK),
            next_action_at=now + timedelta(seconds=settings.VIDEO_TASK_LEASE),
            touch=False,
        )
    )


# ------------------------------------------------------------------ submit


def video_job_submit(*, job_id: int) -> bool:
    """Send a queued job to the provider; True if this call did.

    Safe to run twice or concurrently: the call takes the job with a lease first, and a
    job that has a provider id is never submitted again.
    """
    if not _take(job_id=job_id, status=Status.QUEUED, condition=Q(provider_job_id__isnull=True)):
        return False
    job = VideoJob.objects.select_related("source_image").get(pk=job_id)
    try:
        first_frame = first_frame_url(job)
    except (OSError, ValueError) as exc:
        fail(
            job,
            from_states=(Status.QUEUED,),
            error="The source image could not be read any more (was it deleted?). Start a new job.",
            detail=f"source image unreadable: {exc!r}",
        )
        return True
    release_db_connection()
    try:
        submission = get_client().video_submit(
            model=job.model,
            prompt=job.prompt,
            aspect_ratio=job.aspect_ratio or None,
            resolution=job.resolution or None,
            duration=job.duration,
            first_frame_url=first_frame,
        )
    except provider.ProviderError as exc:
        _after_submit_error(job, exc)
        return True
    now = timezone.now()
    next_poll = now + timedelta(seconds=settings.VIDEO_POLL_INTERVAL)
    if transition(
        job_id=job_id,
        from_states=(Status.QUEUED,),
        to=Status.PROCESSING,
        provider_job_id=submission.id,
        polling_url=submission.polling_url,
        submitted_at=now,
        next_action_at=next_poll,
        consecutive_failures=0,
        error_detail="",
    ):
        dispatch.enqueue_poll(job_id=job_id, countdown=settings.VIDEO_POLL_INTERVAL)
    else:
        # Cancelled (or past its deadline) while the provider took it: the status stands;
        # only note the provider's id, since the provider may still bill for it.
        update_if(
            job_id=job_id,
            statuses=VideoJob.TERMINAL,
            condition=Q(provider_job_id__isnull=True),
            provider_job_id=submission.id,
            polling_url=submission.polling_url,
            touch=False,
        )
        billing.safely(f"charging video job {job_id}", lambda: billing.video_job_billed(job_id=job_id))
    return True


def _after_submit_error(job: VideoJob, exc: provider.ProviderError) -> None:
    failures = job.consecutive_failures + 1
    if isinstance(exc, TRANSIENT_ERRORS) and failures < settings.VIDEO_SUBMIT_MAX_ATTEMPTS:
        delay = _backoff(failures, getattr(exc, "retry_after", None))
        log.info("video job %s: submit failed (%s), retry %s in %.1fs", job.pk, exc, failures, delay)
        # Note: after a read timeout the provider may have taken the job anyway; a transient
        # failure is still retried, and the provider offers no idempotency key to avoid a duplicate.
        if update_if(
            job_id=job.pk,
            statuses=(Status.QUEUED,),
            consecutive_failures=failures,
            next_action_at=timezone.now() + timedelta(seconds=delay),
            error_detail=str(exc),
        ):
            dispatch.enqueue_submit(job_id=job.pk, countdown=delay)
        return
    message = _provider_message(exc)
    if isinstance(exc, TRANSIENT_ERRORS):
        message = f"The AI provider could not take the job after {failures} attempts. {message}"
    fail(job, from_states=(Status.QUEUED,), error=message, detail=str(exc))


# ------------------------------------------------------------------ poll


def video_job_poll(*, job_id: int) -> bool:
    """Poll a processing job once if it is due; True if this call did.

    Running: progress saved, next poll scheduled. Completed: the video is downloaded into
    our storage, then the job completes (unless it was cancelled meanwhile, in which case
    the file is dropped). Failed/expired/cancelled at the provider: the job fails with
    the provider's reason. Safe to run twice: a second call finds the job not due.
    """
    if not _take(job_id=job_id, status=Status.PROCESSING, condition=Q()):
        return False
    job = VideoJob.objects.get(pk=job_id)
    release_db_connection()
    try:
        result = get_client().video_poll(polling_url=job.polling_url)
    except provider.ProviderError as exc:
        _after_poll_error(job, exc)
        return True
    if result.status in VIDEO_RUNNING:
        _schedule_next_poll(job, progress=result.progress)
    elif result.status == "completed":
        _complete(job, result)
    else:
        error = PROVIDER_ENDINGS.get(result.status, f"The AI provider ended the job ({result.status}).")
        if result.error:
            error = f"{error} The provider said: {result.error}"
        fail(
            job,
            from_states=(Status.PROCESSING,),
            error=error,
            detail=f"provider status {result.status}: {result.error or ''} {result.raw!r}"[:4000],
            **_cost_fields(result),
        )
    return True


def _schedule_next_poll(job: VideoJob, *, progress: int | None) -> None:
    changes: dict[str, Any] = {
        "consecutive_failures": 0,
        "next_action_at": timezone.now() + timedelta(seconds=settings.VIDEO_POLL_INTERVAL),
    }
    if progress is not None:
        changes["progress"] = max(0, min(100, progress))
    if update_if(job_id=job.pk, statuses=(Status.PROCESSING,), **changes):
        dispatch.enqueue_poll(job_id=job.pk, countdown=settings.VIDEO_POLL_INTERVAL)


def _after_poll_error(job: VideoJob, exc: provider.ProviderError | OSError) -> None:
    failures = job.consecutive_failures + 1
    if isinstance(exc, (provider.ProviderNotFound, provider.ProviderBadRequest)):
        fail(
            job,
            from_states=(Status.PROCESSING,),
            error="The AI provider no longer knows this job; start a new one.",
            detail=str(exc),
        )
        return
    if failures >= settings.VIDEO_POLL_MAX_ERRORS:
        fail(
            job,
            from_states=(Status.PROCESSING,),
            error=(
                f"The finished video could not be stored {failures} times in a row. "
                if isinstance(exc, OSError)
                else f"The AI provider could not be reached about this job {failures} times in a row. "
            )
            + _provider_message(exc),
            detail=str(exc),
        )
        return
    delay = max(settings.VIDEO_POLL_INTERVAL, _backoff(failures, getattr(exc, "retry_after", None)))
    log.info("video job %s: poll failed (%s), retry %s in %.1fs", job.pk, exc, failures, delay)
    if update_if(
        job_id=job.pk,
        statuses=(Status.PROCESSING,),
        consecutive_failures=failures,
        next_action_at=timezone.now() + timedelta(seconds=delay),
        error_detail=str(exc),
    ):
        dispatch.enqueue_poll(job_id=job.pk, countdown=delay)


# ------------------------------------------------------------------ complete


def _complete(job: VideoJob, result: VideoJobStatus) -> None:
    """Store the finished video (once: a job that has its file keeps it), then complete
    the job; if it was cancelled or failed meanwhile, that state stands and the file goes."""
    downloaded_now = not job.video_file
    if downloaded_now:
        if not VideoJob.objects.filter(pk=job.pk, status=Status.PROCESSING).exists():
            return  # cancelled while we polled: no point downloading
        if not _download(job, url=result.content_urls[0]):
            return
    done = transition(
        job_id=job.pk,
        from_states=(Status.PROCESSING,),
        to=Status.COMPLETED,
        video_file=job.video_file.name,
        video_bytes=job.video_bytes,
        provider_video_url=result.content_urls[0],
        progress=100,
        consecutive_failures=0,
        error="",
        error_detail="",
        **_cost_fields(result),
    )
    if not done:
        log.info("video job %s finished at the provider after it ended here; dropping the file", job.pk)
        if downloaded_now and job.video_file.name:
            job.video_file.storage.delete(job.video_file.name)


def _download(job: VideoJob, *, url: str) -> bool:
    """Download the video into storage, named by the field's upload_to; on ``job`` (not
    yet saved) the file and its size. False if the provider call failed (handled)."""
    release_db_connection()
    try:
        with tempfile.TemporaryFile() as buffer:
            size = get_client().video_download(url=url, dest=buffer)
            buffer.seek(0)
            job.video_file.save("video.mp4", File(buffer), save=False)
    except OSError as exc:
        if not diskfull.is_storage_full(exc):
            raise
        # A full disk: nothing was kept (core.storage), the provider still has the video, and
        # the next poll downloads it again once there is room (or the job fails after
        # VIDEO_POLL_MAX_ERRORS tries, saying storage is full).
        diskfull.report(exc, what=f"storing the video of job {job.pk}")
        _after_poll_error(job, exc)
        return False
    except provider.ProviderError as exc:
        if isinstance(exc, provider.ProviderMalformedResponse):  # e.g. larger than we accept
            fail(
                job,
                from_states=(Status.PROCESSING,),
                error=f"The finished video could not be stored: {_provider_message(exc)}",
                detail=str(exc),
            )
        else:
            _after_poll_error(job, exc)
        return False
    job.video_bytes = size
    return True


def _cost_fields(result: VideoJobStatus) -> dict:
    usage = result.raw.get("usage") if isinstance(result.raw.get("usage"), dict) else {}
    fields: dict = {"usage": usage}
    if (cost := cost_or_none(result.cost)) is not None:
        fields["cost"] = cost
    return fields


def _backoff(failures: int, retry_after: float | None = None) -> float:
    base = settings.VIDEO_RETRY_BACKOFF * 2 ** (failures - 1)
    delay = min(settings.VIDEO_RETRY_BACKOFF_MAX, base)
    delay = delay / 2 + random.random() * delay / 2  # jitter: jobs that failed together retry apart
    return max(delay, float(retry_after or 0))


def _provider_message(exc: provider.ProviderError | OSError) -> str:
    return describe_failure(diskfull.StorageFull() if diskfull.is_storage_full(exc) else exc).message
