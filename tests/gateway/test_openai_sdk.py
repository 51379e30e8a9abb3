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
from tests.factories import png_bytes
from tests.support.provider import change_catalogue_rows


def test_models_lists_the_chat_models_the_user_may_use(sdk):
    models = sdk().models.list()
    ids = {model.id for model in models.data}
    assert {"openai/gpt-4o-mini", "fake/echo"} <= ids
    assert not ids & {"openai/dall-e-3", "google/veo-3.1", "google/gemini-2.5-flash-image"}
    first = models.data[0]
    assert first.object == "model" and isinstance(first.created, int) and first.owned_by
    # Other kinds by filter, as the README shows.
    images = {model.id for model in sdk().models.list(extra_query={"kind": "image"}).data}
    assert "openai/dall-e-3" in images and "fake/echo" not in images
    # Any kind is found by its id.
    assert sdk().models.retrieve("openai/gpt-4o-mini").owned_by == "openai"
    assert sdk().models.retrieve("google/veo-3.1").id == "google/veo-3.1"
    with pytest.raises(openai.NotFoundError) as raised:
        sdk().models.retrieve("nobody/nothing")
    assert raised.value.body["code"] == "model_not_found" and raised.value.body["param"] == "model"


def test_chat_completion_whole(sdk, served, user):
    _, key, _ = served
    completion = sdk().chat.completions.create(
        model="fake/echo",
        max_tokens=50,
        temperature=0.2,
        top_p=0.9,
        seed=7,
        stop=["\n\n"],
        messages=[
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "first question"},
            {"role": "assistant", "content": "first answer"},
            {"role": "user", "content": [{"type": "text", "text": "second question"}]},
        ],
    )
    assert completion.object == "chat.completion"
    assert completion.choices[0].message.role == "assistant"
    assert "second question" in completion.choices[0].message.content
    assert completion.choices[0].finish_reason == "stop"
    assert completion.usage.total_tokens == completion.usage.prompt_tokens + completion.usage.completion_tokens
    row = Generation.objects.get()
    assert row.owner == user and row.api_key_id == key.pk and row.status == "completed"
    assert row.prompt == "second question" and row.system == "Be brief."
    assert row.params["top_p"] == 0.9 and row.params["seed"] == 7 and row.params["stop"] == ["\n\n"]
    assert row.params["conversation"] == [
        {"role": "user", "content": "first question"},
        {"role": "assistant", "content": "first answer"},
    ]


def test_chat_completion_sends_the_whole_conversation_to_the_provider(sdk, fake_openrouter):
    sdk().chat.completions.create(
        model="openai/gpt-4o-mini",
        top_p=0.5,
        seed=3,
        messages=[
            {"role": "system", "content": "sys"},
            {"role": "user", "content": "a"},
            {"role": "assistant", "content": "b"},
            {"role": "user", "content": "c"},
        ],
    )
    [sent] = fake_openrouter.received.matching("POST", "/api/v1/chat/completions")
    assert sent.body["messages"] == [
        {"role": "system", "content": "sys"},
        {"role": "user", "content": "a"},
        {"role": "assistant", "content": "b"},
        {"role": "user", "content": "c"},
    ]
    assert sent.body["top_p"] == 0.5 and sent.body["seed"] == 3


def test_chat_completion_streamed(sdk, served):
    _, key, _ = served
    stream = sdk().chat.completions.create(
        model="openai/gpt-4o-mini", stream=True, messages=[{"role": "user", "content": "Tell me a story"}]
    )
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
    result = sdk().images.generate(
        model="openai/dall-e-3", prompt="a red bicycle", size="1024x1024", response_format="b64_json"
    )
    [image] = result.data
    picture = Image.open(io.BytesIO(base64.b64decode(image.b64_json)))
    assert picture.size == (1024, 1024)
    row = Generation.objects.get()
    assert row.kind == "image" and row.api_key_id == key.pk


