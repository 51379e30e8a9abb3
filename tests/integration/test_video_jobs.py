"""Video jobs end to end with real processes: the web app (gunicorn), a Celery worker and
beat on the broker the settings select (Kombu's filesystem transport by default, Redis
when CELERY_BROKER_URL says so, as on CI's second pass), the store under test, and the
offline OpenRouter double. The test talks HTTP only."""

import base64
import io
import time

import pytest
from PIL import Image

from openrouter.fake import FakeOpenRouter
from openrouter.fake import media as fake_media
from tests.conftest import SUBPROCESS_ENV
from tests.support.stack import Stack

pytestmark = pytest.mark.integration

PASSWORD = "correct-horse-battery-staple"
EMAIL = "video-e2e@example.com"
VIDEO_SECONDS = 3  # the double's render time


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("video-stack")
    with (
        FakeOpenRouter(video_duration=VIDEO_SECONDS) as fake,
        Stack(data_dir, fake=fake, env=SUBPROCESS_ENV) as stack,
    ):
        stack.prepare(
            users=[(EMAIL, PASSWORD)],
            extra_models={
                "google/veo-3.1:fault=fail": "google/veo-3.1",
                "google/veo-3.1:fault=moderation": "google/veo-3.1",
            },
        )
        stack.start()
        yield stack


@pytest.fixture(scope="module")
def stack_api(stack):
    return stack.api(EMAIL, PASSWORD)


def start_job(stack, stack_api, path="/api/generate/video", **body):
    body = {"model": "google/veo-3.1", "prompt": "a lighthouse in a storm", "duration": 4, **body}
    response = stack_api.post(stack.url(path), json=body, timeout=30)
    assert response.status_code == 202, response.text
    assert response.json()["status"] == "queued"
    return response.json()["id"]


def assert_playable(stack, stack_api, body):
    assert body["video_url"], body
    response = stack_api.get(stack.url(body["video_url"]), timeout=30)
    assert response.status_code == 200 and response.headers["Content-Type"] == "video/mp4"
    assert response.content[4:8] == b"ftyp", "an MP4 file"
    assert response.content == fake_media.sample_video_bytes()


def provider_job(stack, prompt):
    jobs = [job for job in stack.fake.jobs.values() if job.body.get("prompt") == prompt]
    assert len(jobs) == 1, f"the provider got {len(jobs)} jobs for {prompt!r}"
    return jobs[0]


def test_text_to_video_completes_with_a_playable_stored_file(stack, stack_api):
    job_id = start_job(stack, stack_api, prompt="text to video, end to end")
    body = stack.wait_for_status(stack_api, job_id, {"completed", "failed", "cancelled"})
    assert body["status"] == "completed", body
    assert body["progress"] == 100 and body["error"] is None
    assert_playable(stack, stack_api, body)
    submitted = provider_job(stack, "text to video, end to end").body
    assert submitted["model"] == "google/veo-3.1" and submitted["duration"] == 4
    listed = stack_api.get(stack.url("/api/generate/videos"), params={"status": "completed"}, timeout=30).json()
    assert job_id in [job["id"] for job in listed["results"]]


def test_image_to_video_completes_from_a_url_and_from_my_own_image(stack, stack_api):
    buffer = io.BytesIO()
    Image.new("RGB", (32, 18), (30, 90, 200)).save(buffer, format="PNG")
    data_url = "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()
    from_url = start_job(
        stack, stack_api, "/api/generate/video/from-image", prompt="from a data URL", image_url=data_url
    )
    image = stack_api.post(
        stack.url("/api/generate/image"),
        json={"model": "google/gemini-2.5-flash-image", "prompt": "a harbour at dawn", "aspect_ratio": "16:9"},
        timeout=60,
    )
    assert image.status_code == 201, image.text
    image_id = image.json()["images"][0]["id"]
    from_mine = start_job(stack, stack_api, "/api/generate/video/from-image", prompt="from my image", image_id=image_id)
    for job_id, prompt in ((from_url, "from a data URL"), (from_mine, "from my image")):
        body = stack.wait_for_status(stack_api, job_id, {"completed", "failed", "cancelled"})
        assert body["status"] == "completed", body
        assert_playable(stack, stack_api, body)
        frame = provider_job(stack, prompt).body["frame_images"][0]
        assert frame["frame_type"] == "first_frame" and frame["image_url"]["url"].startswith("data:image/")
    assert provider_job(stack, "from a data URL").body["frame_images"][0]["image_url"]["url"] == data_url


def test_failing_jobs_show_their_reason(stack, stack_api):
    failed_at_provider = start_job(stack, stack_api, model="google/veo-3.1:fault=fail", prompt="fails while rendering")
    refused = start_job(stack, stack_api, model="google/veo-3.1:fault=moderation", prompt="refused at submit")
    body = stack.wait_for_status(stack_api, failed_at_provider, {"completed", "failed", "cancelled"})
    assert body["status"] == "failed" and "could not generate this video" in body["error"]
    assert body["video_url"] is None
    body = stack.wait_for_status(stack_api, refused, {"completed", "failed", "cancelled"})
    assert body["status"] == "failed" and "content policy" in body["error"]


def test_a_job_cancelled_mid_way_stays_cancelled_after_the_provider_completes_it(stack, stack_api):
    prompt = "cancelled while rendering"
    job_id = start_job(stack, stack_api, prompt=prompt)
    stack.wait_for_status(stack_api, job_id, "processing")
    response = stack_api.post(stack.url(f"/api/generate/video/{job_id}/cancel"), timeout=30)
    assert response.status_code == 200 and response.json()["status"] == "cancelled"
    fake_job = provider_job(stack, prompt)
    deadline = time.monotonic() + 60
    while stack.fake.job_state(fake_job)[0] != "completed":  # the provider has no cancel
        assert time.monotonic() < deadline
        time.sleep(0.2)
    time.sleep(4)  # several poll intervals and a sweep after the provider finished
    body = stack_api.get(stack.url(f"/api/generate/video/{job_id}/status"), timeout=30).json()
    assert body["status"] == "cancelled" and body["video_url"] is None
    assert not [r for r in stack.fake.received if r.path.startswith(f"/api/v1/videos/{fake_job.id}/content")]
    again = stack_api.post(stack.url(f"/api/generate/video/{job_id}/cancel"), timeout=30)
    assert again.status_code == 409


def test_a_worker_killed_mid_job_loses_nothing(stack, stack_api):
    prompt = "survives a SIGKILL"
    job_id = start_job(stack, stack_api, prompt=prompt)
    body = stack.wait_for_status(stack_api, job_id, "processing")
    assert body["progress"] is None or body["progress"] < 100
    stack.kill("worker")  # no warm shutdown: whatever it held in memory is gone
    stack.start_worker("worker-2")
    body = stack.wait_for_status(stack_api, job_id, {"completed", "failed", "cancelled"}, timeout=120)
    assert body["status"] == "completed", body
    assert_playable(stack, stack_api, body)
    provider_job(stack, prompt)  # submitted exactly once
