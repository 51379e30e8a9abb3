"""The entry points of video jobs that views, the API, the admin and commands call:
create, cancel, and an operator's retry (DESIGN.md's video lifecycle).

The worker's side (submit, poll, download) is videos.worker, the beat's safety net
videos.sweep; every status change goes through videos.transitions.
"""

from __future__ import annotations

import functools
from datetime import timedelta

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from billing import services as billing
from catalogue.selectors import catalogue_entry
from core.errors import Conflict, NotFound
from core.parsing import int_or_none
from openrouter.validation import ParameterNotAccepted, validate_video_params
from storage import quota
from videos import dispatch
from videos.errors import JobAlreadyFinished, VideoParameterError
from videos.models import VideoJob
from videos.slots import with_free_slot
from videos.sources import Source, image_source
from videos.transitions import transition

Status = VideoJob.Status


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
    api_key=None,
) -> VideoJob:
    """Create a queued job and, once it is committed, send its submit task.

    Values are checked against the model's video catalogue entry first (400 naming the
    field and the accepted values); beyond VIDEO_MAX_JOBS_IN_FLIGHT active jobs the
    answer is 429. Image-to-video takes ``image_url`` (https, or a data URL within
    VIDEO_SOURCE_DATA_URL_MAX_BYTES) or ``image_id`` (one of the owner's images).
    ``api_key`` is the personal key the request came with, kept on the job.
    """
    prompt = (prompt or "").strip()
    if not prompt:
        raise VideoParameterError("Describe the video you want.", field="prompt")
    image_to_video = generation_type == VideoJob.GenerationType.IMAGE_TO_VIDEO
    if generation_type not in VideoJob.GenerationType.values:
        raise VideoParameterError("Unknown generation type.", field="generation_type")
    entry = catalogue_entry(model_id=model, kind="video", user=owner)
    source = image_source(owner=owner, image_url=image_url, image_id=image_id) if image_to_video else Source()
    # Past the owner's storage quota (or with an upload that would pass it): 409 (storage.quota).
    quota.check_room(user_id=owner.pk, adding=len(source.upload.data) if source.upload else 0)
    try:
        validate_video_params(
            entry.as_catalogue_model(),
            aspect_ratio=aspect_ratio or None,
            resolution=resolution or None,
            duration=duration,
            has_image=image_to_video,
        )
    except ParameterNotAccepted as exc:
        # "image" means the model cannot start from an image: another model is the fix.
        raise VideoParameterError(str(exc), field="model" if exc.field == "image" else exc.field) from exc
    now = timezone.now()
    values = dict(
        owner=owner,
        generation_type=generation_type,
        model=entry.id,
        prompt=prompt,
        aspect_ratio=aspect_ratio or "",
        resolution=resolution or "",
        duration=duration,
        source_image_url=source.url,
        source_image=source.image,
        status=Status.QUEUED,
        next_action_at=now,
        created_at=now,
        updated_at=now,
        deadline_at=now + timedelta(seconds=settings.VIDEO_JOB_DEADLINE),
        api_key=api_key,
    )
    # The job's largest cost is held against the owner's budget until the job ends (402 if it does not fit).
    hold = billing.reserve_video(user=owner, entry=entry, duration=duration, resolution=resolution or None)
    try:
        job = with_free_slot(owner=owner, take=lambda slot: _insert(values=values, slot=slot, source=source))
    except BaseException:
        billing.safely("releasing a video reservation", lambda: billing.release(hold))
        raise
    billing.safely("noting a video reservation's job", lambda: billing.attach(hold, video_job_id=job.pk))
    return job