def test_images_take_aspect_ratio_and_image_size_through_extra_body(sdk):
    result = sdk().images.generate(
        model="google/gemini-2.5-flash-image", prompt="dunes", extra_body={"aspect_ratio": "16:9", "image_size": "1K"}
    )
    picture = Image.open(io.BytesIO(base64.b64decode(result.data[0].b64_json)))
    assert picture.size[0] > picture.size[1]


# ------------------------------------------------------------------ errors as the SDK raises them


def test_a_bad_key_is_an_authentication_error(sdk):
    with pytest.raises(openai.AuthenticationError) as raised:
        sdk(api_key="sk-studio-not-a-real-key").models.list()
    assert raised.value.status_code == 401
    assert raised.value.body["type"] == "authentication_error"
    with pytest.raises(openai.AuthenticationError):
        sdk(api_key="not-even-ours").chat.completions.create(
            model="fake/echo", messages=[{"role": "user", "content": "x"}]
        )


@pytest.mark.parametrize("state", ["revoked", "expired"])
def test_revoked_and_expired_keys_are_authentication_errors(sdk, served, state):
    _, key, _ = served
    change = (
        {"revoked_at": timezone.now()} if state == "revoked" else {"expires_at": timezone.now() - timedelta(seconds=1)}
    )
    ApiKey.objects.filter(pk=key.pk).update(**change)
    with pytest.raises(openai.AuthenticationError):
        sdk().chat.completions.create(model="fake/echo", messages=[{"role": "user", "content": "x"}])
    assert not Generation.objects.exists()


def test_an_unknown_model_is_not_found_as_openai_answers_it(sdk):
    with pytest.raises(openai.NotFoundError) as raised:
        sdk().chat.completions.create(model="nobody/nothing", messages=[{"role": "user", "content": "x"}])
    assert raised.value.status_code == 404
    assert raised.value.body == {
        "message": '"nobody/nothing" is not a known text model; see GET /v1/models?kind=text.',
        "type": "invalid_request_error",
        "param": "model",
        "code": "model_not_found",
    }
    # A model of another kind is not a chat model either; an image model is not for text.
    with pytest.raises(openai.NotFoundError) as raised:
        sdk().chat.completions.create(model="openai/dall-e-3", messages=[{"role": "user", "content": "x"}])
    assert raised.value.body["code"] == "model_not_found"
    with pytest.raises(openai.NotFoundError) as raised:
        sdk().images.generate(model="fake/echo", prompt="x")
    assert raised.value.body["code"] == "model_not_found"
    # No model at all is a bad request.
    with pytest.raises(openai.BadRequestError) as raised:
        sdk().chat.completions.create(model="", messages=[{"role": "user", "content": "x"}])
    assert raised.value.body["param"] == "model"


def test_bad_values_are_bad_requests_naming_the_param(sdk):
    with pytest.raises(openai.BadRequestError) as raised:
        sdk().chat.completions.create(model="fake/echo", messages=[{"role": "assistant", "content": "x"}])
    assert raised.value.body["param"] == "messages"
    with pytest.raises(openai.BadRequestError) as raised:
        sdk().images.generate(model="openai/dall-e-3", prompt="x", size="10x10")
    assert raised.value.body["param"] == "size"


def test_throttled_is_a_rate_limit_error_with_retry_after(sdk, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "generation": "1/min"},
    }
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
        sdk().chat.completions.create(
            model="openai/gpt-4o-mini", max_tokens=500, messages=[{"role": "user", "content": "x"}]
        )
    assert raised.value.status_code == 402 and raised.value.body["type"] == "insufficient_quota"
    assert raised.value.body["code"] == "insufficient_quota" and "UTC" in raised.value.body["message"]


def test_unknown_v1_paths_are_not_found_errors(sdk):
    with pytest.raises(openai.NotFoundError) as raised:
        sdk().audio.speech.create(model="fake/echo", input="x", voice="alloy")
    assert raised.value.body["code"] == "unknown_url"


# ------------------------------------------------------------------ image parts (vision)

VISION = "openai/gpt-4o-mini"  # input modalities: text and image
PHOTO = "https://example.com/cat.png"


