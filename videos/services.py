"""State changes and provider calls for video jobs (DESIGN.md's video lifecycle).

Rules every function here keeps:

* A status change is one conditional UPDATE from the states it may leave
  (:func:`transition`); the row count says whether this caller won. So a cancel racing
  a completion ends in exactly one terminal state, and no worker overwrites a cancel.
* Workers take a job with a lease: a conditional UPDATE that pushes ``next_poll_at``
  forward while they act. A task delivered twice, or sent again by the sweep, finds
  nothing to take and does nothing.
* What the provider tells us (job id, polling URL) is written as soon as we know it,
  and no database connection is held while we wait on the provider: a worker killed at
  any moment loses nothing, and the sweep carries every job on to a terminal state.
"""
from __future__ import annotations

import base64
import binascii
import io
import logging
import random
import re
import tempfile
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.validators import URLValidator
from django.db import IntegrityError, OperationalError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from catalogue.selectors import catalogue_entry
from core.db import is_unique_clash, release_db_connection, retry_on_write_conflict
from core.errors import Conflict, InvalidInput, NotFound, TooManyRequests, describe_failure
from core.parsing import cost_or_none, int_or_none
from generation.selectors import user_image
from openrouter import errors as provider
from openrouter.client import get_client
from openrouter.types import VIDEO_RUNNING, VideoJobStatus
from openrouter.validation import ParameterNotAccepted, validate_video_params
from videos import dispatch
from videos.models import VideoJob

log = logging.getLogger(__name__)

Status = VideoJob.Status

# Every status change a job may make. Anything else is a programming error.
ALLOWED_TRANSITIONS = frozenset({
    (Status.QUEUED, Status.PROCESSING),
    (Status.QUEUED, Status.FAILED),
    (Status.QUEUED, Status.CANCELLED),
    (Status.PROCESSING, Status.COMPLETED),
    (Status.PROCESSING, Status.FAILED),
    (Status.PROCESSING, Status.CANCELLED),
    # An operator's retry of a failed job (manage.py video_jobs retry).
    (Status.FAILED, Status.QUEUED),
    (Status.FAILED, Status.PROCESSING),
})

# Provider failures worth trying again later; the rest (400/401/402/403/404) end the job.
TRANSIENT_ERRORS = (
    provider.ProviderRateLimited, provider.ProviderUnavailable, provider.ProviderTimeout,
    provider.ProviderMalformedResponse,
)
# An ETA task may fire a hair early by the worker's clock; a job this close to due is due.
CLOCK_SLACK = timedelta(seconds=1)
# Tries at a free in-flight slot when concurrent requests of one user take the one chosen.
SLOT_ATTEMPTS = 6
# The slot column is a small integer: a cap above this is as good as no cap.
MAX_SLOT = 32767
IMAGE_MEDIA_TYPES = {"image/png": "png", "image/jpeg": "jpg", "image/webp": "webp", "image/gif": "gif"}
_DATA_URL = re.compile(r"^data:(?P<type>[\w.+-]+/[\w.+-]+);base64,(?P<data>.*)$", re.DOTALL)


# ------------------------------------------------------------------ errors


class JobAlreadyFinished(Conflict):
    default_message = "This job has already finished; it cannot be cancelled."


class TooManyJobsInFlight(TooManyRequests):
    default_message = "You have too many video jobs in progress."


class VideoParameterError(InvalidInput):
    """A value the chosen model (or this API) does not accept; 400 naming the field."""


# ------------------------------------------------------------------ transitions


