"""The official openai SDK against Studio as it runs (uvicorn) and the offline double."""
import base64
import io
from datetime import timedelta

import httpx
import openai
import pytest
from django.utils import timezone
from PIL import Image

from accounts.api_keys import ApiKey
from generation.models import Generation


def test_models_lists_what_the_user_may_use(sdk):
    models = sdk().models.list()
    ids = [model.id for model in models.data]
    assert {"openai/gpt-4o-mini", "openai/dall-e-3", "google/veo-3.1"} <= set(ids)
    first = models.data[0]
    assert first.object == "model" and isinstance(first.created, int) and first.owned_by
    assert sdk().models.retrieve("openai/gpt-4o-mini").owned_by == "openai"
    with pytest.raises(openai.NotFoundError):
        sdk().models.retrieve("nobody/nothing")


def test_chat_completion_whole(sdk, served, user):
    _, key, _ = served
    completion = sdk().chat.completions.create(
        model="fake/echo", max_tokens=50, temperature=0.2, top_p=0.9, seed=7, stop=["\n\n"],
        messages=[{"role": "system", "content": "Be brief."},
                  {"role": "user", "content": "first question"},
                  {"role": "assistant", "content": "first answer"},
                  {"role": "user", "content": [{"type": "text", "text": "second question"}]}])
    assert completion.object == "chat.completion"
    assert completion.choices[0].message.role == "assistant"
    assert "second question" in completion.choices[0].message.content
    assert completion.choices[0].finish_reason == "stop"
    assert completion.usage.total_tokens == completion.usage.prompt_tokens + completion.usage.completion_tokens
    row = Generation.objects.get()
    assert row.owner == user and row.api_key_id == key.pk and row.status == "completed"
    assert row.prompt == "second question" and row.system == "Be brief."
    assert row.params["top_p"] == 0.9 and row.params["seed"] == 7 and row.params["stop"] == ["\n\n"]
    assert row.params["conversation"] == [{"role": "user", "content": "first question"},
                                          {"role": "assistant", "content": "first answer"}]


def test_chat_completion_sends_the_whole_conversation_to_the_provider(sdk, fake_openrouter):
    sdk().chat.completions.create(model="openai/gpt-4o-mini", top_p=0.5, seed=3, messages=[
        {"role": "system", "content": "sys"}, {"role": "user", "content": "a"},
        {"role": "assistant", "content": "b"}, {"role": "user", "content": "c"}])
    [sent] = fake_openrouter.received.matching("POST", "/api/v1/chat/completions")
    assert sent.body["messages"] == [{"role": "system", "content": "sys"}, {"role": "user", "content": "a"},
                                     {"role": "assistant", "content": "b"}, {"role": "user", "content": "c"}]
    assert sent.body["top_p"] == 0.5 and sent.body["seed"] == 3


def test_chat_completion_streamed(sdk, served):
    _, key, _ = served
    stream = sdk().chat.completions.create(
        model="openai/gpt-4o-mini", stream=True, messages=[{"role": "user", "content": "Tell me a story"}])
    chunks = list(stream)
    assert all(chunk.object == "chat.completion.chunk" for chunk in chunks)
    text = "".join(chunk.choices[0].delta.content or "" for chunk in chunks if chunk.choices)
    assert len([chunk for chunk in chunks if chunk.choices and chunk.choices[0].delta.content]) > 1
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert chunks[-1].usage is not None and chunks[-1].usage.total_tokens > 0
    row = Generation.objects.get()
    assert row.status == "completed" and row.text == text and row.api_key_id == key.pk
    assert row.params["stream"] is True


def test_a_failure_mid_stream_is_raised_by_the_sdk(sdk, fault_model):
    model = fault_model("stream_error", base="openai/gpt-4o-mini")
    stream = sdk().chat.completions.create(model=model, stream=True, messages=[{"role": "user", "content": "hi"}])
    with pytest.raises(openai.APIError):
        list(stream)
    assert Generation.objects.get().status == "failed"


def test_images_as_b64_json(sdk, served):
    _, key, _ = served
    result = sdk().images.generate(model="openai/dall-e-3", prompt="a red bicycle", size="1024x1024",
                                   response_format="b64_json")
    [image] = result.data
    picture = Image.open(io.BytesIO(base64.b64decode(image.b64_json)))
    assert picture.size == (1024, 1024)
    row = Generation.objects.get()
    assert row.kind == "image" and row.api_key_id == key.pk


