"""The worker's side of the lifecycle, against the offline double over real HTTP:
submit, poll, download, and what each provider answer does to a job."""

from datetime import timedelta

import pytest
from django.utils import timezone

from openrouter.fake import media as fake_media
from videos import services, worker
from videos.models import VideoJob

S = VideoJob.Status
pytestmark = pytest.mark.django_db


def submits(fake):
    return fake.received.matching("POST", "/api/v1/videos")


def polls(fake):
    return [
        r
        for r in fake.received
        if r.method == "GET" and "/videos/" in r.path and "/content" not in r.path and not r.path.endswith("/models")
    ]


def downloads(fake):
    return [r for r in fake.received if r.method == "GET" and "/content" in r.path]


@pytest.fixture
def queued(catalogue, user, django_capture_on_commit_callbacks):
    def make(**kwargs):
        values = {"model": "google/veo-3.1", "prompt": "waves on a beach at dusk"}
        values.update(kwargs)
        with django_capture_on_commit_callbacks(execute=False):
            return services.video_job_create(owner=user, **values)

    return make


def make_due(job):
    VideoJob.objects.filter(pk=job.pk).update(next_action_at=timezone.now())


# ------------------------------------------------------------------ submit


def test_submit_sends_the_job_and_stores_the_provider_id_at_once(queued, fake, sent_tasks, settings):
    job = queued(aspect_ratio="16:9", resolution="720p", duration=4)
    before = timezone.now()
    assert worker.video_job_submit(job_id=job.pk) is True
    job.refresh_from_db()
    [request] = submits(fake)
    assert request.body == {
        "model": "google/veo-3.1",
        "prompt": "waves on a beach at dusk",
        "aspect_ratio": "16:9",
        "resolution": "720p",
        "duration": 4,
    }
    assert job.status == S.PROCESSING
    assert job.provider_job_id in fake.jobs
    assert job.polling_url.endswith(f"/videos/{job.provider_job_id}")
    assert job.submitted_at >= before
    assert job.next_action_at >= before + timedelta(seconds=settings.VIDEO_POLL_INTERVAL)
    assert sent_tasks == [("poll_video_job", (job.pk,), settings.VIDEO_POLL_INTERVAL)]


def test_submit_run_twice_submits_once(queued, fake):
    job = queued()
    assert worker.video_job_submit(job_id=job.pk) is True
    make_due(job)  # even when due again, a job with a provider id is never sent twice
    VideoJob.objects.filter(pk=job.pk).update(status=S.QUEUED)
    assert worker.video_job_submit(job_id=job.pk) is False
    assert len(submits(fake)) == 1


def test_submit_leaves_a_job_another_worker_holds(queued, fake):
    job = queued()
    VideoJob.objects.filter(pk=job.pk).update(next_action_at=timezone.now() + timedelta(minutes=4))
    assert worker.video_job_submit(job_id=job.pk) is False
    assert submits(fake) == []


def test_submit_ignores_jobs_that_are_not_queued(make_job, user, fake, catalogue):
    for status in (S.PROCESSING, S.COMPLETED, S.FAILED, S.CANCELLED):
        job = make_job(user, status=status, provider_job_id=None)
        assert worker.video_job_submit(job_id=job.pk) is False
    assert submits(fake) == []


def test_submit_of_a_job_that_no_longer_exists_does_nothing(fake, catalogue):
    assert worker.video_job_submit(job_id=987654) is False


