"""Image generation: routing by model, both wire formats, real PNGs of the asked size."""

import io
import time

import pytest
from PIL import Image

from openrouter.catalogue import image_route_for
from openrouter.errors import ProviderAuthError, ProviderBadRequest
from openrouter.fake import FakeOpenRouter
from openrouter.types import CatalogueModel


@pytest.mark.parametrize(
    "model_id, route",
    [
        ("openai/dall-e-3", "images"),
        ("openai/gpt-image-1", "images"),
        ("black-forest-labs/flux-1.1-pro", "images"),
        ("black-forest-labs/FLUX.2-pro", "images"),
        ("bytedance-seed/seedream-4.5", "images"),
        ("google/imagen-4", "images"),
        ("google/gemini-2.5-flash-image", "chat"),
        ("openai/gpt-5-image-mini", "chat"),
        ("someone/brand-new-model", "chat"),
    ],
)
def test_name_rules_route_models_the_catalogue_does_not_know(model_id, route):
    assert image_route_for(model_id) == route


def test_the_catalogue_entry_wins_over_name_rules():
    entry = CatalogueModel(id="acme/flux-chat", image_route="chat")
    assert image_route_for("acme/flux-chat", entry) == "chat"
    assert image_route_for("acme/painter", CatalogueModel(id="acme/painter", image_route="images")) == "images"
    # an entry without a route (say, a text model) falls back on the name
    assert image_route_for("openai/dall-e-3", CatalogueModel(id="openai/dall-e-3")) == "images"


def _pixels(image):
    with Image.open(io.BytesIO(image.data)) as opened:
        assert opened.format == "PNG"
        return opened.size


def test_chat_route_sends_modalities_and_image_config(client, fake):
    result = client.generate_image(
        model="google/gemini-2.5-flash-image", prompt="a red fox", aspect_ratio="16:9", image_size="2K", route="chat"
    )

    [request] = fake.received
    assert request.path == "/api/v1/chat/completions"
    assert request.body == {
        "model": "google/gemini-2.5-flash-image",
        "messages": [{"role": "user", "content": "a red fox"}],
        "modalities": ["image", "text"],
        "image_config": {"aspect_ratio": "16:9", "image_size": "2K"},
    }
    assert result.route == "chat" and result.model == "google/gemini-2.5-flash-image"
    [image] = result.images
    assert (image.width, image.height) == (2048, 1152) == _pixels(image)
    assert image.media_type == "image/png"
    assert result.text == "Here is an image of: a red fox"
    assert result.usage.cost == pytest.approx(0.039 + 3 * 0.0000003)


def test_chat_route_without_options_sends_no_image_config_and_gets_a_square(client, fake):
    result = client.generate_image(model="openai/gpt-5-image-mini", prompt="a boat")

    assert "image_config" not in fake.received[0].body
    assert (result.route, result.images[0].width, result.images[0].height) == ("chat", 1024, 1024)


def test_chat_route_makes_one_call_per_image_and_sums_usage(client, fake):
    result = client.generate_image(model="google/gemini-2.5-flash-image", prompt="three cats", n=3)

    assert len(fake.received) == 3 and len(result.images) == 3
    assert result.usage.completion_tokens == 3 * 1290
    assert result.usage.cost == pytest.approx(3 * (0.039 + 2 * 0.0000003))


def test_chat_route_4k_is_real_and_fast(client):
    started = time.monotonic()
    result = client.generate_image(
        model="google/gemini-2.5-flash-image", prompt="a wide valley", aspect_ratio="21:9", image_size="4K"
    )
    assert time.monotonic() - started < 3.0
    assert _pixels(result.images[0]) == (4096, 1755)


def test_chat_route_refuses_size_before_sending(client, fake):
    with pytest.raises(ValueError, match="aspect_ratio"):
        client.generate_image(model="google/gemini-2.5-flash-image", prompt="x", size="1024x1024")
    assert len(fake.received) == 0


def test_images_route_sends_prompt_n_and_size_and_gets_that_exact_size(client, fake):
    result = client.generate_image(model="openai/dall-e-3", prompt="a lighthouse", size="1792x1024")

    [request] = fake.received
    assert request.path == "/api/v1/images"
    assert request.body == {"model": "openai/dall-e-3", "prompt": "a lighthouse", "n": 1, "size": "1792x1024"}
    assert result.route == "images"
    assert _pixels(result.images[0]) == (1792, 1024)
    assert result.usage.cost == pytest.approx(0.04)


