"""Operators' tools: the Django admin's job list and cancel action, manage.py video_jobs,
and the video counts in the admin stats."""

import pytest
from django.core.management import CommandError, call_command

from videos import selectors
from videos.models import VideoJob

S = VideoJob.Status
pytestmark = pytest.mark.django_db


def test_admin_lists_jobs_with_filters(client, admin_user, user, make_job):
    job = make_job(user, status=S.PROCESSING)
    client.force_login(admin_user)
    response = client.get("/admin/videos/videojob/", {"status__exact": "processing"})
    assert response.status_code == 200
    html = response.content.decode()
    assert f"/admin/videos/videojob/{job.pk}/change/" in html
    for filter_name in ("status", "generation_type", "model"):
        assert f"{filter_name}" in html
    assert client.get(f"/admin/videos/videojob/{job.pk}/change/").status_code == 200


def test_admin_is_for_admins_only(client, user, make_job):
    client.force_login(user)
    assert client.get("/admin/videos/videojob/").status_code == 302


def test_admin_cancel_action_cancels_active_jobs_and_leaves_finished_ones(client, admin_user, user, make_job):
    active = make_job(user, status=S.QUEUED)
    done = make_job(user, status=S.COMPLETED)
    client.force_login(admin_user)
    response = client.post(
        "/admin/videos/videojob/", {"action": "cancel_jobs", "_selected_action": [active.pk, done.pk]}, follow=True
    )
    assert response.status_code == 200
    text = response.content.decode()
    assert "1 job(s) cancelled" in text and "1 job(s) had already finished" in text
    active.refresh_from_db()
    done.refresh_from_db()
    assert (active.status, done.status) == (S.CANCELLED, S.COMPLETED)


def test_video_stats_count_jobs_by_status(make_job, user):
    make_job(user, status=S.PROCESSING)
    make_job(user, status=S.FAILED)
    make_job(user, status=S.FAILED)
    assert selectors.video_stats() == {
        "total": 3,
        "by_status": {"queued": 0, "processing": 1, "completed": 0, "failed": 2, "cancelled": 0},
    }


def test_command_lists_jobs(make_job, user, capsys):
    make_job(user, status=S.FAILED, error="it broke")
    make_job(user, status=S.PROCESSING)
    call_command("video_jobs", "list", "--status", "failed")
    out = capsys.readouterr().out
    assert "failed" in out and "it broke" in out and "processing" not in out.split("\n", 1)[1]


def test_command_shows_a_job(make_job, user, capsys):
    job = make_job(user, status=S.FAILED, error_detail="HTTP 500 from upstream")
    call_command("video_jobs", "show", str(job.pk))
    assert "HTTP 500 from upstream" in capsys.readouterr().out


def test_command_retries_a_failed_job_never_submitted(make_job, user, sent_tasks, capsys):
    job = make_job(user, status=S.FAILED, error="provider down", consecutive_failures=5)
    call_command("video_jobs", "retry", str(job.pk))
    job.refresh_from_db()
    assert job.status == S.QUEUED and job.consecutive_failures == 0 and job.error == "" and job.in_flight_slot
    assert sent_tasks == [("submit_video_job", (job.pk,), None)]


def test_command_retry_of_a_job_the_provider_has_polls_it_again(make_job, user, sent_tasks):
    job = make_job(user, status=S.FAILED, provider_job_id="vid-9", polling_url="http://p/videos/vid-9")
    call_command("video_jobs", "retry", str(job.pk))
    job.refresh_from_db()
    assert job.status == S.PROCESSING and job.provider_job_id == "vid-9"
    assert sent_tasks == [("poll_video_job", (job.pk,), None)]
    other = make_job(user, status=S.FAILED, provider_job_id="vid-10")
    call_command("video_jobs", "retry", str(other.pk), "--resubmit")
    other.refresh_from_db()
    assert other.status == S.QUEUED and other.provider_job_id is None


def test_command_refuses_to_retry_a_job_that_did_not_fail(make_job, user):
    job = make_job(user, status=S.COMPLETED)
    with pytest.raises(CommandError, match="Only failed jobs"):
        call_command("video_jobs", "retry", str(job.pk))


def test_command_retry_respects_the_owners_cap(make_job, user, settings):
    settings.VIDEO_MAX_JOBS_IN_FLIGHT = 1
    make_job(user, status=S.PROCESSING)
    job = make_job(user, status=S.FAILED)
    with pytest.raises(CommandError, match="in progress"):
        call_command("video_jobs", "retry", str(job.pk))


def test_command_cancels_a_job(make_job, user):
    job = make_job(user, status=S.PROCESSING)
    call_command("video_jobs", "cancel", str(job.pk))
    job.refresh_from_db()
    assert job.status == S.CANCELLED
    with pytest.raises(CommandError, match="already"):
        call_command("video_jobs", "cancel", str(job.pk))
    with pytest.raises(CommandError, match="not found"):
        call_command("video_jobs", "cancel", "999999")


def test_command_runs_the_sweep(make_job, user, capsys, sent_tasks):
    from django.utils import timezone

    job = make_job(user, status=S.PROCESSING, deadline_at=timezone.now())
    call_command("video_jobs", "sweep")
    assert "1 failed past deadline" in capsys.readouterr().out
    job.refresh_from_db()
    assert job.status == S.FAILED


def test_admin_stats_api_includes_video_counts(client_for, admin_user, user, make_job):
    make_job(user, status=S.QUEUED)
    make_job(user, status=S.COMPLETED)
    response = client_for(admin_user).get("/api/admin/stats")
    assert response.status_code == 200
    assert response.json()["videos"] == {
        "total": 2,
        "by_status": {"queued": 1, "processing": 0, "completed": 1, "failed": 0, "cancelled": 0},
    }


def test_admin_stats_page_shows_video_counts(client, admin_user, user, make_job):
    make_job(user, status=S.FAILED)
    client.force_login(admin_user)
    html = client.get("/admin-panel/").content.decode()
    videos = html.split("<h2>Videos</h2>", 1)[1].split("</dl>", 1)[0]
    assert 'data-testid="stat-by-status-failed">1<' in videos
    assert 'data-testid="stat-total">1<' in videos