def transition(*, job_id: int, from_states, to: str, **changes) -> bool:
    """Move a job to ``to`` if its status is one of ``from_states``; True if this call did.

    One conditional UPDATE. Leaving the active states frees the job's in-flight slot and
    stamps ``finished_at``; ``changes`` are written in the same statement.
    """
    from_states = tuple(from_states)
    for source in from_states:
        if (source, to) not in ALLOWED_TRANSITIONS:
            raise ValueError(f"A video job may not go from {source} to {to}.")
    if to in VideoJob.TERMINAL:
        changes.setdefault("in_flight_slot", None)
        changes.setdefault("finished_at", timezone.now())
        changes.setdefault("next_poll_at", None)
    return _update_if(job_id=job_id, statuses=from_states, status=to, **changes) == 1


def _update_if(*, job_id: int, statuses, condition: Q | None = None, touch: bool = True, **changes) -> int:
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


# ------------------------------------------------------------------ create


@dataclass(frozen=True)
class _Source:
    url: str = ""
    image: object | None = None
    data: bytes = b""
    extension: str = ""


def video_job_create(
    *,
    owner,
    model: str,
    prompt: str,
    generation_type: str = VideoJob.GenerationType.TEXT_TO_VIDEO,
    aspect_ratio: str | None = None,
    resolution: str | None = None,
    duration: int | None = None,
    image_url: str | None = None,
    image_id: int | None = None,
) -> VideoJob:
    """Create a queued job and, once it is committed, send its submit task.

    Values are checked against the model's video catalogue entry first (400 naming the
    field and the accepted values); beyond VIDEO_MAX_JOBS_IN_FLIGHT active jobs the
    answer is 429. Image-to-video takes ``image_url`` (https, or a data URL within
    VIDEO_SOURCE_DATA_URL_MAX_BYTES) or ``image_id`` (one of the owner's images).
    """
    prompt = (prompt or "").strip()
    if not prompt:
        raise VideoParameterError("Describe the video you want.", field="prompt")
    image_to_video = generation_type == VideoJob.GenerationType.IMAGE_TO_VIDEO
    if generation_type not in VideoJob.GenerationType.values:
        raise VideoParameterError("Unknown generation type.", field="generation_type")
    entry = catalogue_entry(model_id=model, kind="video")
    source = _source_for(owner=owner, image_url=image_url, image_id=image_id) if image_to_video else _Source()
    try:
        validate_video_params(
            entry.as_catalogue_model(), aspect_ratio=aspect_ratio or None, resolution=resolution or None,
            duration=duration, has_image=image_to_video,
        )
    except ParameterNotAccepted as exc:
        # "image" means the model cannot start from an image: another model is the fix.
        raise VideoParameterError(str(exc), field="model" if exc.field == "image" else exc.field) from exc
    now = timezone.now()
    values = dict(
        owner=owner, generation_type=generation_type, model=entry.id, prompt=prompt,
        aspect_ratio=aspect_ratio or "", resolution=resolution or "", duration=duration,
        source_image_url=source.url, source_image=source.image,
        status=Status.QUEUED, next_poll_at=now, created_at=now, updated_at=now,
        deadline_at=now + timedelta(seconds=settings.VIDEO_JOB_DEADLINE),
    )
    return _insert_with_slot(owner=owner, values=values, source=source)


def _insert_with_slot(*, owner, values: dict, source: _Source) -> VideoJob:
    cap = settings.VIDEO_MAX_JOBS_IN_FLIGHT
    for _ in range(SLOT_ATTEMPTS):
        slot = _free_slot(owner=owner, cap=cap)
        stored_name = ""
        try:
            with transaction.atomic():
                job = VideoJob(in_flight_slot=slot, **values)
                if source.data:
                    job.source_image_file.save(f"source.{source.extension}", ContentFile(source.data), save=False)
                    stored_name = job.source_image_file.name
                job.save(force_insert=True)
                transaction.on_commit(lambda pk=job.pk: _submit_after_commit(job_id=pk))
            return job
        except (IntegrityError, OperationalError) as exc:
            if stored_name:
                default_storage.delete(stored_name)
            # Another request took this slot a moment ago: look again (not possible inside
            # an outer transaction, which the failed INSERT has spoilt on DuckDB).
            if connection.in_atomic_block or not is_unique_clash(exc):
                raise
        except BaseException:
            if stored_name:
                default_storage.delete(stored_name)
            raise
    raise _too_many(cap)


