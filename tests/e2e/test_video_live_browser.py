"""Live video status in a real Chromium against uvicorn (the asgi_server fixture): job
pages and the gallery's pending cards learn of the worker's changes over server-sent
events, and poll the status API only when the stream fails."""

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from tests.factories import DEFAULT_PASSWORD, UserFactory
from videos.models import VideoJob
from videos.transitions import transition, update_if

pytestmark = pytest.mark.e2e

S = VideoJob.Status
# Functions, not expression strings: the pages' CSP forbids evaluating strings.
STATUS_TEXT = "() => document.querySelector('{scope} [data-video-job]').dataset.status === '{status}'"


@pytest.fixture
def live_settings(settings, media_root):
    settings.VIDEO_LIVE_INTERVAL = 0.1
    settings.VIDEO_PAGE_POLL_MS = 600_000  # only the stream can bring news within a test
    return settings


@pytest.fixture
def signed_in(live_settings, page, login):
    user = UserFactory()
    login(user.email, DEFAULT_PASSWORD)
    return user


@pytest.fixture
def requests_seen(page):
    """Paths of the page's requests to the video API, in order."""
    seen = []
    page.on(
        "request",
        lambda request: (
            seen.append(request.url.split("://", 1)[1].split("/", 1)[1])
            if "/api/generate/video" in request.url
            else None
        ),
    )
    return seen


def processing_job(owner, **fields) -> VideoJob:
    now = timezone.now()
    slot = VideoJob.objects.filter(owner=owner, in_flight_slot__isnull=False).count() + 1
    return VideoJob.objects.create(
        owner=owner,
        model="google/veo-3.1",
        prompt="a lantern on a lake",
        status=S.PROCESSING,
        progress=5,
        provider_job_id=f"live-{owner.pk}-{slot}-{now.timestamp()}",
        in_flight_slot=slot,
        next_action_at=now,
        deadline_at=now + timedelta(minutes=30),
        created_at=now,
        updated_at=now,
        submitted_at=now,
        **fields,
    )


def end_as_the_worker_would(job: VideoJob, status: str) -> None:
    """The worker's (or the owner's) conditional UPDATE that ends the job."""
    changes_for: dict[str, dict[str, Any]] = {
        S.COMPLETED: {"video_file": f"videos/{job.owner_id}/{job.pk}-live.mp4", "progress": 100},
        S.FAILED: {"error": "The AI provider could not generate this video."},
        S.CANCELLED: {"cancelled_at": timezone.now()},
    }
    assert transition(job_id=job.pk, from_states=(S.PROCESSING,), to=status, **changes_for[status])


@pytest.mark.parametrize("ending", [S.COMPLETED, S.FAILED, S.CANCELLED])
def test_a_job_page_shows_the_end_pushed_over_the_stream(signed_in, page, requests_seen, ending):
    job = processing_job(signed_in)
    with page.expect_request(lambda request: "/api/generate/video/events" in request.url):
        page.goto(f"/generate/video/{job.pk}")
    # Progress first, then the end: both arrive while the page's polling sleeps for 10 minutes.
    update_if(job_id=job.pk, statuses=(S.PROCESSING,), progress=60)
    page.wait_for_function("() => document.querySelector('[data-testid=job-progress]').value === 60")
    assert page.inner_text('[data-testid="job-progress-text"]') == "The provider reports 60% done"
    end_as_the_worker_would(job, ending)
    page.wait_for_function(STATUS_TEXT.format(scope="", status=ending))
    assert page.inner_text('[data-testid="job-status"]') == ending.label
    # Ended: no progress bar and no "waiting for the provider" left beside the badge.
    assert page.is_hidden('[data-testid="job-progress-box"]')
    assert page.is_hidden('[data-testid="job-progress"]')
    assert page.is_visible('[data-testid="job-download"]') == (ending == S.COMPLETED)

    if ending == S.COMPLETED:
        assert page.get_attribute('video[data-testid="job-video"]', "src") == f"/generate/video/{job.pk}/file"
    elif ending == S.FAILED:
        assert page.inner_text('[data-testid="job-error"]') == "The AI provider could not generate this video."
    else:
        assert page.is_visible('[data-testid="job-cancelled"]')
    assert page.is_hidden('[data-testid="cancel-job"]')
    assert not [path for path in requests_seen if path.endswith("/status")], "no polling: the stream told the page"
    assert [path for path in requests_seen if "/events" in path] == [f"api/generate/video/events?ids={job.pk}"]


