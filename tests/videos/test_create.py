"""Creating jobs: validation against the catalogue, image sources, the in-flight cap,
and the submit task sent once the row is committed."""

import base64
import io

import pytest
from PIL import Image

from catalogue.errors import UnknownModel
from core.errors import DomainError
from videos import errors, services
from videos.models import VideoJob
from videos.slots import MAX_SLOT

pytestmark = pytest.mark.django_db


def png_data_url(size=(8, 8), media_type="image/png") -> str:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, format="PNG")
    return f"data:{media_type};base64," + base64.b64encode(buffer.getvalue()).decode()


def create(owner, **kwargs):
    values = {"model": "google/veo-3.1", "prompt": "a red fox running through snow"}
    values.update(kwargs)
    return services.video_job_create(owner=owner, **values)


def test_creates_a_queued_text_to_video_job_due_at_once(catalogue, user, settings):
    job = create(user, aspect_ratio="16:9", resolution="720p", duration=4)
    job.refresh_from_db()
    assert job.status == VideoJob.Status.QUEUED
    assert job.generation_type == VideoJob.GenerationType.TEXT_TO_VIDEO
    assert (job.aspect_ratio, job.resolution, job.duration) == ("16:9", "720p", 4)
    assert job.provider_job_id is None and job.consecutive_failures == 0
    assert job.next_action_at <= job.created_at
    assert (job.deadline_at - job.created_at).total_seconds() == settings.VIDEO_JOB_DEADLINE
    assert 1 <= job.in_flight_slot <= settings.VIDEO_MAX_JOBS_IN_FLIGHT


