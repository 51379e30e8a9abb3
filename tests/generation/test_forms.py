"""The page forms check the settings' bounds themselves and tell the browser about them."""

import pytest

from generation.forms import ImageForm, TextForm


class Model:
    pk = name = "m/one"


def bound(form_class, **data):
    return form_class({"model": "m/one", "prompt": "a prompt", **data}, models=[Model()])


@pytest.mark.parametrize("value, valid", [("3", True), ("4", False), ("0", False)])
def test_max_tokens_is_bounded_by_the_setting(settings, value, valid):
    settings.GENERATION_MAX_TOKENS_LIMIT = 3
    form = bound(TextForm, max_tokens=value)
    assert form.is_valid() is valid
    assert valid or "max_tokens" in form.errors


@pytest.mark.parametrize("value, valid", [("2", True), ("3", False), ("0", False)])
def test_number_of_images_is_bounded_by_the_setting(settings, value, valid):
    settings.GENERATION_MAX_IMAGES = 2
    form = bound(ImageForm, n=value)
    assert form.is_valid() is valid
    assert valid or "n" in form.errors


def test_prompts_are_bounded_by_the_setting(settings):
    settings.GENERATION_PROMPT_MAX_CHARS = 5
    assert bound(TextForm, prompt="12345").is_valid()
    assert set(bound(TextForm, prompt="123456", system="123456").errors) == {"prompt", "system"}
    assert "prompt" in bound(ImageForm, prompt="123456").errors


def test_the_bounds_are_html_attributes(settings):
    settings.GENERATION_MAX_TOKENS_LIMIT, settings.GENERATION_MAX_IMAGES = 3, 2
    settings.GENERATION_PROMPT_MAX_CHARS = 5
    text, image = TextForm(models=[Model()]), ImageForm(models=[Model()])

    assert 'min="1"' in str(text["max_tokens"]) and 'max="3"' in str(text["max_tokens"])
    assert 'min="0"' in str(text["temperature"]) and 'max="2"' in str(text["temperature"])
    assert 'maxlength="5"' in str(text["prompt"]) and 'maxlength="5"' in str(text["system"])
    assert 'min="1"' in str(image["n"]) and 'max="2"' in str(image["n"])
    assert 'maxlength="5"' in str(image["prompt"])