def test_the_gallerys_pending_cards_share_one_stream(signed_in, page, requests_seen):
    first, second = processing_job(signed_in), processing_job(signed_in)
    with page.expect_request(lambda request: "/api/generate/video/events" in request.url):
        page.goto("/gallery")
    end_as_the_worker_would(second, S.COMPLETED)
    end_as_the_worker_would(first, S.FAILED)
    page.wait_for_function(STATUS_TEXT.format(scope=f'[data-job-id="{second.pk}"]', status="completed"))
    page.wait_for_function(STATUS_TEXT.format(scope=f'[data-job-id="{first.pk}"]', status="failed"))
    streams = [path for path in requests_seen if "/events" in path]
    assert streams == [f"api/generate/video/events?ids={first.pk},{second.pk}"] or streams == [
        f"api/generate/video/events?ids={second.pk},{first.pk}"
    ], "one stream for every pending card"
    assert not [path for path in requests_seen if path.endswith("/status")]


def test_the_page_polls_when_the_stream_is_refused(signed_in, live_settings, page, requests_seen):
    live_settings.VIDEO_PAGE_POLL_MS = 200
    page.route(
        "**/api/generate/video/events*",
        lambda route: route.fulfill(status=503, content_type="application/json", body='{"detail": "unavailable"}'),
    )
    job = processing_job(signed_in)
    with page.expect_request(lambda request: request.url.endswith(f"/api/generate/video/{job.pk}/status")):
        page.goto(f"/generate/video/{job.pk}")
    end_as_the_worker_would(job, S.COMPLETED)
    page.wait_for_function(STATUS_TEXT.format(scope="", status="completed"))
    assert page.get_attribute('video[data-testid="job-video"]', "src") == f"/generate/video/{job.pk}/file"
    assert [path for path in requests_seen if path.endswith("/status")], "the status API was polled"


def test_a_page_past_the_stream_bound_polls_instead(signed_in, live_settings, page, requests_seen):
    """LIVE_STREAMS_PER_USER reached (another tab holds the one stream): the server answers
    this page's stream 429, and the page follows the job by polling the status API."""
    live_settings.LIVE_STREAMS_PER_USER = 1
    live_settings.VIDEO_PAGE_POLL_MS = 200
    job = processing_job(signed_in)
    first_tab = page.context.new_page()
    with first_tab.expect_response(lambda response: "/api/generate/video/events" in response.url) as opened:
        first_tab.goto(f"/generate/video/{job.pk}")
    assert opened.value.status == 200

    with page.expect_response(lambda response: "/api/generate/video/events" in response.url) as refused:
        page.goto(f"/generate/video/{job.pk}")
    assert refused.value.status == 429 and refused.value.headers.get("retry-after")
    end_as_the_worker_would(job, S.COMPLETED)
    page.wait_for_function(STATUS_TEXT.format(scope="", status="completed"))
    first_tab.wait_for_function(STATUS_TEXT.format(scope="", status="completed"))
    assert page.get_attribute('video[data-testid="job-video"]', "src") == f"/generate/video/{job.pk}/file"
    assert [path for path in requests_seen if path.endswith(f"/{job.pk}/status")], "the refused page polled"
    first_tab.close()


def test_finished_and_cancelled_jobs_show_no_progress_when_the_page_loads(signed_in, page):
    # `.video-progress {display: flex}` used to beat the `hidden` attribute: a finished job
    # kept a full bar, a cancelled one an animated "waiting for the provider…".
    done = processing_job(signed_in)
    end_as_the_worker_would(done, S.COMPLETED)
    cancelled = processing_job(signed_in)
    end_as_the_worker_would(cancelled, S.CANCELLED)
    running = processing_job(signed_in)

    for job in (done, cancelled):
        page.goto(f"/generate/video/{job.pk}")
        assert page.is_hidden('[data-testid="job-progress-box"]'), job.status
        assert page.is_hidden('[data-testid="job-progress"]'), job.status
        assert page.is_hidden('[data-testid="cancel-job"]'), job.status
    page.goto(f"/generate/video/{done.pk}")
    download = page.locator('[data-testid="job-download"]')
    assert download.is_visible() and download.get_attribute("href") == f"/generate/video/{done.pk}/file?download=1"
    page.goto(f"/generate/video/{cancelled.pk}")
    assert page.is_visible('[data-testid="job-cancelled"]') and page.is_hidden('[data-testid="job-download"]')

    page.goto("/gallery")
    for job in (done, cancelled):
        assert page.locator(f'[data-job-id="{job.pk}"] [data-testid="job-progress-box"]').is_hidden(), job.status
    box = page.locator(f'[data-job-id="{running.pk}"] [data-testid="job-progress-box"]')
    assert box.is_visible()
    assert box.locator('[data-testid="job-progress-text"]').inner_text() == "The provider reports 5% done"
