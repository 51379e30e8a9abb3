"""Video jobs: submit -> poll -> download, and every per-job fault."""

import io
import time

import pytest

from openrouter.errors import ProviderBadRequest, ProviderMalformedResponse, ProviderNotFound, ProviderUnavailable
from openrouter.fake import FakeOpenRouter
from openrouter.fake.media import sample_video_bytes
from openrouter.types import VIDEO_TERMINAL

from .conftest import content_url, fault_headers

# The double's jobs take video_duration (10) x time_scale (0.1) = 1 s on its manual clock.
JOB_SECONDS = 1.0


def test_text_to_video_submit_sends_the_exact_body_and_gets_a_polling_url(client, fake):
    job = client.video_submit(
        model="google/veo-3.1", prompt="waves at dusk", aspect_ratio="16:9", resolution="720p", duration=4
    )

    [request] = fake.received
    assert request.path == "/api/v1/videos"
    assert request.body == {
        "model": "google/veo-3.1",
        "prompt": "waves at dusk",
        "aspect_ratio": "16:9",
        "resolution": "720p",
        "duration": 4,
    }
    assert job.status == "pending" and job.id
    assert job.polling_url == f"{fake.base_url}/videos/{job.id}"


def test_image_to_video_sends_the_image_as_first_frame(client, fake):
    client.video_submit(model="google/veo-3.1", prompt="bring it to life", first_frame_url="https://img.example/a.png")

    assert fake.received[0].body == {
        "model": "google/veo-3.1",
        "prompt": "bring it to life",
        "frame_images": [
            {"type": "image_url", "frame_type": "first_frame", "image_url": {"url": "https://img.example/a.png"}}
        ],
    }


def test_a_job_goes_pending_in_progress_completed_and_downloads(client, fake, fake_clock):
    job = client.video_submit(model="openai/sora-2", prompt="a train", duration=8)

    pending = client.video_poll(polling_url=job.polling_url)
    fake_clock.advance(JOB_SECONDS / 2)
    running = client.video_poll(polling_url=job.polling_url)
    fake_clock.advance(JOB_SECONDS)
    done = client.video_poll(polling_url=job.polling_url)

    assert (pending.status, pending.progress, pending.content_urls) == ("pending", 0, [])
    assert (running.status, running.progress) == ("in_progress", 50)
    assert running.status not in VIDEO_TERMINAL and done.status in VIDEO_TERMINAL
    assert done.status == "completed" and done.error is None and done.id == job.id
    assert done.content_urls == [f"{fake.base_url}/videos/{job.id}/content?index=0"]
    assert done.cost == pytest.approx(8 * 0.10)
    assert done.raw["generation_id"] == f"gen-{job.id}"

    dest = io.BytesIO()
    size = client.video_download(url=done.content_urls[0], dest=dest)

    assert size == len(sample_video_bytes()) == len(dest.getvalue())
    assert dest.getvalue() == sample_video_bytes()
    assert fake.received[-1].headers["authorization"] == "Bearer test-key"


def test_jobs_progress_in_real_time_too(make_client):
    with FakeOpenRouter(video_duration=0.15) as fake:
        client = make_client(base_url=fake.base_url, api_key="k", real_time=True)
        job = client.video_submit(model="google/veo-3.1", prompt="rain")
        statuses = []
        while not statuses or statuses[-1] != "completed":
            statuses.append(client.video_poll(polling_url=job.polling_url).status)
            time.sleep(0.02)
    assert statuses[0] == "pending" and "in_progress" in statuses and len(statuses) < 40


@pytest.mark.parametrize(
    "fault, status, error",
    [
        ("fail", "failed", "The fake provider failed to generate this video."),
        ("expire", "expired", "The video job expired before it was collected."),
        ("no_urls", "failed", "The provider reported the video as completed but sent no video URL."),
    ],
)
def test_job_faults_end_in_their_terminal_state(client, fake_clock, fault, status, error):
    job = client.video_submit(model=f"google/veo-3.1:fault={fault}", prompt="x")
    fake_clock.advance(JOB_SECONDS * 2)

    polled = client.video_poll(polling_url=job.polling_url)

    assert (polled.status, polled.error, polled.content_urls) == (status, error, [])
    assert polled.status in VIDEO_TERMINAL


