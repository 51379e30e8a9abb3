"""The validation helpers and their messages, against the double's catalogue entries."""

import pytest

from openrouter.catalogue import (
    merge_catalogue,
    parse_image_models_payload,
    parse_models_payload,
    parse_video_models_payload,
)
from openrouter.fake import catalogue as fake_catalogue
from openrouter.types import CatalogueModel
from openrouter.validation import ParameterNotAccepted, validate_image_params, validate_video_params


@pytest.fixture(scope="module")
def entries():
    merged = merge_catalogue(
        parse_models_payload(fake_catalogue.models_payload("all")),
        parse_image_models_payload(fake_catalogue.image_models_payload()),
        parse_video_models_payload(fake_catalogue.video_models_payload()),
    )
    return {entry.id: entry for entry in merged}


def refusal(check, entry, **params) -> ParameterNotAccepted:
    with pytest.raises(ParameterNotAccepted) as error:
        check(entry, **params)
    return error.value


def test_an_aspect_ratio_the_model_lacks_names_what_it_accepts(entries):
    error = refusal(validate_image_params, entries["google/gemini-2.5-flash-image"], n=1, aspect_ratio="7:3")

    assert (error.field, error.value) == ("aspect_ratio", "7:3")
    assert error.accepted == ["1:1", "2:3", "3:2", "3:4", "4:3", "4:5", "5:4", "9:16", "16:9", "21:9"]
    assert str(error) == (
        'aspect_ratio "7:3" is not accepted by google/gemini-2.5-flash-image; '
        "accepted: 1:1, 2:3, 3:2, 3:4, 4:3, 4:5, 5:4, 9:16, 16:9, 21:9"
    )


def test_image_size(entries):
    error = refusal(validate_image_params, entries["google/gemini-2.5-flash-image"], image_size="8K")
    assert str(error) == 'image_size "8K" is not accepted by google/gemini-2.5-flash-image; accepted: 1K, 2K, 4K'
    # a model described by aspect ratios only takes no image_size
    error = refusal(validate_image_params, entries["openai/gpt-5-image-mini"], image_size="2K")
    assert str(error) == 'image_size "2K" is not accepted by openai/gpt-5-image-mini; accepted: none'


def test_size_with_aspect_ratio_is_refused_on_size(entries):
    error = refusal(validate_image_params, entries["openai/dall-e-3"], size="1024x1024", aspect_ratio="1:1")
    assert error.field == "size"
    assert str(error) == (
        'size "1024x1024" is not accepted by openai/dall-e-3; accepted: none '
        "(send either size or aspect_ratio, not both)"
    )


def test_sizes(entries):
    dalle = entries["openai/dall-e-3"]
    assert str(refusal(validate_image_params, dalle, size="512x512")) == (
        'size "512x512" is not accepted by openai/dall-e-3; accepted: 1024x1024, 1792x1024, 1024x1792'
    )
    assert str(refusal(validate_image_params, dalle, aspect_ratio="16:9")) == (
        'aspect_ratio "16:9" is not accepted by openai/dall-e-3; accepted: none (this model takes size)'
    )
    assert str(refusal(validate_image_params, entries["black-forest-labs/flux-1.1-pro"], size="1024x1024")) == (
        'size "1024x1024" is not accepted by black-forest-labs/flux-1.1-pro; accepted: none '
        "(this model takes aspect_ratio)"
    )
    assert str(refusal(validate_image_params, entries["google/gemini-2.5-flash-image"], size="1024x1024")) == (
        'size "1024x1024" is not accepted by google/gemini-2.5-flash-image; accepted: none '
        "(use aspect_ratio and image_size with this model)"
    )


def test_n(entries):
    assert str(refusal(validate_image_params, entries["openai/dall-e-3"], n=2)) == (
        'n "2" is not accepted by openai/dall-e-3; accepted: 1'
    )
    assert refusal(validate_image_params, entries["openai/gpt-image-1"], n=0).accepted == [1, 2, 3, 4]
    assert refusal(validate_image_params, entries["openai/gpt-image-1"], n=5).field == "n"


@pytest.mark.parametrize(
    "model, params",
    [
        ("google/gemini-2.5-flash-image", dict(n=4, aspect_ratio="21:9", image_size="4K")),
        ("openai/gpt-5-image-mini", dict(n=1, aspect_ratio="3:2")),
        ("openai/dall-e-3", dict(n=1, size="1792x1024")),
        ("black-forest-labs/flux-1.1-pro", dict(n=2, aspect_ratio="9:21")),
        ("bytedance-seed/seedream-4.5", dict(n=1, aspect_ratio="4:3", image_size="2K")),
        ("openai/gpt-image-1", dict(n=3, size="1024x1536")),
        ("openai/dall-e-3", dict(n=1)),
    ],
)
def test_accepted_image_parameters_pass(entries, model, params):
    validate_image_params(entries[model], **params)


def test_a_model_the_catalogue_says_nothing_about_leaves_it_to_the_provider():
    unknown = CatalogueModel(id="new/model", image_route="images")
    validate_image_params(unknown, n=2, size="640x480")
    validate_image_params(unknown, n=1, aspect_ratio="7:3", image_size="3K")
    assert refusal(validate_image_params, unknown, size="big").hint == "write sizes as WIDTHxHEIGHT"
    assert refusal(validate_image_params, unknown, n=5).accepted == [1, 2, 3, 4]
    assert refusal(validate_image_params, unknown, size="1x1", aspect_ratio="1:1").field == "size"


def test_video_parameters(entries):
    veo, sora = entries["google/veo-3.1"], entries["openai/sora-2"]
    validate_video_params(veo, aspect_ratio="9:16", resolution="1080p", duration=6, has_image=True)
    validate_video_params(sora, aspect_ratio="16:9", resolution="720p", duration=12, size="1280x720")

    assert str(refusal(validate_video_params, veo, duration=5)) == (
        'duration "5" is not accepted by google/veo-3.1; accepted: 4, 6, 8'
    )
    assert str(refusal(validate_video_params, veo, resolution="4K")) == (
        'resolution "4K" is not accepted by google/veo-3.1; accepted: 720p, 1080p'
    )
    assert str(refusal(validate_video_params, veo, aspect_ratio="1:1")) == (
        'aspect_ratio "1:1" is not accepted by google/veo-3.1; accepted: 16:9, 9:16'
    )
    assert str(refusal(validate_video_params, sora, has_image=True)) == (
        'image "first_frame" is not accepted by openai/sora-2; accepted: none '
        "(this model cannot start a video from an image)"
    )
    assert refusal(validate_video_params, sora, size="1920x1080").accepted == ["1280x720", "720x1280"]


def test_the_error_is_a_value_error_for_generic_handlers():
    assert issubclass(ParameterNotAccepted, ValueError)
    assert str(ParameterNotAccepted("n", 9, [1, 2])) == 'n "9" is not accepted; accepted: 1, 2'