def _data_url(data: bytes, media_type: str = "image/png") -> str:
    return f"data:{media_type};base64,{base64.b64encode(data).decode()}"


def _with_images(*urls, text="What is in these?"):
    return [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": text},
                *({"type": "image_url", "image_url": {"url": url}} for url in urls),
            ],
        }
    ]


def test_image_parts_reach_the_provider_and_the_history_notes_them(sdk, fake_openrouter):
    picture = _data_url(png_bytes(8, 6))
    completion = sdk().chat.completions.create(model=VISION, messages=_with_images(picture, PHOTO))
    # The double read both images: the data URL's pixels, the https URL as sent.
    assert f"I see 2 images: PNG 8x6; {PHOTO}." in completion.choices[0].message.content
    [sent] = fake_openrouter.received.matching("POST", "/api/v1/chat/completions")
    assert sent.body["messages"] == [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "What is in these?"},
                {"type": "image_url", "image_url": {"url": picture}},
                {"type": "image_url", "image_url": {"url": PHOTO}},
            ],
        }
    ]
    row = Generation.objects.get()
    assert row.status == "completed" and row.prompt == "What is in these?"
    assert row.params["images"] == [
        {"message": 0, "data": f"image/png, {len(png_bytes(8, 6))} bytes"},
        {"message": 0, "url": PHOTO},
    ]


def test_a_message_of_images_only_is_answered_and_recorded_as_such(sdk, fake_openrouter):
    completion = sdk().chat.completions.create(
        model=VISION, messages=[{"role": "user", "content": [{"type": "image_url", "image_url": {"url": PHOTO}}]}]
    )
    assert f"I see 1 image: {PHOTO}." in completion.choices[0].message.content
    [sent] = fake_openrouter.received.matching("POST", "/api/v1/chat/completions")
    assert sent.body["messages"][-1]["content"] == [{"type": "image_url", "image_url": {"url": PHOTO}}]
    assert Generation.objects.get().prompt == "(1 image)"


def test_image_parts_stream_too(sdk):
    stream = sdk().chat.completions.create(model=VISION, stream=True, messages=_with_images(_data_url(png_bytes())))
    text = "".join(chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices)
    assert "I see 1 image: PNG 16x9." in text


def test_a_text_only_model_refuses_image_parts(sdk, fake_openrouter):
    with pytest.raises(openai.BadRequestError) as raised:
        sdk().chat.completions.create(model="fake/echo", messages=_with_images(PHOTO))
    assert raised.value.body["param"] == "messages" and "does not take images" in raised.value.body["message"]
    assert not Generation.objects.exists()
    assert not fake_openrouter.received.matching("POST", "/api/v1/chat/completions")


@pytest.mark.parametrize(
    "messages, says",
    [
        (_with_images("http://example.com/cat.png"), "https://"),
        (_with_images("data:image/png;base64,bm90IGFuIGltYWdl"), "readable image"),
        (_with_images("data:text/plain;base64,aGk="), "PNG, JPEG, WebP or GIF"),
        (_with_images(*[PHOTO] * 9), "At most 8 images"),
        ([{"role": "user", "content": [{"type": "image_url", "image_url": {}}]}], 'image_url {"url"'),
        ([{"role": "user", "content": [{"type": "input_audio", "input_audio": {}}]}], "parts must be"),
        (
            [
                {"role": "assistant", "content": [{"type": "image_url", "image_url": {"url": PHOTO}}]},
                {"role": "user", "content": "and?"},
            ],
            "in user messages",
        ),
        ([{"role": "user", "content": [{"type": "text", "text": "  "}]}], "with some text or an image"),
    ],
)
def test_bad_image_parts_are_400_on_messages(sdk, fake_openrouter, messages, says):
    with pytest.raises(openai.BadRequestError) as raised:
        sdk().chat.completions.create(model=VISION, messages=messages)
    assert raised.value.body["param"] == "messages" and says in raised.value.body["message"]
    assert not Generation.objects.exists()
    assert not fake_openrouter.received.matching("POST", "/api/v1/chat/completions")


