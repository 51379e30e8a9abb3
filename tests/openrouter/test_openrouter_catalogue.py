"""The three catalogues, fetched from the double and parsed, and their merge."""

import pytest

from openrouter.catalogue import (
    merge_catalogue,
    parse_image_models_payload,
    parse_models_payload,
    parse_video_models_payload,
)
from openrouter.errors import ProviderMalformedResponse
from openrouter.fake import catalogue as fake_catalogue
from openrouter.fake.catalogue import GEMINI_ASPECT_RATIOS
from openrouter.types import CatalogueModel

TEXT_IDS = {"openai/gpt-4o-mini", "anthropic/claude-3.5-haiku", "fake/echo", "fake/long-stream"}
CHAT_IMAGE_IDS = {"google/gemini-2.5-flash-image", "openai/gpt-5-image-mini"}
IMAGE_ONLY_IDS = {
    "openai/dall-e-3",
    "black-forest-labs/flux-1.1-pro",
    "openai/gpt-image-1",
    "bytedance-seed/seedream-4.5",
}
VIDEO_IDS = {"google/veo-3.1", "openai/sora-2"}
EMBEDDING_IDS = {"openai/text-embedding-3-small", "mistralai/mistral-embed"}


def test_models_lists_text_output_models_by_default(client, fake):
    models = client.list_models()

    assert fake.received[0].path == "/api/v1/models"
    assert {m.id for m in models} == TEXT_IDS | CHAT_IMAGE_IDS
    mini = next(m for m in models if m.id == "openai/gpt-4o-mini")
    assert mini.kinds == {"text"} and mini.image_route is None and mini.context_length == 128000
    assert mini.pricing["prompt"] == "0.00000015" and mini.input_modalities == ["text", "image"]


@pytest.mark.parametrize(
    "modality, expected",
    [
        ("image", CHAT_IMAGE_IDS | IMAGE_ONLY_IDS),
        ("video", VIDEO_IDS),
        ("embeddings", EMBEDDING_IDS),
        ("all", TEXT_IDS | CHAT_IMAGE_IDS | IMAGE_ONLY_IDS | VIDEO_IDS | EMBEDDING_IDS),
    ],
)
def test_models_output_modality_filter(client, fake, modality, expected):
    models = client.list_models(output_modality=modality)

    assert fake.received[0].path == f"/api/v1/models?output_modalities={modality}"
    assert {m.id for m in models} == expected


def test_embedding_models_are_their_own_kind_with_prices(client):
    models = {m.id: m for m in client.list_models(output_modality="embeddings")}

    small = models["openai/text-embedding-3-small"]
    assert small.kinds == {"embedding"} and small.output_modalities == ["embeddings"]
    assert small.image_route is None and float(small.pricing["prompt"]) > 0


def test_image_models_carry_their_parameters_and_route(client, fake):
    models = {m.id: m for m in client.list_image_models()}

    assert fake.received[0].path == "/api/v1/images/models"
    assert set(models) == CHAT_IMAGE_IDS | IMAGE_ONLY_IDS
    gemini = models["google/gemini-2.5-flash-image"]
    assert gemini.aspect_ratios == list(GEMINI_ASPECT_RATIOS)
    assert gemini.resolutions == ["1K", "2K", "4K"] and gemini.image_route == "chat"
    dalle = models["openai/dall-e-3"]
    assert dalle.sizes == ["1024x1024", "1792x1024", "1024x1792"] and dalle.max_n == 1
    assert dalle.image_route == "images" and dalle.aspect_ratios == []
    assert models["bytedance-seed/seedream-4.5"].resolutions == ["1K", "2K", "4K"]
    assert models["openai/gpt-image-1"].max_n == 4


def test_video_models_carry_their_parameters(client, fake):
    models = {m.id: m for m in client.list_video_models()}

    assert fake.received[0].path == "/api/v1/videos/models"
    veo = models["google/veo-3.1"]
    assert veo.kinds == {"video"} and veo.image_route is None
    assert veo.resolutions == ["720p", "1080p"] and veo.aspect_ratios == ["16:9", "9:16"]
    assert veo.durations == [4, 6, 8] and veo.frame_images == ["first_frame", "last_frame"]
    assert veo.generate_audio is True and veo.input_modalities == ["text", "image"]
    sora = models["openai/sora-2"]
    assert sora.sizes == ["1280x720", "720x1280"] and sora.frame_images == []


