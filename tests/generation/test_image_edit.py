"""Image editing: POST /api/generate/image with source_image_id, one of the owner's images."""

import base64
import io

import pytest
from PIL import Image

from generation.models import Generation
from tests.factories import GeneratedImageFactory, png_bytes

URL = "/api/generate/image"
EDITOR = "google/gemini-2.5-flash-image"


@pytest.fixture
def source(user):
    return GeneratedImageFactory(generation__owner=user)


def chat_bodies(fake):
    return [r.body for r in fake.received if r.path.endswith("/chat/completions")]


def test_an_edit_sends_the_image_and_keeps_its_lineage(user_api, catalogue, fake_openrouter, source):
    response = user_api.post(
        URL, {"prompt": "Make it night", "model": EDITOR, "source_image_id": source.pk}, format="json"
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["source_image_id"] == source.pk and body["status"] == "completed"

    content = chat_bodies(fake_openrouter)[0]["messages"][0]["content"]
    assert content[0] == {"type": "text", "text": "Make it night"}
    assert content[1]["type"] == "image_url"
    assert content[1]["image_url"]["url"] == "data:image/png;base64," + base64.b64encode(png_bytes()).decode()

    edit = Generation.objects.get(pk=body["id"])
    assert edit.source_image == source and edit.params["source_image_id"] == source.pk
    assert list(source.edits.all()) == [edit]
    # The double's edit is the source with its colours inverted, at the source's size.
    result = Image.open(io.BytesIO(edit.images.get().read_bytes())).convert("RGB")
    assert result.size == (16, 9) and result.getpixel((0, 0)) == (245, 135, 55)


def test_the_image_page_shows_lineage_both_ways(client, user_api, user, catalogue, source):
    edit_id = user_api.post(
        URL, {"prompt": "Make it night", "model": EDITOR, "source_image_id": source.pk}, format="json"
    ).json()["id"]
    client.force_login(user)
    edited = client.get(f"/history/{edit_id}").content.decode()
    assert 'data-testid="edited-from"' in edited and f'href="/history/{source.generation_id}"' in edited
    original = client.get(f"/history/{source.generation_id}").content.decode()
    assert 'data-testid="edits"' in original and f'href="/history/{edit_id}"' in original


def test_someone_elses_image_is_not_found(client_for, other_user, catalogue, fake_openrouter, source):
    response = client_for(other_user).post(
        URL, {"prompt": "mine now", "model": EDITOR, "source_image_id": source.pk}, format="json"
    )
    assert response.status_code == 404 and "source_image_id" in response.json()
    assert chat_bodies(fake_openrouter) == [] and not Generation.objects.filter(owner=other_user).exists()


@pytest.mark.parametrize("model", ["openai/dall-e-3", "black-forest-labs/flux-1.1-pro"])
def test_a_model_that_cannot_edit_is_refused(user_api, catalogue, fake_openrouter, source, model):
    response = user_api.post(URL, {"prompt": "edit", "model": model, "source_image_id": source.pk}, format="json")
    assert response.status_code == 400 and "cannot edit images" in response.json()["model"][0]
    assert chat_bodies(fake_openrouter) == []


def test_generating_without_a_source_is_unchanged(user_api, catalogue, fake_openrouter):
    response = user_api.post(URL, {"prompt": "A harbour", "model": EDITOR}, format="json")
    assert response.status_code == 201 and response.json()["source_image_id"] is None
    assert chat_bodies(fake_openrouter)[0]["messages"] == [{"role": "user", "content": "A harbour"}]


# ------------------------------------------------------------------ source_image_url


def data_url(data: bytes, media_type: str = "image/png") -> str:
    return f"data:{media_type};base64," + base64.b64encode(data).decode()


def test_a_data_url_is_edited_end_to_end(user_api, user, catalogue, fake_openrouter):
    sent = data_url(png_bytes())
    response = user_api.post(URL, {"prompt": "Make it night", "model": EDITOR, "source_image_url": sent}, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "completed"

    content = chat_bodies(fake_openrouter)[0]["messages"][0]["content"]
    assert content == [{"type": "text", "text": "Make it night"}, {"type": "image_url", "image_url": {"url": sent}}]
    edit = Generation.objects.get(pk=body["id"])
    assert edit.params["source_image_data"].startswith("image/png, ")
    result = Image.open(io.BytesIO(edit.images.get().read_bytes())).convert("RGB")
    assert result.size == (16, 9) and result.getpixel((0, 0)) == (245, 135, 55)

    # The image sent is kept as the user's own upload, and the edit links to it.
    upload = edit.source_image
    assert body["source_image_id"] == upload.pk and edit.params["source_image_id"] == upload.pk
    assert upload.read_bytes() == png_bytes() and (upload.width, upload.height) == (16, 9)
    assert upload.generation.owner == user and upload.generation.is_upload
    assert upload.generation.status == "completed" and upload.generation.cost == 0


def test_a_sent_images_lineage_shows_both_ways(client, user_api, user, catalogue, fake_openrouter):
    edit_id = user_api.post(
        URL, {"prompt": "Make it night", "model": EDITOR, "source_image_url": data_url(png_bytes())}, format="json"
    ).json()["id"]
    upload = Generation.objects.get(pk=edit_id).source_image
    client.force_login(user)
    edited = client.get(f"/history/{edit_id}").content.decode()
    assert 'data-testid="edited-from"' in edited and f'href="/history/{upload.generation_id}"' in edited
    assert f'src="{upload.url}"' in edited
    original = client.get(f"/history/{upload.generation_id}").content.decode()
    assert "<h1>Uploaded image</h1>" in original
    assert 'data-testid="edits"' in original and f'href="/history/{edit_id}"' in original
    assert 'data-testid="edit-form"' in original  # it can be edited again


def test_an_uploaded_image_is_not_spend(user_api, user, catalogue, fake_openrouter):
    from usage.selectors import user_usage

    user_api.post(
        URL, {"prompt": "Make it night", "model": EDITOR, "source_image_url": data_url(png_bytes())}, format="json"
    )
    assert Generation.objects.filter(owner=user).count() == 2
    assert [row["model"] for row in user_usage(user=user)["by_model"]] == [EDITOR]


def test_a_refused_edit_keeps_no_upload(user_api, user, catalogue, fake_openrouter, settings):
    settings.GENERATION_MAX_IMAGES = 1
    response = user_api.post(
        URL, {"prompt": "edit", "model": EDITOR, "n": 2, "source_image_url": data_url(png_bytes())}, format="json"
    )
    assert response.status_code == 400 and "n" in response.json()
    assert not Generation.objects.exists()


def test_an_https_url_reaches_the_provider_as_it_is(client, user, user_api, catalogue, fake_openrouter):
    url = "https://images.example.com/cat.png?v=2"
    response = user_api.post(URL, {"prompt": "Add a hat", "model": EDITOR, "source_image_url": url}, format="json")
    content = chat_bodies(fake_openrouter)[0]["messages"][0]["content"]
    assert content[1] == {"type": "image_url", "image_url": {"url": url}}
    # The offline double fetches nothing, so it refuses the URL: the generation fails.
    assert response.status_code >= 400
    edit = Generation.objects.get()
    assert edit.params["source_image_url"] == url and edit.source_image is None
    # Its page names the image it was made from.
    client.force_login(user)
    page = client.get(f"/history/{edit.pk}").content.decode()
    assert 'data-testid="edited-from"' in page and 'href="https://images.example.com/cat.png?v=2"' in page


def test_both_sources_are_refused(user_api, catalogue, fake_openrouter, source):
    response = user_api.post(
        URL,
        {"prompt": "edit", "model": EDITOR, "source_image_id": source.pk, "source_image_url": data_url(png_bytes())},
        format="json",
    )
    assert response.status_code == 400 and "source_image_url" in response.json()
    assert chat_bodies(fake_openrouter) == [] and Generation.objects.count() == 1


def test_an_oversized_data_url_is_refused(user_api, catalogue, fake_openrouter, settings):
    settings.GENERATION_SOURCE_IMAGE_MAX_BYTES = 1024
    response = user_api.post(
        URL, {"prompt": "edit", "model": EDITOR, "source_image_url": data_url(b"\x89PNG" + bytes(4096))}, format="json"
    )
    assert response.status_code == 400 and "too large" in response.json()["source_image_url"][0]
    assert chat_bodies(fake_openrouter) == [] and not Generation.objects.exists()


@pytest.mark.parametrize(
    "value",
    [
        "http://images.example.com/cat.png",
        "ftp://x/y.png",
        "not a url",
        "data:text/plain;base64,aGVsbG8=",
        "data:image/png;base64,aGVsbG8=",
    ],
)
def test_other_urls_are_refused_on_the_field(user_api, catalogue, fake_openrouter, value):
    response = user_api.post(URL, {"prompt": "edit", "model": EDITOR, "source_image_url": value}, format="json")
    assert response.status_code == 400 and "source_image_url" in response.json()
    assert chat_bodies(fake_openrouter) == []


def test_a_model_that_cannot_edit_refuses_a_sent_image(user_api, catalogue, fake_openrouter):
    response = user_api.post(
        URL,
        {"prompt": "edit", "model": "openai/dall-e-3", "source_image_url": "https://images.example.com/cat.png"},
        format="json",
    )
    assert response.status_code == 400 and "cannot edit images" in response.json()["model"][0]
    assert list(fake_openrouter.received) == []


def test_the_schema_documents_source_image_url(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    ref = schema["paths"]["/api/generate/image"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    field = schema["components"]["schemas"][ref["$ref"].rsplit("/", 1)[-1]]["properties"]["source_image_url"]
    assert "https://" in field["description"] and "data:image" in field["description"]