def test_images_as_urls_readable_with_the_same_key(sdk, served):
    base, _, secret = served
    result = sdk().images.generate(model="openai/gpt-image-1", prompt="two cats", n=2, size="1024x1024",
                                   response_format="url")
    assert len(result.data) == 2
    for image in result.data:
        assert image.url.startswith(base + "/")
        answer = httpx.get(image.url, headers={"Authorization": f"Bearer {secret}"})
        assert answer.status_code == 200 and answer.headers["content-type"] == "image/png"
        assert httpx.get(image.url).status_code == 404


def test_images_take_aspect_ratio_and_image_size_through_extra_body(sdk):
    result = sdk().images.generate(model="google/gemini-2.5-flash-image", prompt="dunes",
                                   extra_body={"aspect_ratio": "16:9", "image_size": "1K"})
    picture = Image.open(io.BytesIO(base64.b64decode(result.data[0].b64_json)))
    assert picture.size[0] > picture.size[1]


# ------------------------------------------------------------------ errors as the SDK raises them


def test_a_bad_key_is_an_authentication_error(sdk):
    with pytest.raises(openai.AuthenticationError) as raised:
        sdk(api_key="sk-studio-not-a-real-key").models.list()
    assert raised.value.status_code == 401
    assert raised.value.body["type"] == "authentication_error"
    with pytest.raises(openai.AuthenticationError):
        sdk(api_key="not-even-ours").chat.completions.create(model="fake/echo",
                                                             messages=[{"role": "user", "content": "x"}])


@pytest.mark.parametrize("state", ["revoked", "expired"])
def test_revoked_and_expired_keys_are_authentication_errors(sdk, served, state):
    _, key, _ = served
    change = {"revoked_at": timezone.now()} if state == "revoked" else {
        "expires_at": timezone.now() - timedelta(seconds=1)}
    ApiKey.objects.filter(pk=key.pk).update(**change)
    with pytest.raises(openai.AuthenticationError):
        sdk().chat.completions.create(model="fake/echo", messages=[{"role": "user", "content": "x"}])
    assert not Generation.objects.exists()


def test_an_unknown_model_is_a_bad_request_naming_the_param(sdk):
    with pytest.raises(openai.BadRequestError) as raised:
        sdk().chat.completions.create(model="nobody/nothing", messages=[{"role": "user", "content": "x"}])
    assert raised.value.status_code == 400
    assert raised.value.body["param"] == "model" and raised.value.body["type"] == "invalid_request_error"
    with pytest.raises(openai.BadRequestError) as raised:
        sdk().chat.completions.create(model="fake/echo", messages=[{"role": "assistant", "content": "x"}])
    assert raised.value.body["param"] == "messages"
    with pytest.raises(openai.BadRequestError) as raised:
        sdk().images.generate(model="openai/dall-e-3", prompt="x", size="10x10")
    assert raised.value.body["param"] == "size"


def test_throttled_is_a_rate_limit_error_with_retry_after(sdk, settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {
        **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "generation": "1/min"}}
    client = sdk()
    client.chat.completions.create(model="fake/echo", messages=[{"role": "user", "content": "one"}])
    with pytest.raises(openai.RateLimitError) as raised:
        client.chat.completions.create(model="fake/echo", messages=[{"role": "user", "content": "two"}])
    assert int(raised.value.response.headers["Retry-After"]) > 0
    assert raised.value.body["type"] == "rate_limit_error"


def test_too_much_in_flight_is_a_rate_limit_error(sdk, settings):
    settings.GENERATION_MAX_IN_FLIGHT = 0
    with pytest.raises(openai.RateLimitError):
        sdk().chat.completions.create(model="fake/echo", messages=[{"role": "user", "content": "x"}])


def test_provider_failures_are_server_errors(sdk, fault_model):
    with pytest.raises(openai.InternalServerError) as raised:
        sdk().chat.completions.create(model=fault_model("unavailable"), messages=[{"role": "user", "content": "x"}])
    assert raised.value.status_code == 502 and raised.value.body["type"] == "api_error"


def test_a_spent_budget_is_402(sdk, settings):
    from decimal import Decimal

    settings.DEFAULT_DAILY_BUDGET_USD = Decimal("0.000001")  # less than any priced answer
    with pytest.raises(openai.APIStatusError) as raised:
        sdk().chat.completions.create(model="openai/gpt-4o-mini", max_tokens=500,
                                      messages=[{"role": "user", "content": "x"}])
    assert raised.value.status_code == 402 and raised.value.body["type"] == "insufficient_quota"
    assert "UTC" in raised.value.body["message"]


def test_unknown_v1_paths_are_not_found_errors(sdk):
    with pytest.raises(openai.NotFoundError):
        sdk().embeddings.create(model="fake/echo", input="x")
