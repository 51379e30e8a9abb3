"""An image-to-video job's uploaded source image goes when the job ends (completed, failed
or cancelled), and cancels count against the generation throttle, so creating and
cancelling in a loop cannot fill the disk."""

import base64
import io
from datetime import timedelta

import pytest
from django.utils import timezone
from PIL import Image

from core.errors import Conflict
from videos import services, sweep, transitions, worker
from videos.models import VideoJob

S = VideoJob.Status
I2V = VideoJob.GenerationType.IMAGE_TO_VIDEO
pytestmark = pytest.mark.django_db


def png_data_url(size=(16, 16)) -> str:
    buffer = io.BytesIO()
    Image.new("RGB", size, (30, 120, 200)).save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


@pytest.fixture
def upload_job(catalogue, user, django_capture_on_commit_callbacks, stored_files):
    """A queued image-to-video job whose first frame the user uploaded as a data URL."""

    def make(**kwargs):
        with django_capture_on_commit_callbacks(execute=False):
            job = services.video_job_create(
                owner=user,
                model="google/veo-3.1",
                prompt="the sea",
                generation_type=I2V,
                image_url=png_data_url(),
                **kwargs,
            )
        assert job.source_image_file and job.source_image_file.name in stored_files()
        return job

    return make


def _make_due(job):
    VideoJob.objects.filter(pk=job.pk).update(next_action_at=timezone.now())


def test_cancelling_deletes_the_uploaded_source_after_commit(
    upload_job, user_api, stored_files, django_capture_on_commit_callbacks
):
    job = upload_job()

    with django_capture_on_commit_callbacks(execute=True):
        response = user_api.post(f"/api/generate/video/{job.pk}/cancel")

    assert response.status_code == 200, response.content
    job.refresh_from_db()
    assert job.status == S.CANCELLED and not job.source_image_file
    assert stored_files() == []


def test_a_failed_job_keeps_no_source(upload_job, stored_files, django_capture_on_commit_callbacks):
    job = upload_job()
    VideoJob.objects.filter(pk=job.pk).update(deadline_at=timezone.now() - timedelta(seconds=1))

    with django_capture_on_commit_callbacks(execute=True):
        assert sweep.video_jobs_sweep().failed_past_deadline == 1

    job.refresh_from_db()
    assert job.status == S.FAILED and not job.source_image_file and stored_files() == []


def test_a_completed_job_keeps_its_video_but_not_its_source(
    upload_job, fake_openrouter, stored_files, sent_tasks, django_capture_on_commit_callbacks
):
    now = [1000.0]
    fake_openrouter.clock = lambda: now[0]
    fake_openrouter.video_duration = 10.0
    job = upload_job()
    worker.video_job_submit(job_id=job.pk)
    [submitted] = [r for r in fake_openrouter.received if r.method == "POST" and r.path.endswith("/videos")]
    # The provider has the first frame now: our copy is no use once the job ends.
    assert submitted.body["frame_images"][0]["image_url"]["url"].startswith("data:image/png;base64,")
    _make_due(job)
    now[0] += 11

    with django_capture_on_commit_callbacks(execute=True):
        worker.video_job_poll(job_id=job.pk)

    job.refresh_from_db()
    assert job.status == S.COMPLETED and not job.source_image_file
    assert stored_files() == [job.video_file.name]


def test_a_rolled_back_end_keeps_the_source(upload_job, stored_files, django_capture_on_commit_callbacks):
    job = upload_job()

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert transitions.transition(job_id=job.pk, from_states=VideoJob.ACTIVE, to=S.CANCELLED)

    assert len(callbacks) == 1  # the delete waits for the commit; never run here
    assert job.source_image_file.name in stored_files()


def test_jobs_without_an_upload_end_as_before(
    catalogue, user, make_job, generated_image, stored_files, django_capture_on_commit_callbacks
):
    image = generated_image(user)
    job = make_job(user, generation_type=I2V, source_image=image)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        services.video_job_cancel(job_id=job.pk, by=user)

    assert callbacks == [] and image.file.name in stored_files()


def test_a_failed_job_whose_upload_is_gone_cannot_be_resubmitted(upload_job, django_capture_on_commit_callbacks):
    job = upload_job()
    with django_capture_on_commit_callbacks(execute=True):
        transitions.fail(job, from_states=(S.QUEUED,), error="no")

    with pytest.raises(Conflict, match="start a new job"):
        services.video_job_retry(job_id=job.pk)


def test_create_and_cancel_in_a_loop_is_throttled(
    catalogue, user_api, settings, sent_tasks, stored_files, django_capture_on_commit_callbacks
):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "generation": "6/min"},
    }
    body = {"prompt": "the sea", "model": "google/veo-3.1", "image_url": png_data_url()}
    answers = []
    for _ in range(5):
        with django_capture_on_commit_callbacks(execute=True):
            created = user_api.post("/api/generate/video/from-image", body, format="json")
            answers.append(created.status_code)
            if created.status_code != 202:
                break
            answers.append(user_api.post(f"/api/generate/video/{created.json()['id']}/cancel").status_code)

    # Three creates and three cancels use the six requests a minute; the fourth create is refused.
    assert answers == [202, 200, 202, 200, 202, 200, 429]
    assert VideoJob.objects.count() == 3 and stored_files() == []


def test_cancel_is_throttled_on_the_api_and_the_page(catalogue, user_api, client_for, user, make_job, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "generation": "1/min"},
    }
    first, second, third = (make_job(user, status=S.QUEUED) for _ in range(3))
    web = client_for(None)
    web.force_login(user)

    assert user_api.post(f"/api/generate/video/{first.pk}/cancel").status_code == 200
    refused = user_api.post(f"/api/generate/video/{second.pk}/cancel")
    page = web.post(f"/generate/video/{third.pk}/cancel")

    assert refused.status_code == 429 and int(refused["Retry-After"]) >= 1
    assert page.status_code == 429 and int(page["Retry-After"]) >= 1
    assert "Too many generation requests" in page.content.decode()
    assert VideoJob.objects.get(pk=second.pk).status == VideoJob.objects.get(pk=third.pk).status == S.QUEUED