def _free_slot(*, owner, cap: int) -> int:
    """A free in-flight slot of the owner's, at random, so that concurrent requests rarely
    pick the same one; TooManyJobsInFlight when none is free."""
    taken = set(
        VideoJob.objects.filter(owner=owner, in_flight_slot__isnull=False).values_list("in_flight_slot", flat=True)
    )
    slots = min(cap, MAX_SLOT)
    if len(taken) < slots // 2:  # mostly free (a large cap): draw until a free one comes up
        while (slot := random.randint(1, slots)) in taken:
            pass
        return slot
    free = [slot for slot in range(1, slots + 1) if slot not in taken]
    if not free:
        raise _too_many(cap)
    return random.choice(free)


def _too_many(cap: int) -> TooManyJobsInFlight:
    return TooManyJobsInFlight(
        f"You already have {cap} video job{'s' if cap != 1 else ''} in progress, the most allowed at once. "
        "Wait for one to finish or cancel one, then try again.",
        retry_after=int(settings.VIDEO_POLL_INTERVAL),
    )


def _source_for(*, owner, image_url: str | None, image_id) -> _Source:
    image_url = (image_url or "").strip()
    if bool(image_url) == (image_id not in (None, "")):
        raise VideoParameterError("Give either image_url or image_id (one of them).", field="image_url")
    if image_id not in (None, ""):
        try:
            image = user_image(user=owner, image_id=image_id)
        except NotFound:
            raise VideoParameterError("You have no image with this id.", field="image_id") from None
        return _Source(image=image)
    if image_url.startswith("data:"):
        media_type, data = _decode_data_url(image_url)
        return _Source(data=data, extension=IMAGE_MEDIA_TYPES[media_type])
    if len(image_url) > 2048:
        raise VideoParameterError("The image URL is too long (2048 characters at most).", field="image_url")
    try:
        URLValidator(schemes=["https"])(image_url)
    except ValidationError:
        raise VideoParameterError(
            "image_url must be an https:// URL (or a data:image/... URL).", field="image_url") from None
    return _Source(url=image_url)


def _decode_data_url(value: str) -> tuple[str, bytes]:
    limit = settings.VIDEO_SOURCE_DATA_URL_MAX_BYTES
    # Base64 is 4/3 of the bytes: refuse an oversized URL before decoding it.
    if len(value) > limit * 4 // 3 + 200:
        raise VideoParameterError(f"The image is too large ({limit // (1024 * 1024)} MB at most).", field="image_url")
    match = _DATA_URL.match(value)
    if not match or match["type"].lower() not in IMAGE_MEDIA_TYPES:
        raise VideoParameterError(
            "A data URL must be a base64 PNG, JPEG, WebP or GIF image (data:image/png;base64,...).",
            field="image_url")
    try:
        data = base64.b64decode(match["data"], validate=True)
    except (binascii.Error, ValueError):
        raise VideoParameterError("The data URL's base64 content is invalid.", field="image_url") from None
    if len(data) > limit:
        raise VideoParameterError(f"The image is too large ({limit // (1024 * 1024)} MB at most).", field="image_url")
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as image:
            image.verify()
            real_type = Image.MIME.get(image.format or "", "")
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        raise VideoParameterError("The data URL does not hold a readable image.", field="image_url") from None
    if real_type not in IMAGE_MEDIA_TYPES:
        raise VideoParameterError("The image must be a PNG, JPEG, WebP or GIF.", field="image_url")
    return real_type, data


def _submit_after_commit(*, job_id: int) -> None:
    # Pickup at once rather than on the next sweep (off only to measure the seed's tick).
    if settings.VIDEO_SUBMIT_ON_COMMIT:
        dispatch.enqueue_submit(job_id=job_id)