def test_no_urls_keeps_the_providers_raw_status(client, make_client, fake_clock):
    # the fault chosen by header at submit time
    job = make_client(headers=fault_headers("no_urls")).video_submit(model="google/veo-3.1", prompt="x")
    fake_clock.advance(JOB_SECONDS * 2)

    polled = client.video_poll(polling_url=job.polling_url)

    assert polled.raw["status"] == "completed" and polled.status == "failed"


def test_a_job_that_never_finishes_stays_in_progress(client, fake_clock):
    job = client.video_submit(model="fake/fault-never_finish", prompt="x")
    fake_clock.advance(JOB_SECONDS * 100)

    polled = client.video_poll(polling_url=job.polling_url)

    assert (polled.status, polled.progress) == ("in_progress", 99)


def test_polling_an_unknown_job_is_not_found_and_not_retried(client, fake):
    with pytest.raises(ProviderNotFound):
        client.video_poll(polling_url=f"{fake.base_url}/videos/vid-nope")
    assert len(fake.received) == 1


def test_content_before_completion_is_not_found(client):
    job = client.video_submit(model="google/veo-3.1", prompt="x")
    with pytest.raises(ProviderNotFound):
        client.video_download(url=content_url(client, job.id), dest=io.BytesIO())


def test_polling_is_retried_through_transient_failures(make_client, fake, client_clock, fake_clock):
    job = make_client().video_submit(model="google/veo-3.1", prompt="x")
    fake_clock.advance(JOB_SECONDS)

    polled = make_client(headers=fault_headers("unavailable*2")).video_poll(polling_url=job.polling_url)

    assert polled.status == "completed"
    assert len(fake.received) == 4 and len(client_clock.sleeps) == 2


# Above one 64 KiB read, below the 79 KB sample: only the Content-Length check stops
# the download before any byte is written.
CAP = 70_000


def test_download_over_the_size_cap_is_refused_from_content_length(make_client, fake_clock):
    client = make_client(video_max_bytes=CAP)
    job = client.video_submit(model="google/veo-3.1", prompt="x")
    fake_clock.advance(JOB_SECONDS)
    dest = io.BytesIO()

    with pytest.raises(ProviderMalformedResponse, match="70000-byte limit"):
        client.video_download(url=content_url(client, job.id), dest=dest)

    assert dest.getvalue() == b""


def test_download_over_the_size_cap_is_refused_while_streaming(make_client, fake_clock):
    job = make_client().video_submit(model="google/veo-3.1", prompt="x")
    fake_clock.advance(JOB_SECONDS)
    # chunked: no Content-Length to check up front
    client = make_client(video_max_bytes=CAP, headers=fault_headers("chunked"))
    dest = io.BytesIO()

    with pytest.raises(ProviderMalformedResponse, match="70000-byte limit"):
        client.video_download(url=content_url(client, job.id), dest=dest)

    assert 0 < len(dest.getvalue()) <= CAP


def test_download_without_content_length_still_works(make_client, fake_clock):
    job = make_client().video_submit(model="google/veo-3.1", prompt="x")
    fake_clock.advance(JOB_SECONDS)
    dest = io.BytesIO()

    size = make_client(headers=fault_headers("chunked")).video_download(
        url=content_url(make_client(), job.id), dest=dest
    )

    assert size == len(sample_video_bytes()) and dest.getvalue() == sample_video_bytes()


def test_download_cut_short_raises_unavailable(make_client, fake_clock, fake):
    job = make_client().video_submit(model="google/veo-3.1", prompt="x")
    fake_clock.advance(JOB_SECONDS)
    client = make_client(headers=fault_headers("drop_stream"), max_retries=0)

    with pytest.raises(ProviderUnavailable, match="downloading the video"):
        client.video_download(url=content_url(client, job.id), dest=io.BytesIO())


def test_submit_outside_the_catalogue_is_the_providers_400(client):
    with pytest.raises(ProviderBadRequest) as duration:
        client.video_submit(model="google/veo-3.1", prompt="x", duration=5)
    assert "Supported: 4, 6, 8" in duration.value.message
    with pytest.raises(ProviderBadRequest, match="first_frame"):
        client.video_submit(model="openai/sora-2", prompt="x", first_frame_url="data:image/png;base64,AAAA")
