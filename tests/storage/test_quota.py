"""Finding 5: an image sent to edit is kept only when its edit succeeds, and each
person's stored images, uploads and videos are bounded by STORAGE_QUOTA_MB (409 past it,
naming what is used and what to delete), shown on /usage and /api/usage."""

import base64
import io

import pytest
from PIL import Image

from generation.models import GeneratedImage, Generation
from storage import quota
from tests.factories import GeneratedImageFactory, VideoJobFactory
from tests.support.accounts import bearer_client
from tests.support.provider import fault_copies
from videos.models import VideoJob

pytestmark = pytest.mark.django_db

URL = "/api/generate/image"
EDITOR = "google/gemini-2.5-flash-image"
MB = 1024 * 1024


def png_of(size: int) -> bytes:
    """A PNG of about ``size`` bytes (noise does not compress)."""
    import os

    side = max(8, int((size / 3) ** 0.5))
    image = Image.frombytes("RGB", (side, side), os.urandom(side * side * 3))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def data_url(data: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(data).decode()


# ------------------------------------------------------------------ uploads kept only on success


@pytest.mark.parametrize("fault", ["server_error", "moderation", "bad_request"])
def test_a_failed_edit_keeps_no_upload_row_and_no_file(user_api, user, catalogue, fake_openrouter, stored_files, fault):
    model = fault_copies(EDITOR)(fault)
    sent = png_of(200_000)

    response = user_api.post(
        URL, {"prompt": "Make it night", "model": model, "source_image_url": data_url(sent)}, format="json"
    )

    assert response.status_code >= 400
    [edit] = Generation.objects.filter(owner=user)
    assert edit.status == "failed" and edit.source_image is None
    assert edit.params["source_image_data"].startswith("image/png, ")  # what was sent is still recorded
    assert not Generation.objects.filter(route=Generation.UPLOAD_ROUTE).exists()
    assert not GeneratedImage.objects.exists()
    assert stored_files() == []
    assert quota.used_bytes(user_id=user.pk) == 0


def test_three_failed_edits_add_nothing_and_a_successful_one_keeps_its_upload(
    user_api, user, catalogue, fake_openrouter, stored_files
):
    model = fault_copies(EDITOR)("server_error")
    sent = png_of(300_000)
    for _ in range(3):
        assert (
            user_api.post(
                URL, {"prompt": "x", "model": model, "source_image_url": data_url(sent)}, format="json"
            ).status_code
            >= 500
        )
    assert stored_files() == [] and not GeneratedImage.objects.exists()

    response = user_api.post(URL, {"prompt": "x", "model": EDITOR, "source_image_url": data_url(sent)}, format="json")

    assert response.status_code == 201, response.content
    edit = Generation.objects.get(pk=response.json()["id"])
    upload = edit.source_image
    assert upload.generation.is_upload and upload.read_bytes() == sent
    assert edit.params["source_image_id"] == upload.pk == response.json()["source_image_id"]
    assert len(stored_files()) == 2  # the upload and the edit's image
    assert quota.used_bytes(user_id=user.pk) == sum(image.size_bytes for image in GeneratedImage.objects.all())
    # The history lists the edit before the image it was made from (newest first).
    assert list(Generation.objects.filter(owner=user, status="completed").values_list("pk", flat=True)) == [
        edit.pk,
        upload.generation_id,
    ]


# ------------------------------------------------------------------ the quota


def test_used_bytes_sums_images_uploads_videos_and_job_sources_of_one_person_in_one_query(
    user, other_user, django_assert_num_queries
):
    GeneratedImageFactory(generation__owner=user, size_bytes=1000)
    GeneratedImageFactory(generation__owner=user, size_bytes=500, generation__route=Generation.UPLOAD_ROUTE)
    VideoJobFactory(owner=user, status=VideoJob.Status.COMPLETED, video_bytes=70_000)
    VideoJobFactory(owner=user, status=VideoJob.Status.QUEUED, source_image_bytes=3000)
    GeneratedImageFactory(generation__owner=other_user, size_bytes=9_999_999)
    VideoJobFactory(owner=other_user, status=VideoJob.Status.COMPLETED, video_bytes=8_888_888)

    with django_assert_num_queries(1):
        used = quota.used_bytes(user_id=user.pk)

    assert used == 1000 + 500 + 70_000 + 3000
    assert quota.used_bytes(user_id=other_user.pk) == 9_999_999 + 8_888_888


@pytest.fixture
def full_user(user, settings):
    """A person whose stored files fill their 1 MB quota."""
    settings.STORAGE_QUOTA_MB = 1
    GeneratedImageFactory(generation__owner=user, size_bytes=MB)
    return user


def assert_quota_refusal(response, used: int):
    assert response.status_code == 409, response.content
    body = response.json()
    assert "use 1.0 MB of your 1.0 MB" in body["detail"] and "delete some" in body["detail"]
    assert body["storage"] == {"used_bytes": used, "quota_bytes": MB}


def test_past_the_quota_an_image_generation_is_refused_before_the_provider_is_asked(
    full_user, catalogue, fake_openrouter
):
    response = bearer_client(full_user).post(URL, {"prompt": "A fox", "model": "openai/dall-e-3"}, format="json")
    assert_quota_refusal(response, MB)
    assert [r for r in fake_openrouter.received if "/images" in r.path or "/chat" in r.path] == []
    assert Generation.objects.filter(owner=full_user).count() == 1  # only the image that filled it


def test_an_upload_that_would_pass_the_quota_is_refused(user, settings, catalogue, fake_openrouter, stored_files):
    settings.STORAGE_QUOTA_MB = 1
    GeneratedImageFactory(generation__owner=user, size_bytes=MB - 100_000)
    before = stored_files()
    response = bearer_client(user).post(
        URL, {"prompt": "x", "model": EDITOR, "source_image_url": data_url(png_of(300_000))}, format="json"
    )
    assert response.status_code == 409 and "this upload adds" in response.json()["detail"]
    assert stored_files() == before


def test_past_the_quota_video_jobs_and_their_uploads_are_refused(full_user, catalogue, fake_openrouter):
    api = bearer_client(full_user)
    text = api.post("/api/generate/video", {"prompt": "waves", "model": "google/veo-3.1"}, format="json")
    from_image = api.post(
        "/api/generate/video/from-image",
        {"prompt": "waves", "model": "google/veo-3.1", "image_url": data_url(png_of(10_000))},
        format="json",
    )
    for response in (text, from_image):
        assert_quota_refusal(response, MB)
    assert not VideoJob.objects.exists()


def test_the_openai_images_endpoint_is_refused_past_the_quota_too(full_user, catalogue, fake_openrouter):
    from rest_framework.test import APIClient

    from accounts.api_keys import api_key_create

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {api_key_create(user=full_user, name='sdk').secret}")
    response = client.post("/v1/images/generations", {"prompt": "A fox", "model": "openai/dall-e-3"}, format="json")
    assert response.status_code == 409 and "delete some" in response.json()["error"]["message"]


def test_deleting_makes_room_again(full_user, catalogue, fake_openrouter):
    api = bearer_client(full_user)
    assert api.post(URL, {"prompt": "A fox", "model": "openai/dall-e-3"}, format="json").status_code == 409
    [filled] = Generation.objects.filter(owner=full_user)
    assert api.delete(f"/api/generations/{filled.pk}").status_code == 204
    assert api.post(URL, {"prompt": "A fox", "model": "openai/dall-e-3"}, format="json").status_code == 201


def test_no_quota_when_it_is_zero(user, settings, catalogue, fake_openrouter):
    settings.STORAGE_QUOTA_MB = 0
    GeneratedImageFactory(generation__owner=user, size_bytes=50 * MB)
    assert (
        bearer_client(user).post(URL, {"prompt": "A fox", "model": "openai/dall-e-3"}, format="json").status_code == 201
    )
    assert bearer_client(user).get("/api/usage").json()["storage"]["quota_bytes"] is None


# ------------------------------------------------------------------ shown on the usage page


@pytest.mark.parametrize("who", ["anonymous", "owner", "other"])
def test_usage_api_shows_own_storage_only(user, other_user, settings, who):
    settings.STORAGE_QUOTA_MB = 2
    GeneratedImageFactory(generation__owner=user, size_bytes=123_456)
    caller = {"anonymous": None, "owner": user, "other": other_user}[who]
    from rest_framework.test import APIClient

    response = (bearer_client(caller) if caller else APIClient()).get("/api/usage")
    if who == "anonymous":
        assert response.status_code == 401
        return
    expected = 123_456 if who == "owner" else 0
    assert response.json()["storage"] == {"used_bytes": expected, "quota_bytes": 2 * MB}


def test_usage_page_shows_storage_and_says_what_to_delete_when_full(client, full_user):
    client.force_login(full_user)
    page = client.get("/usage").content.decode()
    assert 'data-testid="usage-storage">1.0\xa0MB of 1.0\xa0MB' in page
    assert 'data-testid="usage-storage-full"' in page and "/history" in page