# ------------------------------------------------------------------ cancel


def video_job_cancel(*, job_id: int, by=None) -> VideoJob:
    """Cancel an active job. ``by`` is the user asking (someone else's job is NotFound);
    None for an operator. Only our polling stops: the provider has no cancel, so it may
    still finish (and bill) the video, which we then ignore.

    Raises JobAlreadyFinished (409) when the job was already terminal, including when a
    completion won a race with this cancel.
    """
    jobs = VideoJob.objects.all() if by is None else VideoJob.objects.filter(owner=by)
    if not jobs.filter(pk=int_or_none(job_id)).exists():
        raise NotFound("Video job not found.")
    now = timezone.now()
    if transition(job_id=job_id, from_states=VideoJob.ACTIVE, to=Status.CANCELLED,
                  cancelled_at=now, finished_at=now):
        return VideoJob.objects.get(pk=job_id)
    job = VideoJob.objects.get(pk=job_id)
    raise JobAlreadyFinished(f"This job has already {_finished_words(job.status)}; it cannot be cancelled.")


def _finished_words(status: str) -> str:
    return {Status.COMPLETED: "completed", Status.FAILED: "failed", Status.CANCELLED: "been cancelled"}.get(
        status, status)


# ------------------------------------------------------------------ worker: submit


def video_job_submit(*, job_id: int) -> bool:
    """Send a queued job to the provider; True if this call did.

    Safe to run twice or concurrently: the call takes the job with a lease first, and a
    job that has a provider id is never submitted again.
    """
    now = timezone.now()
    taken = _update_if(
        job_id=job_id, statuses=(Status.QUEUED,),
        condition=Q(provider_job_id__isnull=True) & Q(next_poll_at__lte=now + CLOCK_SLACK),
        next_poll_at=now + timedelta(seconds=settings.VIDEO_TASK_LEASE), touch=False,
    )
    if not taken:
        return False
    job = VideoJob.objects.select_related("source_image").get(pk=job_id)
    try:
        first_frame = _first_frame_url(job)
    except (OSError, ValueError) as exc:
        _fail(job, from_states=(Status.QUEUED,),
              error="The source image could not be read any more (was it deleted?). Start a new job.",
              detail=f"source image unreadable: {exc!r}")
        return True
    release_db_connection()
    try:
        submission = get_client().video_submit(
            model=job.model, prompt=job.prompt, aspect_ratio=job.aspect_ratio or None,
            resolution=job.resolution or None, duration=job.duration, first_frame_url=first_frame,
        )
    except provider.ProviderError as exc:
        _after_submit_error(job, exc)
        return True
    now = timezone.now()
    next_poll = now + timedelta(seconds=settings.VIDEO_POLL_INTERVAL)
    if transition(job_id=job_id, from_states=(Status.QUEUED,), to=Status.PROCESSING,
                  provider_job_id=submission.id, polling_url=submission.polling_url,
                  submitted_at=now, next_poll_at=next_poll, attempts=0, error_detail=""):
        dispatch.enqueue_poll(job_id=job_id, countdown=settings.VIDEO_POLL_INTERVAL)
    else:
        # Cancelled (or past its deadline) while the provider took it: the status stands;
        # only note the provider's id, since the provider may still bill for it.
        _update_if(job_id=job_id, statuses=VideoJob.TERMINAL, condition=Q(provider_job_id__isnull=True),
                   provider_job_id=submission.id, polling_url=submission.polling_url, touch=False)
    return True