def test_submit_task_is_sent_only_once_the_row_is_committed(
    catalogue, user, sent_tasks, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        job = create(user)
    assert sent_tasks == [], "nothing is sent before the commit"
    assert len(callbacks) == 1
    callbacks[0]()
    assert sent_tasks == [("submit_video_job", (job.pk,), None)]


@pytest.mark.django_db(transaction=True)
def test_pickup_is_immediate_the_provider_gets_the_job_on_commit(catalogue, fake_openrouter, user, eager_tasks):
    job = create(user)
    job.refresh_from_db()
    assert job.status == VideoJob.Status.PROCESSING
    submits = fake_openrouter.received.matching("POST", "/api/v1/videos")
    assert len(submits) == 1 and submits[0].body["prompt"] == job.prompt


@pytest.mark.parametrize(
    ("field", "value", "accepted"),
    [
        ("aspect_ratio", "4:3", "16:9, 9:16"),
        ("resolution", "4K", "720p, 1080p"),
        ("duration", 5, "4, 6, 8"),
    ],
)
def test_values_the_model_does_not_accept_are_400_naming_field_and_accepted_values(
    catalogue, user, field, value, accepted
):
    with pytest.raises(DomainError) as caught:
        create(user, **{field: value})
    assert caught.value.field == field and caught.value.kind == "invalid"
    assert accepted in caught.value.message
    assert not VideoJob.objects.exists(), "no half-written row"


def test_unknown_and_non_video_models_are_400_on_model(catalogue, user):
    with pytest.raises(UnknownModel) as caught:
        create(user, model="nobody/nothing")
    assert caught.value.field == "model"
    with pytest.raises(UnknownModel):
        create(user, model="openai/gpt-4o-mini")
    assert not VideoJob.objects.exists()


def test_an_empty_prompt_is_400_on_prompt(catalogue, user):
    with pytest.raises(DomainError) as caught:
        create(user, prompt="   ")
    assert caught.value.field == "prompt"


def test_in_flight_cap_is_429_with_a_message_and_frees_up_when_a_job_ends(catalogue, user, other_user, settings):
    settings.VIDEO_MAX_JOBS_IN_FLIGHT = 2
    first = create(user)
    create(user)
    with pytest.raises(errors.TooManyJobsInFlight) as caught:
        create(user)
    assert caught.value.kind == "rate_limited"
    assert "2 video jobs in progress" in caught.value.message
    assert VideoJob.objects.filter(owner=user).count() == 2
    create(other_user)  # the cap is per user
    services.video_job_cancel(job_id=first.pk, by=user)
    third = create(user)
    assert third.in_flight_slot == first.in_flight_slot


def test_the_database_refuses_two_active_jobs_in_one_slot(catalogue, user):
    from django.db import IntegrityError, transaction

    job = create(user)
    with pytest.raises(IntegrityError), transaction.atomic():
        VideoJob.objects.create(
            owner=user, model="m", prompt="p", deadline_at=job.deadline_at, in_flight_slot=job.in_flight_slot
        )


# ------------------------------------------------------------------ image to video

I2V = VideoJob.GenerationType.IMAGE_TO_VIDEO


def test_image_to_video_with_an_https_url(catalogue, user):
    job = create(user, generation_type=I2V, image_url="https://example.com/frame.png")
    assert job.generation_type == I2V and job.source_image_url == "https://example.com/frame.png"


@pytest.mark.parametrize("url", ["http://example.com/frame.png", "ftp://example.com/x.png", "not a url", "https://"])
def test_image_url_must_be_https(catalogue, user, url):
    with pytest.raises(DomainError) as caught:
        create(user, generation_type=I2V, image_url=url)
    assert caught.value.field == "image_url"


def test_image_to_video_with_a_data_url_stores_the_image(catalogue, user, stored_files):
    job = create(user, generation_type=I2V, image_url=png_data_url())
    assert job.source_image_file.name.endswith(".png") and job.source_image_url == ""
    assert stored_files() == [job.source_image_file.name]


def test_data_url_over_the_cap_is_refused(catalogue, user, settings, stored_files):
    settings.VIDEO_SOURCE_DATA_URL_MAX_BYTES = 100
    with pytest.raises(DomainError) as caught:
        create(user, generation_type=I2V, image_url=png_data_url(size=(64, 64)))
    assert caught.value.field == "image_url" and "too large" in caught.value.message
    assert stored_files() == []


@pytest.mark.parametrize(
    "url",
    [
        "data:image/png;base64,not-base64!!",
        "data:text/plain;base64," + base64.b64encode(b"hello").decode(),
        "data:image/png;base64," + base64.b64encode(b"not really a png").decode(),
    ],
)
def test_data_url_must_hold_a_real_image(catalogue, user, url):
    with pytest.raises(DomainError) as caught:
        create(user, generation_type=I2V, image_url=url)
    assert caught.value.field == "image_url"


def test_image_id_must_be_one_of_the_callers_images(catalogue, user, other_user, generated_image):
    mine = generated_image(user)
    theirs = generated_image(other_user)
    job = create(user, generation_type=I2V, image_id=mine.pk)
    assert job.source_image_id == mine.pk
    for image_id in (theirs.pk, 999999):
        with pytest.raises(DomainError) as caught:
            create(user, generation_type=I2V, image_id=image_id)
        assert caught.value.field == "image_id" and caught.value.kind == "invalid"


def test_image_to_video_needs_exactly_one_source(catalogue, user, generated_image):
    image = generated_image(user)
    for kwargs in ({}, {"image_url": "https://example.com/a.png", "image_id": image.pk}):
        with pytest.raises(DomainError) as caught:
            create(user, generation_type=I2V, **kwargs)
        assert caught.value.field == "image_url"


def test_a_model_that_cannot_start_from_an_image_is_400_on_model(catalogue, user):
    with pytest.raises(DomainError) as caught:
        create(user, model="openai/sora-2", generation_type=I2V, image_url="https://example.com/a.png")
    assert caught.value.field == "model" and "cannot start a video from an image" in caught.value.message


def test_a_huge_cap_works_like_no_cap(catalogue, user, settings):
    settings.VIDEO_MAX_JOBS_IN_FLIGHT = 10**6
    slots = {create(user).in_flight_slot for _ in range(5)}
    assert len(slots) == 5 and all(1 <= slot <= MAX_SLOT for slot in slots)