@pytest.mark.parametrize(
    ("fault", "message"),
    [
        ("bad_request", "The AI provider refused the request: Invalid request parameters."),
        ("moderation", "refused this prompt under its content policy"),
        ("out_of_credits", "provider account problem"),
        ("auth", "provider account problem"),
        ("not_found", "does not know this model"),
    ],
)
def test_provider_4xx_on_submit_fails_the_job_with_the_providers_message(
    queued, fake, fault_video_model, fault, message, sent_tasks
):
    job = queued(model=fault_video_model(fault))
    worker.video_job_submit(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == S.FAILED
    assert message in job.error
    assert job.error_detail, "admins get the details"
    assert job.in_flight_slot is None and job.finished_at is not None
    assert len(submits(fake)) == 1, "4xx answers are not retried"
    assert sent_tasks == []


@pytest.mark.parametrize("fault", ["rate_limit", "server_error", "bad_gateway", "unavailable"])
def test_transient_submit_errors_are_retried_with_backoff_then_fail(
    queued, fake, fault_video_model, fault, sent_tasks, settings
):
    settings.VIDEO_SUBMIT_MAX_ATTEMPTS = 3
    job = queued(model=fault_video_model(fault))
    for attempt in (1, 2):
        before = timezone.now()
        worker.video_job_submit(job_id=job.pk)
        job.refresh_from_db()
        assert job.status == S.QUEUED and job.consecutive_failures == attempt
        assert job.next_action_at > before, "not before the backoff has passed"
        assert job.error_detail and job.error == ""
        assert sent_tasks[-1][0] == "submit_video_job" and sent_tasks[-1][2] > 0
        assert worker.video_job_submit(job_id=job.pk) is False, "waits out the backoff"
        make_due(job)
    worker.video_job_submit(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == S.FAILED
    assert "after 3 attempts" in job.error
    assert len(submits(fake)) == 3


def test_a_transient_error_then_success_processes_the_job(queued, fake, fault_video_model):
    job = queued(model=fault_video_model("server_error*1"))  # only the first request fails
    worker.video_job_submit(job_id=job.pk)
    make_due(job)
    worker.video_job_submit(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == S.PROCESSING and job.consecutive_failures == 0 and job.error_detail == ""


def test_a_submit_timeout_is_retried(queued, fake, fault_video_model, settings):
    settings.OPENROUTER_READ_TIMEOUT = 0.3
    fake.slow_seconds = 3
    job = queued(model=fault_video_model("slow"))
    worker.video_job_submit(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == S.QUEUED and job.consecutive_failures == 1
    assert "ProviderTimeout" in job.error_detail


def test_image_to_video_sends_an_https_url_as_the_first_frame(queued, fake):
    job = queued(generation_type="image_to_video", image_url="https://example.com/first.png")
    worker.video_job_submit(job_id=job.pk)
    [request] = submits(fake)
    assert request.body["frame_images"] == [
        {"type": "image_url", "frame_type": "first_frame", "image_url": {"url": "https://example.com/first.png"}}
    ]


def test_image_to_video_sends_a_data_url_image_as_sent(queued, fake):
    from tests.videos.test_create import png_data_url

    url = png_data_url()
    job = queued(generation_type="image_to_video", image_url=url)
    worker.video_job_submit(job_id=job.pk)
    assert submits(fake)[0].body["frame_images"][0]["image_url"]["url"] == url
    job.refresh_from_db()
    assert job.status == S.PROCESSING


def test_image_to_video_sends_the_users_own_image(queued, fake, user, generated_image):
    image = generated_image(user)
    job = queued(generation_type="image_to_video", image_id=image.pk)
    worker.video_job_submit(job_id=job.pk)
    assert submits(fake)[0].body["frame_images"][0]["image_url"]["url"] == image.as_data_url()


def test_a_source_image_deleted_before_submit_fails_the_job(queued, fake, user, generated_image):
    image = generated_image(user)
    job = queued(generation_type="image_to_video", image_id=image.pk)
    image.generation.delete()
    worker.video_job_submit(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == S.FAILED and "source image" in job.error
    assert submits(fake) == []


# ------------------------------------------------------------------ poll


@pytest.fixture
def processing(queued, fake, sent_tasks):
    def make(**kwargs):
        job = queued(**kwargs)
        worker.video_job_submit(job_id=job.pk)
        make_due(job)
        sent_tasks.clear()
        fake.received.clear()
        job.refresh_from_db()
        return job

    return make


def test_poll_waits_until_the_job_is_due(processing, fake):
    job = processing()
    VideoJob.objects.filter(pk=job.pk).update(next_action_at=timezone.now() + timedelta(seconds=10))
    assert worker.video_job_poll(job_id=job.pk) is False
    assert polls(fake) == []


def test_poll_of_a_running_job_saves_progress_and_schedules_the_next(processing, fake, sent_tasks, settings):
    job = processing()
    fake.advance(5)  # half of the double's 10 s
    assert worker.video_job_poll(job_id=job.pk) is True
    job.refresh_from_db()
    assert job.status == S.PROCESSING and job.progress == 50
    assert job.next_action_at > timezone.now() + timedelta(seconds=settings.VIDEO_POLL_INTERVAL - 2)
    assert sent_tasks == [("poll_video_job", (job.pk,), settings.VIDEO_POLL_INTERVAL)]
    assert len(polls(fake)) == 1


def test_completed_job_is_downloaded_into_storage_and_completes_with_our_url_and_cost(processing, fake, stored_files):
    job = processing(duration=4)
    fake.advance(11)
    worker.video_job_poll(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == S.COMPLETED
    assert job.progress == 100 and job.in_flight_slot is None and job.finished_at
    assert job.video_url == f"/generate/video/{job.pk}/file"
    assert job.video_file.name in stored_files()
    with job.video_file.open("rb") as handle:
        assert handle.read() == fake_media.sample_video_bytes()
    assert job.video_bytes == len(fake_media.sample_video_bytes())
    assert float(job.cost) == pytest.approx(4 * 0.40)
    assert job.usage == {"cost": pytest.approx(1.6)}
    assert job.provider_video_url.endswith("/content?index=0")


def test_poll_run_twice_after_completion_downloads_once(processing, fake):
    job = processing()
    fake.advance(11)
    assert worker.video_job_poll(job_id=job.pk) is True
    make_due(job)
    assert worker.video_job_poll(job_id=job.pk) is False
    assert len(downloads(fake)) == 1 and len(polls(fake)) == 1


@pytest.mark.parametrize(
    ("fault", "words"),
    [
        ("fail", "could not generate this video"),
        ("expire", "expired at the AI provider"),
        ("no_urls", "sent no video URL"),
    ],
)
def test_a_job_the_provider_ends_without_a_video_fails_with_its_reason(
    queued, fake, fault_video_model, fault, words, sent_tasks, stored_files
):
    job = queued(model=fault_video_model(fault))
    worker.video_job_submit(job_id=job.pk)
    make_due(job)
    fake.advance(11)
    worker.video_job_poll(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == S.FAILED and words in job.error
    assert job.in_flight_slot is None
    assert downloads(fake) == [] and stored_files() == []


def test_a_job_the_provider_forgot_fails(processing, fake):
    job = processing()
    fake.reset()  # the double no longer knows the job: 404
    worker.video_job_poll(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == S.FAILED and "no longer knows this job" in job.error


def test_poll_errors_back_off_then_fail(processing, fake, sent_tasks, settings):
    settings.VIDEO_POLL_MAX_ERRORS = 3
    job = processing()
    # A provider that does not answer at all (nothing listens on port 9).
    VideoJob.objects.filter(pk=job.pk).update(polling_url="http://127.0.0.1:9/api/v1/videos/x")
    for attempt in (1, 2):
        worker.video_job_poll(job_id=job.pk)
        job.refresh_from_db()
        assert job.status == S.PROCESSING and job.consecutive_failures == attempt
        assert job.next_action_at >= timezone.now() + timedelta(seconds=settings.VIDEO_POLL_INTERVAL - 2)
        assert sent_tasks[-1][0] == "poll_video_job" and sent_tasks[-1][2] >= settings.VIDEO_POLL_INTERVAL
        make_due(job)
    worker.video_job_poll(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == S.FAILED and "3 times in a row" in job.error


def test_a_successful_poll_resets_the_error_count(processing, fake):
    job = processing()
    VideoJob.objects.filter(pk=job.pk).update(consecutive_failures=2)
    worker.video_job_poll(job_id=job.pk)
    job.refresh_from_db()
    assert job.consecutive_failures == 0


def test_a_video_larger_than_we_accept_fails_the_job(processing, fake, settings, stored_files):
    settings.OPENROUTER_VIDEO_MAX_BYTES = 100
    job = processing()
    fake.advance(11)
    worker.video_job_poll(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == S.FAILED and "could not be stored" in job.error
    assert stored_files() == []


# ------------------------------------------------------------------ cancel meets the worker


def test_cancel_stops_polling(processing, fake):
    job = processing()
    services.video_job_cancel(job_id=job.pk, by=job.owner)
    fake.advance(11)
    assert worker.video_job_poll(job_id=job.pk) is False
    assert polls(fake) == [] and downloads(fake) == []


def test_cancel_before_submit_means_no_submit(queued, fake):
    job = queued()
    services.video_job_cancel(job_id=job.pk, by=job.owner)
    assert worker.video_job_submit(job_id=job.pk) is False
    assert submits(fake) == []