def _first_frame_url(job: VideoJob) -> str | None:
    if job.generation_type != VideoJob.GenerationType.IMAGE_TO_VIDEO:
        return None
    if job.source_image_url:
        return job.source_image_url
    if job.source_image_file:
        with job.source_image_file.open("rb") as handle:
            data = handle.read()
        extension = job.source_image_file.name.rsplit(".", 1)[-1].lower()
        media_type = next((t for t, ext in IMAGE_MEDIA_TYPES.items() if ext == extension), "image/png")
        return f"data:{media_type};base64,{base64.b64encode(data).decode('ascii')}"
    if job.source_image is not None:
        return job.source_image.as_data_url()
    raise ValueError("the job's source image is gone")


def _after_submit_error(job: VideoJob, exc: provider.ProviderError) -> None:
    attempts = job.attempts + 1
    if isinstance(exc, TRANSIENT_ERRORS) and attempts < settings.VIDEO_SUBMIT_MAX_ATTEMPTS:
        delay = _backoff(attempts, getattr(exc, "retry_after", None))
        log.info("video job %s: submit failed (%s), retry %s in %.1fs", job.pk, exc, attempts, delay)
        # Note: after a read timeout the provider may have taken the job anyway; the
        # issue asks for a retry, and the provider offers no idempotency key to avoid it.
        if _update_if(job_id=job.pk, statuses=(Status.QUEUED,), attempts=attempts,
                      next_poll_at=timezone.now() + timedelta(seconds=delay), error_detail=str(exc)):
            dispatch.enqueue_submit(job_id=job.pk, countdown=delay)
        return
    message = _provider_message(exc)
    if isinstance(exc, TRANSIENT_ERRORS):
        message = f"The AI provider could not take the job after {attempts} attempts. {message}"
    _fail(job, from_states=(Status.QUEUED,), error=message, detail=str(exc))


# ------------------------------------------------------------------ worker: poll


def video_job_poll(*, job_id: int) -> bool:
    """Poll a processing job once if it is due; True if this call did.

    Running: progress saved, next poll scheduled. Completed: the video is downloaded into
    our storage, then the job completes (unless it was cancelled meanwhile, in which case
    the file is dropped). Failed/expired/cancelled at the provider: the job fails with
    the provider's reason. Safe to run twice: a second call finds the job not due.
    """
    now = timezone.now()
    taken = _update_if(
        job_id=job_id, statuses=(Status.PROCESSING,), condition=Q(next_poll_at__lte=now + CLOCK_SLACK),
        next_poll_at=now + timedelta(seconds=settings.VIDEO_TASK_LEASE), touch=False,
    )
    if not taken:
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
        reasons = {
            "failed": "The AI provider could not generate this video.",
            "expired": "The job expired at the AI provider before the video could be collected.",
            "cancelled": "The AI provider cancelled this job.",
        }
        error = reasons.get(result.status, f"The AI provider ended the job ({result.status}).")
        if result.error:
            error = f"{error} The provider said: {result.error}"
        _fail(job, from_states=(Status.PROCESSING,), error=error,
              detail=f"provider status {result.status}: {result.error or ''} {result.raw!r}"[:4000],
              **_cost_fields(result))
    return True


def _schedule_next_poll(job: VideoJob, *, progress: int | None) -> None:
    changes = {"attempts": 0, "next_poll_at": timezone.now() + timedelta(seconds=settings.VIDEO_POLL_INTERVAL)}
    if progress is not None:
        changes["progress"] = max(0, min(100, progress))
    if _update_if(job_id=job.pk, statuses=(Status.PROCESSING,), **changes):
        dispatch.enqueue_poll(job_id=job.pk, countdown=settings.VIDEO_POLL_INTERVAL)


