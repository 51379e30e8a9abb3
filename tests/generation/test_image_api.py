"""POST /api/generate/image: routing by model type, parameters checked against the
catalogue, stored images served to their owner only, failures leaving nothing behind."""

import io

import pytest
from PIL import Image

from core.http import STATUS_FOR_KIND
from generation.models import GeneratedImage, Generation

pytestmark = pytest.mark.django_db

URL = "/api/generate/image"


def _provider_posts(fake):
    return [r for r in fake.received if r.method == "POST"]


def _fetch(client, url):
    response = client.get(url)
    return response, b"".join(response.streaming_content) if response.status_code == 200 else b""


def test_chat_image_model_goes_through_chat_completions_with_image_config(
    catalogue, fake_openrouter, user_api, user, stored_files
):
    response = user_api.post(
        URL,
        {
            "prompt": "A lighthouse at dusk",
            "model": "google/gemini-2.5-flash-image",
            "aspect_ratio": "16:9",
            "image_size": "2K",
        },
        format="json",
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["route"] == "chat" and body["model"] == "google/gemini-2.5-flash-image"
    [sent] = _provider_posts(fake_openrouter)
    assert sent.path == "/api/v1/chat/completions"
    assert sent.body == {
        "model": "google/gemini-2.5-flash-image",
        "messages": [{"role": "user", "content": "A lighthouse at dusk"}],
        "modalities": ["image", "text"],
        "image_config": {"aspect_ratio": "16:9", "image_size": "2K"},
    }
    [image] = body["images"]
    assert (image["width"], image["height"], image["media_type"]) == (2048, 1152, "image/png")
    served, data = _fetch(user_api, image["url"])
    assert served.status_code == 200 and served["Content-Type"] == "image/png"
    assert Image.open(io.BytesIO(data)).size == (2048, 1152)
    row = Generation.objects.get(pk=body["id"])
    assert row.status == "completed" and row.route == "chat" and row.owner == user
    assert row.params == {"n": 1, "aspect_ratio": "16:9", "image_size": "2K"}
    assert row.completion_tokens == 1290 and body["usage"]["cost"] > 0
    assert float(row.cost) == pytest.approx(body["usage"]["cost"])
    assert len(stored_files()) == 1 and stored_files()[0].startswith(f"generations/{user.pk}/{row.pk}/")


def test_image_only_model_goes_through_the_images_endpoint_with_size(catalogue, fake_openrouter, user_api):
    response = user_api.post(
        URL, {"prompt": "A wide valley", "model": "openai/dall-e-3", "size": "1792x1024"}, format="json"
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["route"] == "images"
    [sent] = _provider_posts(fake_openrouter)
    assert sent.path == "/api/v1/images"
    assert sent.body == {"model": "openai/dall-e-3", "prompt": "A wide valley", "n": 1, "size": "1792x1024"}
    [image] = body["images"]
    assert (image["width"], image["height"]) == (1792, 1024)
    _, data = _fetch(user_api, image["url"])
    assert Image.open(io.BytesIO(data)).size == (1792, 1024)


def test_image_only_model_with_aspect_ratio_and_resolution(catalogue, fake_openrouter, user_api):
    response = user_api.post(
        URL,
        {"prompt": "Tall tower", "model": "bytedance-seed/seedream-4.5", "aspect_ratio": "9:16", "image_size": "1K"},
        format="json",
    )

    assert response.status_code == 201, response.content
    [sent] = _provider_posts(fake_openrouter)
    assert sent.body == {
        "model": "bytedance-seed/seedream-4.5",
        "prompt": "Tall tower",
        "n": 1,
        "aspect_ratio": "9:16",
        "resolution": "1K",
    }
    [image] = response.json()["images"]
    assert image["height"] > image["width"]


def test_several_images_and_hosted_urls_are_stored(catalogue, fake_openrouter, user_api, stored_files):
    response = user_api.post(
        URL,
        {"prompt": "Two foxes", "model": "black-forest-labs/flux-1.1-pro", "n": 2, "aspect_ratio": "1:1"},
        format="json",
    )

    assert response.status_code == 201, response.content
    images = response.json()["images"]
    assert len(images) == 2 and len(stored_files()) == 2
    assert [i.index for i in GeneratedImage.objects.order_by("index")] == [0, 1]
    # FLUX answers with URLs: the client fetched them from the double.
    assert any(r.path.startswith("/files/") for r in fake_openrouter.received)
    for image in images:
        served, data = _fetch(user_api, image["url"])
        assert served.status_code == 200 and Image.open(io.BytesIO(data)).size == (1024, 1024)


@pytest.mark.parametrize(
    "body, field, mentions",
    [
        ({"model": "google/gemini-2.5-flash-image", "aspect_ratio": "16:9", "size": "1024x1024"}, "size", "not both"),
        ({"model": "google/gemini-2.5-flash-image", "aspect_ratio": "7:3"}, "aspect_ratio", "16:9"),
        ({"model": "google/gemini-2.5-flash-image", "image_size": "8K"}, "image_size", "2K"),
        ({"model": "google/gemini-2.5-flash-image", "size": "1024x1024"}, "size", "aspect_ratio"),
        ({"model": "openai/dall-e-3", "size": "800x600"}, "size", "1792x1024"),
        ({"model": "openai/dall-e-3", "aspect_ratio": "16:9"}, "aspect_ratio", "size"),
        ({"model": "openai/dall-e-3", "n": 2}, "n", "1"),
        ({"model": "openai/gpt-image-1", "n": 0}, "n", "1"),
        ({"model": "openai/gpt-image-1", "n": 9}, "n", "4"),
        ({"model": "openai/gpt-image-1", "n": "lots"}, "n", ""),
        ({"model": "openai/gpt-4o-mini"}, "model", "not an image model"),
        ({"model": "google/veo-3.1"}, "model", "not an image model"),
        ({"model": "nobody/nothing"}, "model", "not a known image model"),
        ({"model": ""}, "model", ""),
        ({"model": "openai/dall-e-3", "prompt": ""}, "prompt", "required"),
        ({"model": "openai/dall-e-3", "prompt": "p" * 41}, "prompt", "40"),
    ],
)
def test_parameters_are_checked_against_the_catalogue_before_any_call(
    catalogue, fake_openrouter, user_api, settings, body, field, mentions
):
    settings.GENERATION_PROMPT_MAX_CHARS = 40
    response = user_api.post(URL, {"prompt": "A cat", **body}, format="json")

    assert response.status_code == 400, response.content
    errors = response.json()
    assert field in errors, errors
    assert mentions in " ".join(errors[field])
    assert _provider_posts(fake_openrouter) == []
    assert not Generation.objects.exists()


@pytest.mark.parametrize(
    "fault, status",
    [
        ("rate_limit", 429),
        ("out_of_credits", 503),
        ("auth", 503),
        ("moderation", 400),
        ("unavailable", 502),
        ("malformed", 502),
        ("drop_stream", 502),
    ],
)
@pytest.mark.parametrize("base", ["google/gemini-2.5-flash-image", "openai/dall-e-3"])
def test_provider_failures_are_recorded_and_leave_no_files(fault_model, user_api, stored_files, fault, status, base):
    model = fault_model(fault, base=base)

    response = user_api.post(URL, {"prompt": "A cat", "model": model}, format="json")

    assert response.status_code == status, response.content
    row = Generation.objects.get()
    assert (
        row.status == "failed" and row.error == response.json()["detail"] and STATUS_FOR_KIND[row.error_kind] == status
    )
    assert row.route == ("chat" if "gemini" in base else "images")
    assert stored_files() == [] and not GeneratedImage.objects.exists()


def test_provider_timeout_on_images_is_a_504(fault_model, user_api, settings):
    model = fault_model("slow", base="openai/dall-e-3")
    settings.OPENROUTER_READ_TIMEOUT = 0.5
    assert user_api.post(URL, {"prompt": "A cat", "model": model}, format="json").status_code == 504


def test_a_storage_failure_fails_the_generation_and_leaves_no_orphan_files(catalogue, user_api, settings, stored_files):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "tests.generation.storage_doubles.FailingSecondSaveStorage"},
    }

    response = user_api.post(
        URL, {"prompt": "Two foxes", "model": "openai/gpt-image-1", "n": 2, "size": "1024x1024"}, format="json"
    )

    assert response.status_code == 503
    # The double fails as a full disk does (ENOSPC): the answer says so.
    assert "storage is full" in response.json()["detail"]
    row = Generation.objects.get()
    assert row.status == "failed" and "storing images failed" in row.error_detail
    assert not GeneratedImage.objects.exists()
    assert stored_files() == []