def _insert(*, values: dict, slot: int, source: Source) -> VideoJob:
    """INSERT the job in ``slot``, with its uploaded image stored (and removed again if
    the INSERT fails); its submit task goes once the row is committed."""
    job = VideoJob(in_flight_slot=slot, **values)
    try:
        if source.upload:
            # Named by the field's upload_to (videos.models.source_image_path); written before the
            # transaction, so a full disk fails here with no row begun and no file kept (core.storage).
            job.source_image_file.save(f"source.{source.upload.extension}", ContentFile(source.upload.data), save=False)
            job.source_image_bytes = len(source.upload.data)
        with transaction.atomic():
            job.save(force_insert=True)
            # Picked up at once, not on the next sweep.
            transaction.on_commit(functools.partial(dispatch.enqueue_submit, job_id=job.pk))
    except BaseException:
        if job.source_image_file.name:
            job.source_image_file.storage.delete(job.source_image_file.name)
        raise
    return job


def video_job_cancel(*, job_id: int, by=None) -> VideoJob:
    """Cancel an active job. ``by`` is the user asking (someone else's job is NotFound);
    None for an operator. Only our polling stops: the provider has no cancel, so it may
    still finish (and bill) the video, which we then ignore.

    Raises JobAlreadyFinished (409) when the job was already terminal, including when a
    completion won a race with this cancel.
    """
    jobs = VideoJob.objects.all() if by is None else VideoJob.objects.filter(owner=by)
    pk = int_or_none(job_id)
    if pk is None or not jobs.filter(pk=pk).exists():
        raise NotFound("Video job not found.")
    now = timezone.now()
    if transition(job_id=job_id, from_states=VideoJob.ACTIVE, to=Status.CANCELLED, cancelled_at=now, finished_at=now):
        return VideoJob.objects.get(pk=job_id)
    job = VideoJob.objects.get(pk=job_id)
    raise JobAlreadyFinished(f"This job has already {_finished_words(job.status)}; it cannot be cancelled.")


def video_job_delete(*, job_id: int, by) -> None:
    """Delete one of ``by``'s finished jobs and its stored files (after the commit, by the
    post_delete handler in videos/signals.py), which frees its storage. Someone else's job
    is NotFound; an active one is a Conflict (cancel it first: a worker may be storing its
    video). Its budget ledger rows keep the plain job id: deleting gives no money back."""
    pk = int_or_none(job_id)
    job = None if pk is None else VideoJob.objects.filter(owner=by, pk=pk).first()
    if job is None:
        raise NotFound("Video job not found.")
    with transaction.atomic():
        deleted, _ = VideoJob.objects.filter(pk=job.pk, status__in=VideoJob.TERMINAL).delete()
    if not deleted:
        raise Conflict("This job is still running; cancel it first, then delete it.")


def _finished_words(status: str) -> str:
    words: dict[str, str] = {Status.COMPLETED: "completed", Status.FAILED: "failed", Status.CANCELLED: "been cancelled"}
    return words.get(status, status)


def _source_gone(job: VideoJob) -> bool:
    """An image-to-video job whose first frame is gone: its upload is deleted when it ends."""
    return (
        job.generation_type == VideoJob.GenerationType.IMAGE_TO_VIDEO
        and not job.source_image_url
        and job.source_image_id is None
        and not job.source_image_file
    )


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
    if not resume and _source_gone(job):
        raise Conflict(
            "This job's uploaded image was deleted when the job ended, so it cannot be submitted "
            "again; start a new job from the image."
        )
    changes = dict(
        consecutive_failures=0,
        error="",
        error_detail="",
        next_action_at=now,
        finished_at=None,
        deadline_at=now + timedelta(seconds=settings.VIDEO_JOB_DEADLINE),
    )
    if not resume:
        changes.update(provider_job_id=None, polling_url="", submitted_at=None, progress=None)

    def take(slot: int) -> None:
        if not transition(
            job_id=job.pk,
            from_states=(Status.FAILED,),
            to=Status.PROCESSING if resume else Status.QUEUED,
            in_flight_slot=slot,
            **changes,
        ):
            raise Conflict("The job changed meanwhile; look again.")

    with_free_slot(owner=job.owner, take=take)
    (dispatch.enqueue_poll if resume else dispatch.enqueue_submit)(job_id=job.pk)
    return VideoJob.objects.get(pk=job.pk)
