"""The web pages: pickers from the catalogue, plain-form generation, results, history."""

import json
import re

import pytest

from accounts.api_keys import api_key_create, api_key_revoke
from generation.markdown import render_markdown
from generation.models import Generation
from tests.factories import GenerationFactory

pytestmark = pytest.mark.django_db

HOSTILE = (
    "# Title\n\n<script>alert('x')</script>\n\n[click](javascript:alert(1)) "
    "<img src=x onerror=alert(1)> **bold**\n\n```\ncode <b>here</b>\n```"
)


@pytest.fixture
def web(client, user):
    client.force_login(user)
    return client


@pytest.mark.parametrize("path", ["/generate/text", "/generate/image", "/history", "/history/1"])
def test_pages_need_a_signed_in_user(client, path):
    response = client.get(path)
    assert response.status_code == 302 and "/login" in response["Location"]


def test_markdown_is_rendered_and_sanitized():
    html = render_markdown(HOSTILE)
    assert "<h1>Title</h1>" in html and "<strong>bold</strong>" in html
    assert "<script" not in html and "<img" not in html and 'href="javascript:' not in html
    assert "<pre><code>code &lt;b&gt;here&lt;/b&gt;" in html


def test_text_page_offers_text_models_only(catalogue, web):
    page = web.get("/generate/text").content.decode()
    assert 'value="openai/gpt-4o-mini"' in page and 'value="fake/echo"' in page
    assert "gemini-2.5-flash-image" not in page and "dall-e-3" not in page
    assert "js/generation-text.js" in page and 'data-api="/api/generate/text"' in page


def test_text_form_without_javascript_generates_and_shows_safe_markdown(catalogue, web, user):
    response = web.post("/generate/text", {"model": "fake/echo", "prompt": HOSTILE})

    generation = Generation.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/history/{generation.pk}"
    page = web.get(response["Location"]).content.decode()
    answer = page.split('data-testid="answer">', 1)[1].split("</div>", 1)[0]
    assert "<h1>Title</h1>" in answer and "<strong>bold</strong>" in answer
    assert "<script" not in answer and "<img" not in answer and 'href="javascript:' not in answer


def test_text_form_shows_provider_failures(fault_model, web):
    response = web.post("/generate/text", {"model": fault_model("out_of_credits"), "prompt": "hi"})
    assert response.status_code == 503
    assert "provider account problem" in response.content.decode()
    assert Generation.objects.get().status == "failed"


def test_image_page_carries_each_models_accepted_values(catalogue, web):
    page = web.get("/generate/image").content.decode()
    data = json.loads(
        re.search(r'<script id="image-models" type="application/json">(.*?)</script>', page, re.S).group(1)
    )
    models = {model["id"]: model for model in data}
    assert "openai/gpt-4o-mini" not in models
    assert models["google/gemini-2.5-flash-image"]["route"] == "chat"
    assert "16:9" in models["google/gemini-2.5-flash-image"]["aspect_ratios"]
    assert models["openai/dall-e-3"]["sizes"] == ["1024x1024", "1792x1024", "1024x1792"]
    assert models["openai/dall-e-3"]["aspect_ratios"] == []


def test_image_form_generates_and_shows_images_at_their_shape(catalogue, web):
    response = web.post(
        "/generate/image",
        {
            "model": "google/gemini-2.5-flash-image",
            "prompt": "Dunes",
            "aspect_ratio": "16:9",
            "image_size": "2K",
            "n": "1",
        },
    )

    assert response.status_code == 302, response.content.decode()
    page = web.get(response["Location"]).content.decode()
    image = Generation.objects.get().images.get()
    assert f'src="{image.url}" width="2048" height="1152"' in page
    assert "aspect-ratio: 2048 / 1152" in page
    assert f'href="{image.url}?download=1"' in page
    assert web.get(image.url).status_code == 200


def test_image_form_refusal_lists_accepted_values(catalogue, web):
    response = web.post("/generate/image", {"model": "openai/dall-e-3", "prompt": "Dunes", "size": "640x480"})
    assert response.status_code == 400
    page = response.content.decode()
    assert "1792x1024" in page and "640x480" in page
    assert not Generation.objects.exists()


def test_history_page_filters_and_shows_thumbnails(catalogue, web, client_for, other_user):
    web.post("/generate/text", {"model": "fake/echo", "prompt": "a text prompt"})
    web.post("/generate/image", {"model": "openai/dall-e-3", "prompt": "an image prompt", "size": "1024x1024"})
    other = GenerationFactory(owner=other_user, prompt="not yours")

    everything = web.get("/history").content.decode()
    assert "a text prompt" in everything and "an image prompt" in everything and "not yours" not in everything
    assert everything.count('data-testid="thumbnail"') == 1
    images = web.get("/history?kind=image").content.decode()
    assert "an image prompt" in images and "a text prompt" not in images
    assert web.get(f"/history/{other.pk}").status_code == 404


def test_history_and_detail_pages_name_the_api_key(web, user):
    key = api_key_create(user=user, name="ci runner").key
    by_key = GenerationFactory(owner=user, prompt="made by a script", api_key=key)
    by_web = GenerationFactory(owner=user, prompt="made on the page")
    via = f"via API key ci runner ({key.prefix}…)"

    history = web.get("/history").content.decode()
    assert history.count(via) == 1 and history.count('data-testid="via-api-key"') == 1
    assert history.index("made by a script") < history.index(via)
    assert via in web.get(f"/history/{by_key.pk}").content.decode()
    assert "via API key" not in web.get(f"/history/{by_web.pk}").content.decode()
    # A revoked key still exists, so its rows stay marked.
    api_key_revoke(key_id=key.pk, by=user)
    assert via in web.get(f"/history/{by_key.pk}").content.decode()


def test_admin_can_open_anyones_generation_page(catalogue, client, admin_user, user):
    generation = GenerationFactory(owner=user, prompt="p", text="t")
    client.force_login(admin_user)
    page = client.get(f"/history/{generation.pk}")
    assert page.status_code == 200 and 'data-testid="delete"' not in page.content.decode()


def test_delete_from_the_page(catalogue, web, other_user):
    web.post("/generate/text", {"model": "fake/echo", "prompt": "bye"})
    generation = Generation.objects.get()
    theirs = GenerationFactory(owner=other_user, prompt="keep")

    assert web.post(f"/history/{theirs.pk}/delete").status_code == 404
    response = web.post(f"/history/{generation.pk}/delete")

    assert response.status_code == 302 and response["Location"] == "/history"
    assert list(Generation.objects.all()) == [theirs]
    # The confirmation shows on the page it leads to, once.
    assert "The generation and its files were deleted." in web.get("/history").content.decode()
    assert "The generation and its files were deleted." not in web.get("/history").content.decode()


def test_web_forms_share_the_generation_throttle(catalogue, web, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "generation": "1/min"},
    }
    assert web.post("/generate/text", {"model": "fake/echo", "prompt": "one"}).status_code == 302
    throttled = web.post("/generate/text", {"model": "fake/echo", "prompt": "two"})
    assert throttled.status_code == 429 and "Too many" in throttled.content.decode()
