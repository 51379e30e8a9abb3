import pytest

from tests.support.provider import catalogue, fake_openrouter, fault_copies  # noqa: F401


@pytest.fixture(autouse=True)
def _media_in_tmp(media_root):
    """Every video test stores its files in its own temporary MEDIA_ROOT."""
    return media_root


@pytest.fixture(autouse=True)
def _video_settings(settings):
    settings.VIDEO_MAX_JOBS_IN_FLIGHT = 3
    settings.VIDEO_POLL_INTERVAL = 15.0
    settings.VIDEO_SWEEP_GRACE = 15.0
    settings.VIDEO_TASK_LEASE = 300
    settings.VIDEO_JOB_DEADLINE = 1800
    settings.VIDEO_SUBMIT_MAX_ATTEMPTS = 3
    settings.VIDEO_POLL_MAX_ERRORS = 3
    settings.VIDEO_RETRY_BACKOFF = 5.0
    return settings


@pytest.fixture
def eager_tasks(sent_tasks):
    """Tasks sent run at once in the sending thread."""
    sent_tasks.run_inline = True
    return sent_tasks


@pytest.fixture
def fake(fake_openrouter):
    """The double with a clock the test moves: video jobs finish when told to."""
    now = [1000.0]
    fake_openrouter.clock = lambda: now[0]
    fake_openrouter.video_duration = 10.0

    def advance(seconds: float) -> None:
        now[0] += seconds

    fake_openrouter.advance = advance
    return fake_openrouter


@pytest.fixture
def fault_video_model(catalogue):
    """A catalogue entry the double answers with a fault: a copy of google/veo-3.1 named
    ``google/veo-3.1:fault=<fault>``."""
    return fault_copies("google/veo-3.1")


@pytest.fixture
def make_job(db):
    """A job row in any state, written directly (the state under test, not how it got there):
    ``make_job(owner, status=..., **fields)``, see tests.factories.VideoJobFactory."""
    from tests.factories import VideoJobFactory

    def make(owner, **fields):
        return VideoJobFactory(owner=owner, **fields)

    return make


@pytest.fixture
def generated_image(db):
    """A stored generated image owned by the given user (a real PNG in storage)."""
    from tests.factories import GeneratedImageFactory

    def make(owner):
        return GeneratedImageFactory(generation__owner=owner)

    return make
