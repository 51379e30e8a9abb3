"""The beat's sweep: the safety net that carries every job on to a terminal state."""

from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone

from videos import services, sweep
from videos.models import VideoJob

S = VideoJob.Status
pytestmark = pytest.mark.django_db


def ago(seconds):
    return timezone.now() - timedelta(seconds=seconds)


def test_jobs_past_their_deadline_fail_with_a_clear_reason(make_job, user, other_user):
    late_queued = make_job(user, status=S.QUEUED, deadline_at=ago(1), created_at=ago(1801))
    late_processing = make_job(other_user, status=S.PROCESSING, deadline_at=ago(1), created_at=ago(1801))
    on_time = make_job(user, status=S.PROCESSING)
    finished = make_job(user, status=S.COMPLETED, deadline_at=ago(1))
    result = sweep.video_jobs_sweep()
    assert result.failed_past_deadline == 2
    for job in (late_queued, late_processing):
        job.refresh_from_db()
        assert job.status == S.FAILED
        assert job.error == "The video was not ready within 30 minutes, so the job was stopped."
        assert job.in_flight_slot is None
    on_time.refresh_from_db()
    finished.refresh_from_db()
    assert (on_time.status, finished.status) == (S.PROCESSING, S.COMPLETED)


def test_a_cancelled_job_past_its_deadline_stays_cancelled(make_job, user):
    job = make_job(user, status=S.CANCELLED, deadline_at=ago(1))
    sweep.video_jobs_sweep()
    job.refresh_from_db()
    assert job.status == S.CANCELLED and job.error == ""


def test_sends_the_task_of_jobs_whose_own_task_is_late(make_job, user, sent_tasks, settings):
    grace = settings.VIDEO_SWEEP_GRACE
    stuck_queued = make_job(user, status=S.QUEUED, next_action_at=ago(grace + 1))
    fresh_queued = make_job(user, status=S.QUEUED, next_action_at=ago(1))
    stuck_processing = make_job(user, status=S.PROCESSING, next_action_at=ago(grace + 30))
    held = make_job(user, status=S.PROCESSING, next_action_at=timezone.now() + timedelta(minutes=4))  # a worker's lease
    make_job(user, status=S.FAILED, next_action_at=ago(999))
    result = sweep.video_jobs_sweep()
    assert (result.submits_sent, result.polls_sent) == (1, 1)
    assert sorted(sent_tasks) == sorted(
        [("submit_video_job", (stuck_queued.pk,), None), ("poll_video_job", (stuck_processing.pk,), None)]
    )
    assert fresh_queued.pk not in {args[0] for _, args, _ in sent_tasks}
    assert held.pk not in {args[0] for _, args, _ in sent_tasks}


def test_a_job_whose_message_was_lost_is_carried_to_the_end_by_sweeps(
    catalogue, fake_openrouter, user, eager_tasks, settings, django_capture_on_commit_callbacks
):
    settings.VIDEO_SWEEP_GRACE = 0
    settings.VIDEO_POLL_INTERVAL = 0
    fake_openrouter.video_duration = 0
    with django_capture_on_commit_callbacks(execute=False):  # the broker never got the submit
        job = services.video_job_create(owner=user, model="google/veo-3.1", prompt="lost and found")
    eager_tasks.clear()
    sweep.video_jobs_sweep()
    job.refresh_from_db()
    assert job.status == S.COMPLETED
    assert [name for name, _, _ in eager_tasks][:2] == ["submit_video_job", "poll_video_job"]


def test_old_failed_and_cancelled_jobs_are_deleted_with_their_files(
    make_job, user, settings, django_capture_on_commit_callbacks
):
    settings.VIDEO_FINISHED_RETENTION_DAYS = 30
    month = 31 * 24 * 3600
    source = default_storage.save("videos/sources/x.png", ContentFile(b"png"))
    old_failed = make_job(user, status=S.FAILED, finished_at=ago(month), source_image_file=source)
    old_cancelled = make_job(user, status=S.CANCELLED, finished_at=ago(month))
    old_completed = make_job(user, status=S.COMPLETED, finished_at=ago(month))
    recent_failed = make_job(user, status=S.FAILED, finished_at=ago(3600))
    with django_capture_on_commit_callbacks(execute=True):
        assert sweep.video_jobs_sweep().deleted == 2
    remaining = set(VideoJob.objects.values_list("pk", flat=True))
    assert remaining == {old_completed.pk, recent_failed.pk}
    assert not default_storage.exists(source)
    assert old_failed.pk not in remaining and old_cancelled.pk not in remaining


def test_retention_zero_keeps_everything(make_job, user, settings):
    settings.VIDEO_FINISHED_RETENTION_DAYS = 0
    make_job(user, status=S.FAILED, finished_at=ago(400 * 24 * 3600))
    assert sweep.video_jobs_sweep().deleted == 0
    assert VideoJob.objects.count() == 1


def test_deleting_an_owner_deletes_their_jobs_and_stored_files(make_job, user, django_capture_on_commit_callbacks):
    video = default_storage.save("videos/owner/v.mp4", ContentFile(b"mp4"))
    source = default_storage.save("videos/owner/sources/s.png", ContentFile(b"png"))
    make_job(user, status=S.COMPLETED, video_file=video, source_image_file=source)
    with django_capture_on_commit_callbacks(execute=True):
        user.delete()
    assert not VideoJob.objects.exists()
    assert not default_storage.exists(video) and not default_storage.exists(source)