def _complete(job: VideoJob, result: VideoJobStatus) -> None:
    if job.video_file:
        stored, size = job.video_file.name, job.video_bytes  # downloaded already: never twice
    else:
        if not VideoJob.objects.filter(pk=job.pk, status=Status.PROCESSING).exists():
            return  # cancelled while we polled: no point downloading
        release_db_connection()
        url = result.content_urls[0]
        try:
            with tempfile.TemporaryFile() as buffer:
                size = get_client().video_download(url=url, dest=buffer)
                buffer.seek(0)
                stored = default_storage.save(_video_name(job), File(buffer))
        except provider.ProviderError as exc:
            if isinstance(exc, provider.ProviderMalformedResponse):  # e.g. larger than we accept
                _fail(job, from_states=(Status.PROCESSING,),
                      error=f"The finished video could not be stored: {_provider_message(exc)}", detail=str(exc))
            else:
                _after_poll_error(job, exc)
            return
    done = transition(
        job_id=job.pk, from_states=(Status.PROCESSING,), to=Status.COMPLETED,
        video_file=stored, video_bytes=size, provider_video_url=result.content_urls[0],
        progress=100, attempts=0, error="", error_detail="", **_cost_fields(result),
    )
    if not done:
        # Cancelled (or failed) meanwhile: that state stands, and the file goes.
        log.info("video job %s finished at the provider after it ended here; dropping the file", job.pk)
        if stored != job.video_file.name:
            default_storage.delete(stored)


def _video_name(job: VideoJob) -> str:
    return f"videos/{job.owner_id}/{job.pk}-{random.getrandbits(40):010x}.mp4"


def _cost_fields(result: VideoJobStatus) -> dict:
    usage = result.raw.get("usage") if isinstance(result.raw.get("usage"), dict) else {}
    fields: dict = {"usage": usage}
    if (cost := cost_or_none(result.cost)) is not None:
        fields["cost"] = cost
    return fields


def _after_poll_error(job: VideoJob, exc: provider.ProviderError) -> None:
    attempts = job.attempts + 1
    if isinstance(exc, (provider.ProviderNotFound, provider.ProviderBadRequest)):
        _fail(job, from_states=(Status.PROCESSING,),
              error="The AI provider no longer knows this job; start a new one.", detail=str(exc))
        return
    if attempts >= settings.VIDEO_POLL_MAX_ERRORS:
        _fail(job, from_states=(Status.PROCESSING,),
              error=f"The AI provider could not be reached about this job {attempts} times in a row. "
                    f"{_provider_message(exc)}",
              detail=str(exc))
        return
    delay = max(settings.VIDEO_POLL_INTERVAL, _backoff(attempts, getattr(exc, "retry_after", None)))
    log.info("video job %s: poll failed (%s), retry %s in %.1fs", job.pk, exc, attempts, delay)
    if _update_if(job_id=job.pk, statuses=(Status.PROCESSING,), attempts=attempts,
                  next_poll_at=timezone.now() + timedelta(seconds=delay), error_detail=str(exc)):
        dispatch.enqueue_poll(job_id=job.pk, countdown=delay)


def _backoff(attempts: int, retry_after: float | None = None) -> float:
    base = settings.VIDEO_RETRY_BACKOFF * 2 ** (attempts - 1)
    delay = min(settings.VIDEO_RETRY_BACKOFF_MAX, base)
    delay = delay / 2 + random.random() * delay / 2  # jitter: jobs that failed together retry apart
    return max(delay, float(retry_after or 0))


def _provider_message(exc: provider.ProviderError) -> str:
    return describe_failure(exc).message


def _fail(job: VideoJob, *, from_states, error: str, detail: str = "", **changes) -> bool:
    failed = transition(job_id=job.pk, from_states=from_states, to=Status.FAILED,
                        error=error[:2000], error_detail=detail[:4000], **changes)
    if failed:
        log.info("video job %s failed: %s (%s)", job.pk, error, detail)
    return failed


# ------------------------------------------------------------------ sweep


@dataclass(frozen=True)
class SweepResult:
    failed_past_deadline: int = 0
    submits_sent: int = 0
    polls_sent: int = 0
    deleted: int = 0

    def __str__(self) -> str:
        return (f"{self.failed_past_deadline} failed past deadline, {self.submits_sent} submits sent, "
                f"{self.polls_sent} polls sent, {self.deleted} old jobs deleted")


