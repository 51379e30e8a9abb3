"""Races on the real store, with real threads (each with its own database connection):
whatever the interleaving, a job ends in exactly one state and a cancel is never lost."""

import threading

import pytest
from django.db import connections

from tests.support.threads import run_at_once
from videos import errors, services, transitions
from videos.models import VideoJob
from videos.worker import video_job_poll, video_job_submit

S = VideoJob.Status
pytestmark = pytest.mark.django_db(transaction=True)
ROUNDS = 12


def in_order(*functions):
    """Run the functions one after the other, each in its own thread (and connection), in
    the order given; return what each returned or raised, in that order. Forces an
    ordering the free race may not happen to take."""
    results = []
    for function in functions:
        results += run_at_once(function)
    return results


# Each race test plays ROUNDS free races, then one round forced each way.
ORDERS = ["race"] * ROUNDS + ["first", "second"]


def play(order, first, second):
    """(result of first, result of second) after racing them or running them in ``order``."""
    if order == "race":
        return tuple(run_at_once(first, second))
    if order == "first":
        return tuple(in_order(first, second))
    return tuple(reversed(in_order(second, first)))


def test_cancel_racing_completion_ends_in_exactly_one_terminal_state(make_job, user):
    outcomes = []
    for order in ORDERS:
        job = make_job(user, status=S.PROCESSING)

        def cancel():
            return services.video_job_cancel(job_id=job.pk, by=user).status

        def complete():
            return transitions.transition(
                job_id=job.pk, from_states=[S.PROCESSING], to=S.COMPLETED, video_file=f"videos/{job.pk}.mp4"
            )

        cancelled, completed = play(order, cancel, complete)
        job.refresh_from_db()
        if job.status == S.CANCELLED:
            assert cancelled == S.CANCELLED and completed is False
            assert job.video_file.name == "", "the completion left no trace on the cancelled job"
        else:
            assert job.status == S.COMPLETED and completed is True
            assert isinstance(cancelled, errors.JobAlreadyFinished), cancelled  # the API's 409
        assert job.in_flight_slot is None
        outcomes.append(job.status)
    # Forced orderings: the one that runs first wins.
    assert outcomes[-2:] == [S.CANCELLED, S.COMPLETED], outcomes


def test_cancel_racing_a_deadline_failure(make_job, user):
    outcomes = []
    for order in ORDERS:
        job = make_job(user, status=S.QUEUED)
        cancelled, failed = play(
            order,
            lambda: services.video_job_cancel(job_id=job.pk, by=user).status,
            lambda: transitions.transition(job_id=job.pk, from_states=VideoJob.ACTIVE, to=S.FAILED, error="late"),
        )
        job.refresh_from_db()
        assert job.status in (S.CANCELLED, S.FAILED)
        assert (job.status == S.CANCELLED) == (cancelled == S.CANCELLED) == (failed is False)
        outcomes.append(job.status)
    assert outcomes[-2:] == [S.CANCELLED, S.FAILED], outcomes


def test_two_cancels_one_wins_the_other_is_told(make_job, user):
    for _ in range(ROUNDS):
        job = make_job(user, status=S.PROCESSING)
        results = run_at_once(*[lambda: services.video_job_cancel(job_id=job.pk, by=user).status] * 2)
        assert results.count(S.CANCELLED) == 1, results
        assert sum(isinstance(r, errors.JobAlreadyFinished) for r in results) == 1, results


def test_concurrent_submits_send_the_job_once(catalogue, fake_openrouter, make_job, user):
    jobs = [make_job(user, status=S.QUEUED) for _ in range(3)]
    for job in jobs:
        results = run_at_once(*[lambda pk=job.pk: video_job_submit(job_id=pk)] * 3)
        assert results.count(True) == 1, results
    assert len(fake_openrouter.received.matching("POST", "/api/v1/videos")) == 3
    assert set(VideoJob.objects.values_list("status", flat=True)) == {S.PROCESSING}


def test_concurrent_polls_download_once(catalogue, fake_openrouter, make_job, user, sent_tasks):
    fake_openrouter.video_duration = 0  # finished the moment it is asked
    job = make_job(user, status=S.QUEUED)
    video_job_submit(job_id=job.pk)
    VideoJob.objects.filter(pk=job.pk).update(next_action_at=job.created_at)
    results = run_at_once(*[lambda: video_job_poll(job_id=job.pk)] * 3)
    assert results.count(True) == 1, results
    job.refresh_from_db()
    assert job.status == S.COMPLETED
    assert len([r for r in fake_openrouter.received if "/content" in r.path]) == 1


def test_concurrent_creates_never_exceed_the_in_flight_cap(catalogue, user, settings, sent_tasks):
    settings.VIDEO_MAX_JOBS_IN_FLIGHT = 3

    def create():
        return services.video_job_create(owner=user, model="google/veo-3.1", prompt="a race").pk

    results = run_at_once(*[create] * 6)
    created = [r for r in results if isinstance(r, int)]
    refused = [r for r in results if isinstance(r, errors.TooManyJobsInFlight)]
    assert len(created) == 3 and len(refused) == 3, results
    assert VideoJob.objects.filter(owner=user, status__in=VideoJob.ACTIVE).count() == 3


def test_a_cancel_while_the_provider_takes_the_job_stands(
    catalogue, fake_openrouter, fault_video_model, user, sent_tasks
):
    fake_openrouter.slow_seconds = 1.0
    job = services.video_job_create(owner=user, model=fault_video_model("slow"), prompt="slow one")
    sent_tasks.clear()
    submitted = threading.Event()

    def submit():
        try:
            return video_job_submit(job_id=job.pk)
        finally:
            connections.close_all()
            submitted.set()

    worker = threading.Thread(target=submit)
    worker.start()
    for _ in range(100):  # until the double has the request
        if fake_openrouter.received.matching("POST", "/api/v1/videos"):
            break
        submitted.wait(0.05)
    services.video_job_cancel(job_id=job.pk, by=user)
    worker.join(timeout=30)
    job.refresh_from_db()
    assert job.status == S.CANCELLED
    assert job.provider_job_id, "the provider's id is kept for the record: it may still bill"
    assert sent_tasks == [], "no polling of a cancelled job"


def test_a_cancel_during_the_download_wins_and_the_file_is_dropped(
    catalogue, fake_openrouter, make_job, user, sent_tasks, stored_files
):
    """The provider completes the job while the user cancels: the download finishes, but
    the cancel came first, so the job stays cancelled and keeps no file."""
    fake_openrouter.video_duration = 0
    job = make_job(user, status=S.QUEUED)
    video_job_submit(job_id=job.pk)
    VideoJob.objects.filter(pk=job.pk).update(next_action_at=job.created_at)
    real_state = fake_openrouter.job_state
    calls = []

    def state_then_cancel(fake_job):
        calls.append(fake_job.id)
        if len(calls) == 2:  # the content request: the user cancels right now
            try:
                services.video_job_cancel(job_id=job.pk, by=user)
            finally:
                connections.close_all()
        return real_state(fake_job)

    fake_openrouter.job_state = state_then_cancel
    assert video_job_poll(job_id=job.pk) is True
    job.refresh_from_db()
    assert len(calls) == 2
    assert job.status == S.CANCELLED and job.video_file.name == ""
    assert [f for f in stored_files() if f.endswith(".mp4")] == []
