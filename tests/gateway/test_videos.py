"""/v1/videos in OpenRouter's video API shape, over plain HTTP (httpx) against the running
app: a job created with a key, worked by the worker against the double, polled, downloaded."""

from datetime import timedelta

import httpx
from django.utils import timezone

from tests.videos.conftest import _video_settings, fake  # noqa: F401
from videos import worker
from videos.models import VideoJob


def _headers(secret):
    return {"Authorization": f"Bearer {secret}"}


def test_a_video_job_created_polled_and_downloaded(served, fake, user):  # noqa: F811
    base, key, secret = served
    created = httpx.post(
        f"{base}/v1/videos",
        headers=_headers(secret),
        json={"model": "google/veo-3.1", "prompt": "waves on a beach", "aspect_ratio": "16:9", "duration": 4},
    )
    assert created.status_code == 202, created.text
    body = created.json()
    assert body["status"] == "pending" and body["polling_url"] == f"{base}/v1/videos/{body['id']}"
    job = VideoJob.objects.get(pk=int(body["id"]))
    assert job.owner == user and job.api_key_id == key.pk and job.aspect_ratio == "16:9"

    assert worker.video_job_submit(job_id=job.pk) is True
    polled = httpx.get(body["polling_url"], headers=_headers(secret)).json()
    assert polled["status"] == "in_progress" and "unsigned_urls" not in polled

    fake.advance(60)
    VideoJob.objects.filter(pk=job.pk).update(next_action_at=timezone.now() - timedelta(seconds=1))
    worker.video_job_poll(job_id=job.pk)
    polled = httpx.get(body["polling_url"], headers=_headers(secret)).json()
    assert polled["status"] == "completed" and polled["progress"] == 100
    [url] = polled["unsigned_urls"]
    assert url == f"{base}/v1/videos/{job.pk}/content?index=0"
    assert set(polled["usage"]) == {"cost", "is_byok"}
    video = httpx.get(url, headers=_headers(secret))
    assert video.status_code == 200 and video.headers["content-type"] == "video/mp4" and len(video.content) > 0
    assert httpx.get(url).status_code == 401
    assert httpx.get(f"{base}/v1/videos/{job.pk}/content?index=1", headers=_headers(secret)).status_code == 404


def test_image_to_video_takes_a_first_frame(served):
    base, _, secret = served
    frame = "https://example.com/frame.png"
    created = httpx.post(
        f"{base}/v1/videos",
        headers=_headers(secret),
        json={
            "model": "google/veo-3.1",
            "prompt": "it moves",
            "frame_images": [{"type": "image_url", "frame_type": "first_frame", "image_url": {"url": frame}}],
        },
    )
    assert created.status_code == 202, created.text
    job = VideoJob.objects.get(pk=int(created.json()["id"]))
    assert job.generation_type == VideoJob.GenerationType.IMAGE_TO_VIDEO and job.source_image_url == frame


def test_video_errors_are_in_openai_shape(served, other_user, make_key):
    base, _, secret = served
    bad = httpx.post(
        f"{base}/v1/videos",
        headers=_headers(secret),
        json={"model": "google/veo-3.1", "prompt": "x", "aspect_ratio": "4:3"},
    )
    assert bad.status_code == 400
    assert bad.json()["error"]["param"] == "aspect_ratio" and bad.json()["error"]["type"] == "invalid_request_error"
    created = httpx.post(
        f"{base}/v1/videos", headers=_headers(secret), json={"model": "google/veo-3.1", "prompt": "mine"}
    ).json()
    _, other_secret = make_key(other_user)
    not_yours = httpx.get(created["polling_url"], headers=_headers(other_secret))
    assert not_yours.status_code == 404 and not_yours.json()["error"]["type"] == "not_found_error"
    assert httpx.get(created["polling_url"]).status_code == 401


def test_jobs_beyond_the_in_flight_cap_are_429(served, settings):
    base, _, secret = served
    settings.VIDEO_MAX_JOBS_IN_FLIGHT = 1
    body = {"model": "google/veo-3.1", "prompt": "x"}
    assert httpx.post(f"{base}/v1/videos", headers=_headers(secret), json=body).status_code == 202
    refused = httpx.post(f"{base}/v1/videos", headers=_headers(secret), json=body)
    assert refused.status_code == 429 and refused.json()["error"]["type"] == "rate_limit_error"