def test_an_image_past_the_size_cap_is_400_on_messages(sdk, settings):
    settings.GENERATION_SOURCE_IMAGE_MAX_BYTES = 1024
    with pytest.raises(openai.BadRequestError) as raised:
        sdk().chat.completions.create(model=VISION, messages=_with_images(_data_url(png_bytes(400, 400) * 3)))
    assert raised.value.body["param"] == "messages" and "too large" in raised.value.body["message"]
    assert "messages[0].content[1]" in raised.value.body["message"]


@pytest.mark.parametrize(
    "actor, expected",
    [
        ("no key", 401),
        ("revoked key", 401),
        ("access token", 401),
        ("user", 200),
        ("other", 200),
    ],
)
def test_authorization_matrix_for_image_parts(sdk, served, user, other_user, make_key, actor, expected):
    from accounts import tokens

    base, key, secret = served
    if actor == "revoked key":
        ApiKey.objects.filter(pk=key.pk).update(revoked_at=timezone.now())
    credential = {
        "no key": None,
        "access token": tokens.access_token_for(user=user),
        "other": make_key(other_user)[1] if actor == "other" else None,
    }.get(actor, secret)
    messages = _with_images(PHOTO)
    if credential is None:
        answer = httpx.post(f"{base}/v1/chat/completions", json={"model": VISION, "messages": messages})
        assert answer.status_code == expected and answer.json()["error"]["type"] == "authentication_error"
    elif expected == 401:
        with pytest.raises(openai.AuthenticationError):
            sdk(api_key=credential).chat.completions.create(model=VISION, messages=messages)
    else:
        completion = sdk(api_key=credential).chat.completions.create(model=VISION, messages=messages)
        assert "I see 1 image" in completion.choices[0].message.content
        assert Generation.objects.get().owner == (other_user if actor == "other" else user)
    if expected == 401:
        assert not Generation.objects.exists()


def test_an_admins_only_vision_model_is_refused_to_every_key_an_admins_too(sdk, user, admin_user, make_key):
    """A key acts with a user's permissions whatever its owner's role (accounts.authentication)."""
    change_catalogue_rows(VISION, admins_only=True)
    _, admin_secret = make_key(admin_user)
    for api_key in (None, admin_secret):
        with pytest.raises(openai.NotFoundError) as raised:
            sdk(api_key=api_key).chat.completions.create(model=VISION, messages=_with_images(PHOTO))
        assert raised.value.body["param"] == "model" and raised.value.body["code"] == "model_not_found"
    change_catalogue_rows(VISION, admins_only=False)
    answer = sdk(api_key=admin_secret).chat.completions.create(model=VISION, messages=_with_images(PHOTO))
    assert "I see 1 image" in answer.choices[0].message.content


# ------------------------------------------------------------------ n choices


def test_n_choices_are_asked_at_once_each_its_own_history_row(sdk, served, fake_openrouter):
    _, key, _ = served
    completion = sdk().chat.completions.create(model=VISION, n=2, messages=[{"role": "user", "content": "hi"}])
    assert [choice.index for choice in completion.choices] == [0, 1]
    assert all("You asked: hi" in choice.message.content for choice in completion.choices)
    rows = list(Generation.objects.order_by("pk"))
    assert len(rows) == 2 and all(row.status == "completed" and row.api_key_id == key.pk for row in rows)
    assert completion.usage.total_tokens == sum(row.total_tokens for row in rows)
    assert len(fake_openrouter.received.matching("POST", "/api/v1/chat/completions")) == 2


def test_n_beyond_the_in_flight_cap_or_streamed_is_400_on_n(sdk, settings, fake_openrouter):
    settings.GENERATION_MAX_IN_FLIGHT = 2
    for extra in ({"n": 3}, {"n": 0}, {"n": 2, "stream": True}):
        with pytest.raises(openai.BadRequestError) as raised:
            sdk().chat.completions.create(model="fake/echo", messages=[{"role": "user", "content": "x"}], **extra)
        assert raised.value.body["param"] == "n", extra
    assert not Generation.objects.exists()
    assert not fake_openrouter.received.matching("POST", "/api/v1/chat/completions")