def test_images_route_with_aspect_ratio_and_resolution(client, fake):
    result = client.generate_image(
        model="bytedance-seed/seedream-4.5", prompt="a tall tower", aspect_ratio="9:16", image_size="2K"
    )

    assert fake.received[0].body == {
        "model": "bytedance-seed/seedream-4.5",
        "prompt": "a tall tower",
        "n": 1,
        "aspect_ratio": "9:16",
        "resolution": "2K",
    }
    assert _pixels(result.images[0]) == (1152, 2048)


def test_images_route_fetches_hosted_urls(client, fake):
    result = client.generate_image(model="black-forest-labs/flux-1.1-pro", prompt="a dune", aspect_ratio="16:9", n=2)

    post, *downloads = fake.received
    assert post.path == "/api/v1/images" and post.body["n"] == 2
    assert [d.method for d in downloads] == ["GET", "GET"]
    assert all(d.path.startswith("/files/") for d in downloads)
    assert [(i.width, i.height) for i in result.images] == [(1024, 576), (1024, 576)]
    assert result.images[0].data != result.images[1].data


def test_images_route_several_images_in_one_request(client, fake):
    result = client.generate_image(model="openai/gpt-image-1", prompt="tiles", n=3, size="1536x1024")

    assert len(fake.received) == 1 and len(result.images) == 3
    assert {(i.width, i.height) for i in result.images} == {(1536, 1024)}
    assert len({i.data for i in result.images}) == 3
    assert result.usage.cost == pytest.approx(3 * 0.042)


def test_images_route_size_with_aspect_ratio_is_the_providers_400(client, fake):
    with pytest.raises(ProviderBadRequest) as error:
        client.generate_image(model="openai/gpt-image-1", prompt="x", size="1024x1024", aspect_ratio="1:1")
    assert "cannot be combined" in error.value.message
    assert len(fake.received) == 1


def test_images_route_value_outside_the_catalogue_is_the_providers_400(client):
    with pytest.raises(ProviderBadRequest) as error:
        client.generate_image(model="openai/dall-e-3", prompt="x", size="512x512")
    assert "Supported: 1024x1024, 1792x1024, 1024x1792" in error.value.message


def test_images_path_is_configurable(make_client, fake):
    make_client(images_path="images/generations").generate_image(model="openai/dall-e-3", prompt="x")
    assert fake.received[0].path == "/api/v1/images/generations"


def test_without_a_route_name_rules_choose_the_endpoint(client, fake):
    client.generate_image(model="openai/dall-e-3", prompt="x")
    client.generate_image(model="google/gemini-2.5-flash-image", prompt="x")
    assert [r.path for r in fake.received] == ["/api/v1/images", "/api/v1/chat/completions"]


def test_every_catalogued_image_model_is_routed_by_its_catalogue_entry(client, fake):
    entries = [e for e in client.fetch_catalogue() if "image" in e.kinds]
    fake.received.clear()

    for entry in entries:
        result = client.generate_image(model=entry.id, prompt="a test", route=entry.image_route)
        assert result.route == entry.image_route and len(result.images) == 1

    paths = {r.body["model"]: r.path for r in fake.received if r.method == "POST"}
    assert paths == {
        "google/gemini-2.5-flash-image": "/api/v1/chat/completions",
        "openai/gpt-5-image-mini": "/api/v1/chat/completions",
        "openai/dall-e-3": "/api/v1/images",
        "black-forest-labs/flux-1.1-pro": "/api/v1/images",
        "openai/gpt-image-1": "/api/v1/images",
        "bytedance-seed/seedream-4.5": "/api/v1/images",
    }


def test_images_are_deterministic_from_the_prompt(client):
    first = client.generate_image(model="openai/dall-e-3", prompt="same prompt").images[0].data
    again = client.generate_image(model="openai/dall-e-3", prompt="same prompt").images[0].data
    other = client.generate_image(model="openai/dall-e-3", prompt="other prompt").images[0].data
    assert first == again != other


def test_the_key_is_never_sent_to_another_origin(fake, client, make_client):
    """A hosted URL on another host gets no Authorization header (here: another double,
    which therefore answers 401)."""
    with FakeOpenRouter() as elsewhere:
        job = make_client(base_url=elsewhere.base_url, api_key="k").video_submit(model="openai/sora-2", prompt="x")
        foreign_url = f"{elsewhere.base_url}/videos/{job.id}/content?index=0"

        with pytest.raises(ProviderAuthError):
            client.video_download(url=foreign_url, dest=io.BytesIO())

        assert "authorization" not in elsewhere.received[-1].headers
        assert "x-title" not in elsewhere.received[-1].headers
