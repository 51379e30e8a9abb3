"""The Celery tasks, called directly (synchronously): thin, idempotent, acknowledged late,
time-limited within the job lease."""

import pytest
from django.utils import timezone

from videos import tasks
from videos.models import VideoJob

S = VideoJob.Status
pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("task", [tasks.submit_video_job, tasks.poll_video_job, tasks.sweep_video_jobs])
def test_tasks_ack_late_and_stop_before_the_lease_ends(task, settings):
    assert task.acks_late is True
    assert task.time_limit and task.soft_time_limit < task.time_limit
    if task is not tasks.sweep_video_jobs:
        assert task.time_limit < settings.VIDEO_TASK_LEASE


def test_submit_task_run_twice_submits_once(make_job, user, catalogue, fake_openrouter):
    job = make_job(user, status=S.QUEUED)
    tasks.submit_video_job(job.pk)
    tasks.submit_video_job(job.pk)
    job.refresh_from_db()
    assert job.status == S.PROCESSING
    assert len(fake_openrouter.received.matching("POST", "/api/v1/videos")) == 1


def test_poll_task_run_twice_downloads_once(make_job, user, catalogue, fake_openrouter):
    fake_openrouter.video_duration = 0
    job = make_job(user, status=S.QUEUED)
    tasks.submit_video_job(job.pk)
    VideoJob.objects.filter(pk=job.pk).update(next_action_at=timezone.now())
    tasks.poll_video_job(job.pk)
    VideoJob.objects.filter(pk=job.pk).update(next_action_at=timezone.now())
    tasks.poll_video_job(job.pk)
    job.refresh_from_db()
    assert job.status == S.COMPLETED
    assert len([r for r in fake_openrouter.received if "/content" in r.path]) == 1


def test_tasks_for_a_job_that_is_gone_do_nothing(catalogue, fake_openrouter):
    # A stale message (e.g. left in a shared Redis by another database) must not fail.
    tasks.submit_video_job(424242)
    tasks.poll_video_job(424242)
    assert fake_openrouter.received.snapshot() == []


def test_sweep_task_runs_the_sweep(make_job, user, sent_tasks):
    job = make_job(user, status=S.QUEUED, next_action_at=timezone.now() - timezone.timedelta(minutes=5))
    tasks.sweep_video_jobs()
    assert sent_tasks == [("submit_video_job", (job.pk,), None)]


def test_beat_schedules_the_sweep_every_sweep_interval(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["video-sweep"]
    assert entry["task"] == tasks.sweep_video_jobs.name
    assert entry["schedule"] == settings.VIDEO_SWEEP_INTERVAL
