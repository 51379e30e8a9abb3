"""Video jobs reserve price per second x duration at creation and settle when they end."""

from decimal import Decimal

import pytest
from django.utils import timezone

from billing.models import Reservation
from videos import services, worker
from videos.models import VideoJob

pytestmark = pytest.mark.django_db
S, R = VideoJob.Status, Reservation.Status
VEO = "google/veo-3.1"  # 0.40 per second, durations 4/6/8


def _create(user, **values):
    return services.video_job_create(owner=user, model=VEO, prompt="waves at dusk", **values)


def _due(job):
    VideoJob.objects.filter(pk=job.pk).update(next_action_at=timezone.now())


def test_a_job_that_does_not_fit_is_a_402_and_no_job(catalogue, user_api, user, budget, sent_tasks):
    budget(user, daily="2.00")

    response = user_api.post("/api/generate/video", {"model": VEO, "prompt": "waves", "duration": 8}, format="json")

    assert response.status_code == 402, response.content
    body = response.json()
    assert body["cost"] == "3.20" and "shorter duration" in body["detail"] and "UTC" in body["detail"]
    assert not VideoJob.objects.exists() and not Reservation.objects.exists() and sent_tasks == []


def test_a_job_reserves_at_creation_and_settles_at_the_providers_cost(
    catalogue, fake, user, budget, django_capture_on_commit_callbacks
):
    budget(user, daily="5.00")
    with django_capture_on_commit_callbacks(execute=False):
        job = _create(user, duration=4)
    held = Reservation.objects.get()
    assert held.kind == "video" and held.video_job_id == job.pk and held.amount_reserved == Decimal("1.60")
    assert held.status == R.RESERVED

    worker.video_job_submit(job_id=job.pk)
    fake.advance(11)
    _due(job)
    worker.video_job_poll(job_id=job.pk)

    job.refresh_from_db()
    held.refresh_from_db()
    assert job.status == S.COMPLETED
    assert held.status == R.SETTLED and held.amount_settled == job.cost == Decimal("1.6")


def test_a_job_without_duration_reserves_the_longest_the_model_offers(catalogue, user, budget, sent_tasks):
    budget(user, monthly="5.00")
    _create(user)
    assert Reservation.objects.get().amount_reserved == Decimal("3.20")


def test_a_failed_job_releases_its_reservation(catalogue, fake, fault_video_model, user, budget, sent_tasks):
    budget(user, daily="5.00")
    job = services.video_job_create(owner=user, model=fault_video_model("bad_request"), prompt="x", duration=4)

    worker.video_job_submit(job_id=job.pk)

    assert VideoJob.objects.get(pk=job.pk).status == S.FAILED
    assert Reservation.objects.get().status == R.RELEASED


def test_cancelling_a_queued_job_releases_but_a_submitted_one_keeps_it(catalogue, fake, user, budget, sent_tasks):
    budget(user, daily="5.00")
    queued = _create(user, duration=4)
    services.video_job_cancel(job_id=queued.pk, by=user)
    assert Reservation.objects.get(video_job_id=queued.pk).status == R.RELEASED

    submitted = _create(user, duration=4)
    worker.video_job_submit(job_id=submitted.pk)
    services.video_job_cancel(job_id=submitted.pk, by=user)
    held = Reservation.objects.get(video_job_id=submitted.pk)
    assert held.status == R.SETTLED and held.amount_settled == Decimal("1.60")  # the provider may still bill


def test_the_reservation_holds_while_the_job_runs(catalogue, user, budget, sent_tasks):
    budget(user, daily="2.00")
    _create(user, duration=4)  # 1.60 held

    with pytest.raises(Exception) as refused:
        _create(user, duration=4)
    assert refused.value.extra["reserved"] == "1.60"


def test_the_video_page_shows_the_budget_message(catalogue, client, user, budget, sent_tasks):
    budget(user, daily="1.00")
    client.force_login(user)

    response = client.post(
        "/generate/video", {"generation_type": "text_to_video", "model": VEO, "prompt": "waves", "duration": "8"}
    )

    assert response.status_code == 402, response.content[:500]
    assert "daily budget of $1.00" in response.content.decode()