SWEEP_BATCH = 1000


def video_jobs_sweep(*, now=None) -> SweepResult:
    """The beat's safety net: fail jobs past their deadline, send the task of any job whose
    own task is late by more than VIDEO_SWEEP_GRACE (broker down, worker killed), and
    delete failed and cancelled jobs older than VIDEO_FINISHED_RETENTION_DAYS."""
    now = now or timezone.now()
    failed = 0
    for job in VideoJob.objects.filter(status__in=VideoJob.ACTIVE, deadline_at__lte=now).only(
            "pk", "status", "created_at", "deadline_at")[:SWEEP_BATCH]:
        minutes = max(1, round((job.deadline_at - job.created_at).total_seconds() / 60))
        failed += _fail(
            job, from_states=VideoJob.ACTIVE,
            error=f"The video was not ready within {minutes} minutes, so the job was stopped.",
            detail=f"deadline {job.deadline_at.isoformat()} passed while {job.status}",
        )
    late = now - timedelta(seconds=settings.VIDEO_SWEEP_GRACE)
    queued = list(VideoJob.objects.filter(status=Status.QUEUED, next_poll_at__lte=late)
                  .order_by("next_poll_at").values_list("pk", flat=True)[:SWEEP_BATCH])
    processing = list(VideoJob.objects.filter(status=Status.PROCESSING, next_poll_at__lte=late)
                      .order_by("next_poll_at").values_list("pk", flat=True)[:SWEEP_BATCH])
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


def _delete_old_jobs(*, now) -> int:
    days = settings.VIDEO_FINISHED_RETENTION_DAYS
    if days <= 0:
        return 0
    old = VideoJob.objects.filter(status__in=(Status.FAILED, Status.CANCELLED),
                                  finished_at__lt=now - timedelta(days=days))
    pks = list(old.values_list("pk", flat=True)[:SWEEP_BATCH])
    if not pks:
        return 0
    # Their stored files go with them (videos.signals).
    return VideoJob.objects.filter(pk__in=pks, status__in=(Status.FAILED, Status.CANCELLED)).delete()[0]


# ------------------------------------------------------------------ operators


def video_job_retry(*, job_id: int, resubmit: bool = False) -> VideoJob:
    """Give a failed job another go (operators). A job the provider already has is polled
    again; one it never had (or with ``resubmit``) is submitted afresh. The deadline
    starts over; the owner's in-flight cap applies."""
    job = VideoJob.objects.filter(pk=job_id).first()
    if job is None:
        raise NotFound("Video job not found.")
    if job.status != Status.FAILED:
        raise Conflict(f"Only failed jobs can be retried; this one is {job.status}.")
    now = timezone.now()
    resume = bool(job.provider_job_id) and not resubmit
    changes = dict(
        attempts=0, error="", error_detail="", next_poll_at=now, finished_at=None,
        deadline_at=now + timedelta(seconds=settings.VIDEO_JOB_DEADLINE),
    )
    if not resume:
        changes.update(provider_job_id=None, polling_url="", submitted_at=None, progress=None)
    cap = settings.VIDEO_MAX_JOBS_IN_FLIGHT
    for _ in range(SLOT_ATTEMPTS):
        slot = _free_slot(owner=job.owner, cap=cap)
        try:
            moved = transition(job_id=job.pk, from_states=(Status.FAILED,),
                               to=Status.PROCESSING if resume else Status.QUEUED, in_flight_slot=slot, **changes)
        except (IntegrityError, OperationalError) as exc:
            if connection.in_atomic_block or not is_unique_clash(exc):
                raise
            continue
        if not moved:
            raise Conflict("The job changed meanwhile; look again.")
        (dispatch.enqueue_poll if resume else dispatch.enqueue_submit)(job_id=job.pk)
        return VideoJob.objects.get(pk=job.pk)
    raise _too_many(cap)

