"""The lifecycle's state machine: every allowed transition, every forbidden one."""

import itertools

import pytest

from videos.models import VideoJob
from videos.transitions import ALLOWED_TRANSITIONS, transition

S = VideoJob.Status
pytestmark = pytest.mark.django_db

FORBIDDEN = sorted(
    (a, b) for a, b in itertools.product(S.values, S.values) if a != b and (a, b) not in ALLOWED_TRANSITIONS
)


def test_the_lifecycle_is_what_design_md_draws():
    assert ALLOWED_TRANSITIONS == {
        (S.QUEUED, S.PROCESSING),
        (S.QUEUED, S.FAILED),
        (S.QUEUED, S.CANCELLED),
        (S.PROCESSING, S.COMPLETED),
        (S.PROCESSING, S.FAILED),
        (S.PROCESSING, S.CANCELLED),
        (S.FAILED, S.QUEUED),
        (S.FAILED, S.PROCESSING),  # operators' retry
    }
    # Nothing leaves completed or cancelled, and nothing skips processing to complete.
    assert all(source not in (S.COMPLETED, S.CANCELLED) for source, _ in ALLOWED_TRANSITIONS)
    assert (S.QUEUED, S.COMPLETED) not in ALLOWED_TRANSITIONS


@pytest.mark.parametrize(("source", "target"), sorted(ALLOWED_TRANSITIONS))
def test_allowed_transition_moves_the_job(make_job, user, source, target):
    job = make_job(user, status=source)
    assert transition(job_id=job.pk, from_states=[source], to=target) is True
    job.refresh_from_db()
    assert job.status == target
    if target in VideoJob.TERMINAL:
        assert job.finished_at is not None
        assert job.in_flight_slot is None, "a finished job frees its in-flight slot"
        assert job.next_action_at is None


@pytest.mark.parametrize(("source", "target"), FORBIDDEN)
def test_forbidden_transition_is_refused_before_touching_the_database(make_job, user, source, target):
    job = make_job(user, status=source)
    before = VideoJob.objects.filter(pk=job.pk).values().get()
    with pytest.raises(ValueError, match="may not go from"):
        transition(job_id=job.pk, from_states=[source], to=target)
    assert VideoJob.objects.filter(pk=job.pk).values().get() == before


@pytest.mark.parametrize(("source", "target"), sorted(ALLOWED_TRANSITIONS))
def test_transition_from_a_state_the_job_is_not_in_changes_nothing(make_job, user, source, target):
    # The job is somewhere else (here: in every other state): the conditional UPDATE misses.
    for actual in S.values:
        if actual == source:
            continue
        job = make_job(user, status=actual)
        before = VideoJob.objects.filter(pk=job.pk).values().get()
        assert transition(job_id=job.pk, from_states=[source], to=target) is False
        assert VideoJob.objects.filter(pk=job.pk).values().get() == before


def test_a_cancelled_job_is_never_overwritten(make_job, user):
    job = make_job(user, status=S.CANCELLED)
    for target in (S.PROCESSING, S.COMPLETED, S.FAILED):
        sources = [s for s, t in ALLOWED_TRANSITIONS if t == target]
        assert transition(job_id=job.pk, from_states=sources, to=target, error="late") is False
    job.refresh_from_db()
    assert job.status == S.CANCELLED and job.error == ""


def test_changes_are_written_in_the_same_statement(make_job, user):
    job = make_job(user, status=S.QUEUED)
    assert transition(
        job_id=job.pk, from_states=[S.QUEUED], to=S.PROCESSING, provider_job_id="vid-1", polling_url="https://p/vid-1"
    )
    job.refresh_from_db()
    assert (job.status, job.provider_job_id, job.polling_url) == (S.PROCESSING, "vid-1", "https://p/vid-1")
    assert job.in_flight_slot is not None, "an active job keeps its slot"