# ------------------------------------------------------------------ serving and ownership


@pytest.fixture
def owned_image(catalogue, user_api):
    response = user_api.post(URL, {"prompt": "A cat", "model": "openai/dall-e-3"}, format="json")
    assert response.status_code == 201
    return response.json()["images"][0]["url"].replace("http://testserver", "")


@pytest.mark.parametrize("who, status", [("owner", 200), ("other", 404), ("anonymous", 404), ("admin", 200)])
def test_images_are_served_to_their_owner_and_admins_only(
    owned_image, client_for, user, other_user, admin_user, who, status
):
    client = client_for({"owner": user, "other": other_user, "anonymous": None, "admin": admin_user}[who])
    response = client.get(owned_image)
    assert response.status_code == status
    if status == 200:
        assert response["Content-Type"] == "image/png" and response["X-Content-Type-Options"] == "nosniff"
        assert "private" in response["Cache-Control"]


def test_image_url_with_a_wrong_file_name_is_404(owned_image, user_api):
    assert user_api.get(owned_image.rsplit("/", 1)[0] + "/other.png").status_code == 404


def test_download_link_is_an_attachment(owned_image, user_api):
    response = user_api.get(owned_image + "?download=1")
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")


def test_image_missing_from_storage_is_404_not_500(owned_image, user_api, stored_files, media_root):
    names = stored_files()
    assert names, "the image was stored"
    for name in names:
        (media_root / name).unlink()
    assert user_api.get(owned_image).status_code == 404


def test_media_is_not_served_from_a_public_mount(owned_image, client_for, stored_files):
    name = stored_files()[0]
    assert client_for(None).get(f"/media/{name}").status_code == 404


def test_user_image_selector_and_data_url_for_other_apps(owned_image, user, other_user, admin_user):
    import base64

    from core.errors import NotFound
    from generation.selectors import user_image

    image = GeneratedImage.objects.get()
    assert user_image(user=user, image_id=image.pk) == image
    with pytest.raises(NotFound):
        user_image(user=other_user, image_id=image.pk)
    with pytest.raises(NotFound):
        user_image(user=admin_user, image_id=image.pk)  # owner-only unless allow_admin
    assert user_image(user=admin_user, image_id=image.pk, allow_admin=True) == image
    with pytest.raises(NotFound):
        user_image(user=user, image_id="not-a-number")
    url = image.as_data_url()
    assert url.startswith("data:image/png;base64,")
    assert base64.b64decode(url.split(",", 1)[1]) == image.read_bytes()