def test_n_choices_need_every_slot_free_or_nothing_is_asked(sdk, settings, user, fake_openrouter):
    from generation import capacity

    settings.GENERATION_MAX_IN_FLIGHT = 2
    capacity.try_acquire_slot(user.pk)  # one generation already running
    try:
        with pytest.raises(openai.RateLimitError):
            sdk().chat.completions.create(model="fake/echo", n=2, messages=[{"role": "user", "content": "x"}])
        assert not Generation.objects.exists()
        # The slot the refused request took was given back: one more still fits.
        sdk().chat.completions.create(model="fake/echo", messages=[{"role": "user", "content": "x"}])
    finally:
        capacity.release_slot(user.pk)


def test_n_choices_each_reserve_their_cost_or_none_is_asked(sdk, settings, fake_openrouter):
    from decimal import Decimal

    # One answer of up to 1000 tokens (about $0.0006) fits; two do not.
    settings.DEFAULT_DAILY_BUDGET_USD = Decimal("0.001")
    ask = dict(model="openai/gpt-4o-mini", max_tokens=1000, messages=[{"role": "user", "content": "x"}])
    with pytest.raises(openai.APIStatusError) as raised:
        sdk().chat.completions.create(n=2, **ask)
    assert raised.value.status_code == 402
    assert not Generation.objects.exists()
    assert not fake_openrouter.received.matching("POST", "/api/v1/chat/completions")
    # The refused request's first reservation was given back.
    assert len(sdk().chat.completions.create(n=1, **ask).choices) == 1


def test_a_budget_counts_the_images_sent(sdk, settings):
    from decimal import Decimal

    # Text alone (about $0.0006) fits; with an image counted as 2000 prompt tokens it does not.
    settings.DEFAULT_DAILY_BUDGET_USD = Decimal("0.0008")
    with pytest.raises(openai.APIStatusError) as raised:
        sdk().chat.completions.create(model=VISION, max_tokens=1000, messages=_with_images(PHOTO, text="x"))
    assert raised.value.status_code == 402
    sdk().chat.completions.create(model=VISION, max_tokens=1000, messages=[{"role": "user", "content": "x"}])


# ------------------------------------------------------------------ stream_options


def test_stream_with_include_usage_ends_with_a_usage_chunk_without_choices(sdk):
    stream = sdk().chat.completions.create(
        model="openai/gpt-4o-mini",
        stream=True,
        stream_options={"include_usage": True},
        messages=[{"role": "user", "content": "Tell me a story"}],
    )
    chunks = list(stream)
    *content, finish, last = chunks
    assert last.choices == [] and last.usage.total_tokens == last.usage.prompt_tokens + last.usage.completion_tokens
    assert last.usage.completion_tokens > 0
    assert finish.choices[0].finish_reason == "stop" and finish.usage is None
    assert all(chunk.usage is None and chunk.choices[0].finish_reason is None for chunk in content)
    assert "".join(c.choices[0].delta.content or "" for c in content) == Generation.objects.get().text


def test_stream_with_include_usage_false_is_as_without_stream_options(sdk, served):
    base, _, secret = served
    stream = sdk().chat.completions.create(
        model="fake/echo",
        stream=True,
        stream_options={"include_usage": False},
        messages=[{"role": "user", "content": "one two"}],
    )
    chunks = list(stream)
    assert all(chunk.choices for chunk in chunks)
    assert chunks[-1].choices[0].finish_reason == "stop" and chunks[-1].usage is not None
    bad = httpx.post(
        f"{base}/v1/chat/completions",
        headers={"Authorization": f"Bearer {secret}"},
        json={
            "model": "fake/echo",
            "stream": True,
            "stream_options": {"include_usage": "yes"},
            "messages": [{"role": "user", "content": "x"}],
        },
    )
    assert bad.status_code == 400 and bad.json()["error"]["param"] == "stream_options"