def test_fetch_catalogue_merges_one_entry_per_model(client, fake):
    entries = client.fetch_catalogue()

    # the async client fetches the three concurrently, so only the set is fixed
    assert sorted(r.path for r in fake.received) == [
        "/api/v1/images/models",
        "/api/v1/models?output_modalities=all",
        "/api/v1/videos/models",
    ]
    ids = [e.id for e in entries]
    assert len(ids) == len(set(ids))
    assert set(ids) == TEXT_IDS | CHAT_IMAGE_IDS | IMAGE_ONLY_IDS | VIDEO_IDS | EMBEDDING_IDS
    by_id = {e.id: e for e in entries}
    gemini = by_id["google/gemini-2.5-flash-image"]
    assert gemini.kinds == {"image"} and gemini.image_route == "chat"
    assert gemini.pricing["prompt"] == "0.0000003" and gemini.pricing["image"] == "0.039"  # from /models
    assert gemini.aspect_ratios == list(GEMINI_ASPECT_RATIOS)  # from /images/models
    assert gemini.context_length == 32768 and gemini.max_n == 4
    assert by_id["fake/echo"].kinds == {"text"}
    assert by_id["openai/dall-e-3"].image_route == "images"
    veo = by_id["google/veo-3.1"]
    assert veo.kinds == {"video"} and veo.durations == [4, 6, 8] and veo.name == "Google: Veo 3.1"
    assert veo.pricing["video_per_second"] == "0.40"


def test_merge_unions_modalities_and_keeps_the_first_parameter_lists():
    first = CatalogueModel(id="a/b", name="a/b", kinds={"text"}, output_modalities=["text"], pricing={"prompt": "1"})
    second = CatalogueModel(
        id="a/b",
        name="A B",
        kinds={"image"},
        output_modalities=["image"],
        aspect_ratios=["1:1"],
        max_n=2,
        pricing={"prompt": "9", "image": "2"},
    )

    [merged] = merge_catalogue([first], [second])

    assert merged.name == "A B" and merged.kinds == {"text", "image"}
    assert merged.output_modalities == ["text", "image"] and merged.image_route == "chat"
    assert merged.aspect_ratios == ["1:1"] and merged.max_n == 2
    assert merged.pricing == {"prompt": "1", "image": "2"}
    assert first.kinds == {"text"}  # inputs are not modified


def test_parsers_tolerate_missing_and_null_fields():
    [bare] = parse_models_payload({"data": [{"id": "x/y"}, {"name": "no id"}, "junk"]})
    assert (bare.name, bare.kinds, bare.output_modalities, bare.image_route) == ("x/y", {"text"}, ["text"], None)

    [image] = parse_image_models_payload(
        {
            "data": [
                {
                    "id": "x/img",
                    "supported_parameters": {
                        "aspect_ratio": ["1:1", "3:2"],
                        "size": {"type": "enum", "values": ["512x512"]},
                        "n": {"type": "enum", "values": [1, 2, 3]},
                        "seed": {"type": "boolean"},
                    },
                }
            ]
        }
    )
    assert image.aspect_ratios == ["1:1", "3:2"] and image.sizes == ["512x512"] and image.max_n == 3
    assert image.image_route == "images" and image.kinds == {"image"}

    [video] = parse_video_models_payload(
        {
            "data": [
                {
                    "id": "x/vid",
                    "supported_sizes": None,
                    "supported_durations": [5, "10", "bad"],
                    "generate_audio": None,
                }
            ]
        }
    )
    assert video.sizes == [] and video.durations == [5, 10] and video.generate_audio is None


@pytest.mark.parametrize("payload", [None, [], {"models": []}, {"data": "nope"}])
def test_a_catalogue_without_a_data_list_is_malformed(payload):
    with pytest.raises(ProviderMalformedResponse):
        parse_models_payload(payload)


def test_entries_survive_a_round_trip_through_a_json_column():
    entries = merge_catalogue(
        parse_models_payload(fake_catalogue.models_payload("all")),
        parse_image_models_payload(fake_catalogue.image_models_payload()),
        parse_video_models_payload(fake_catalogue.video_models_payload()),
    )
    assert {"text", "image", "video"} <= set().union(*(entry.kinds for entry in entries))
    for entry in entries:
        data = entry.as_dict()
        assert data["kinds"] == sorted(entry.kinds)
        assert CatalogueModel.from_dict({**data, "unknown_key": 1}) == entry
