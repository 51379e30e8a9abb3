"""POST /api/generate/text: whole answers, validation, provider failures, streaming."""

import pytest

from core.http import STATUS_FOR_KIND
from generation.models import Generation
from tests.support.sse import parse_events

pytestmark = pytest.mark.django_db

URL = "/api/generate/text"


def _chat_requests(fake):
    return [r for r in fake.received if r.method == "POST" and r.path == "/api/v1/chat/completions"]


def test_text_answer_with_usage_is_recorded(catalogue, fake_openrouter, user_api, user):
    response = user_api.post(
        URL,
        {
            "prompt": "Say hi",
            "model": "openai/gpt-4o-mini",
            "system": "Be brief.",
            "max_tokens": 200,
            "temperature": 0.5,
        },
        format="json",
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["model"] == "openai/gpt-4o-mini"
    assert body["text"].startswith("Offline answer from openai/gpt-4o-mini. You asked: Say hi")
    usage = body["usage"]
    assert usage["prompt_tokens"] > 0 and usage["completion_tokens"] > 0
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
    assert usage["cost"] > 0
    assert set(body) >= {"id", "model", "text", "usage", "created_at"}
    [sent] = _chat_requests(fake_openrouter)
    assert sent.body == {
        "model": "openai/gpt-4o-mini",
        "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Say hi"}],
        "max_tokens": 200,
        "temperature": 0.5,
    }
    assert sent.headers["authorization"] == "Bearer test-key"
    row = Generation.objects.get(pk=body["id"])
    assert row.owner == user and row.kind == "text" and row.status == "completed"
    assert row.text == body["text"] and row.total_tokens == usage["total_tokens"]
    assert float(row.cost) == pytest.approx(usage["cost"]) and row.finished_at is not None
    assert row.params == {"max_tokens": 200, "temperature": 0.5}


def test_optional_fields_are_left_out_of_the_provider_request(catalogue, fake_openrouter, user_api):
    response = user_api.post(URL, {"prompt": "  echo me  ", "model": "fake/echo"}, format="json")

    assert response.status_code == 200
    assert response.json()["text"] == "echo me"
    [sent] = _chat_requests(fake_openrouter)
    assert sent.body == {"model": "fake/echo", "messages": [{"role": "user", "content": "echo me"}]}


@pytest.mark.parametrize(
    "body, field",
    [
        ({"model": "fake/echo"}, "prompt"),
        ({"prompt": "   ", "model": "fake/echo"}, "prompt"),
        ({"prompt": "x" * 41, "model": "fake/echo"}, "prompt"),
        ({"prompt": "hi"}, "model"),
        ({"prompt": "hi", "model": ""}, "model"),
        ({"prompt": "hi", "model": "nobody/nothing"}, "model"),
        ({"prompt": "hi", "model": "google/gemini-2.5-flash-image"}, "model"),
        ({"prompt": "hi", "model": "fake/echo", "system": "s" * 41}, "system"),
        ({"prompt": "hi", "model": "fake/echo", "max_tokens": 0}, "max_tokens"),
        ({"prompt": "hi", "model": "fake/echo", "max_tokens": 1_000_000}, "max_tokens"),
        ({"prompt": "hi", "model": "fake/echo", "max_tokens": "many"}, "max_tokens"),
        ({"prompt": "hi", "model": "fake/echo", "temperature": -0.1}, "temperature"),
        ({"prompt": "hi", "model": "fake/echo", "temperature": 2.5}, "temperature"),
        ({"prompt": "hi", "model": "fake/echo", "temperature": "warm"}, "temperature"),
    ],
)
def test_bad_input_is_a_400_naming_the_field_before_any_call(
    catalogue, fake_openrouter, user_api, settings, body, field
):
    settings.GENERATION_PROMPT_MAX_CHARS = 40

    response = user_api.post(URL, body, format="json")

    assert response.status_code == 400, response.content
    assert field in response.json(), response.json()
    assert list(fake_openrouter.received) == []
    assert not Generation.objects.exists()


def test_prompt_limit_message_names_the_limit(catalogue, user_api, settings):
    settings.GENERATION_PROMPT_MAX_CHARS = 10
    response = user_api.post(URL, {"prompt": "x" * 11, "model": "fake/echo"}, format="json")
    assert "10" in response.json()["prompt"][0]


def test_wrong_kind_model_message_says_why(catalogue, user_api):
    response = user_api.post(URL, {"prompt": "hi", "model": "openai/dall-e-3"}, format="json")
    assert "not a text model" in response.json()["model"][0]


@pytest.mark.parametrize(
    "fault, status, says",
    [
        ("rate_limit", 429, "rate limiting"),
        ("auth", 503, "provider account problem"),
        ("out_of_credits", 503, "provider account problem"),
        ("moderation", 400, "content policy"),
        ("bad_request", 400, "Invalid request parameters"),
        ("not_found", 400, "does not know this model"),
        ("server_error", 502, "unavailable"),
        ("unavailable", 502, "unavailable"),
        ("malformed", 502, "could not read"),
        ("disconnect", 502, "unavailable"),
        ("stream_error", 502, "unavailable"),
    ],
)
def test_provider_failures_map_to_answers_and_are_recorded(fault_model, user_api, fault, status, says):
    model = fault_model(fault)

    response = user_api.post(URL, {"prompt": "hi", "model": model}, format="json")

    assert response.status_code == status, response.content
    detail = response.json()["detail"]
    assert says in detail
    row = Generation.objects.get()
    assert row.status == "failed" and row.error == detail and STATUS_FOR_KIND[row.error_kind] == status
    assert row.error_detail and row.finished_at is not None
    if fault in ("auth", "out_of_credits"):
        # The provider's own words (and anything about our key) stay with the admins.
        assert "User not found" not in response.content.decode() and "credits" not in detail.lower()
        assert "Insufficient credits" in row.error_detail or "User not found" in row.error_detail
    if fault == "rate_limit":
        assert int(response["Retry-After"]) >= 1


def test_provider_timeout_is_a_504(fault_model, user_api, settings):
    model = fault_model("slow")
    settings.OPENROUTER_READ_TIMEOUT = 0.5

    response = user_api.post(URL, {"prompt": "hi", "model": model}, format="json")

    assert response.status_code == 504
    assert Generation.objects.get().status == "failed"


def test_every_attempt_is_a_history_row(catalogue, fault_model, user_api):
    failing = fault_model("server_error")
    user_api.post(URL, {"prompt": "one", "model": "fake/echo"}, format="json")
    user_api.post(URL, {"prompt": "two", "model": failing}, format="json")
    user_api.post(URL, {"prompt": "", "model": "fake/echo"}, format="json")  # refused before any call

    rows = list(Generation.objects.order_by("id").values_list("prompt", "status"))
    assert rows == [("one", "completed"), ("two", "failed")]


def test_anonymous_cannot_generate(catalogue, client_for, fake_openrouter):
    response = client_for(None).post(URL, {"prompt": "hi", "model": "fake/echo"}, format="json")
    assert response.status_code == 401
    assert list(fake_openrouter.received) == []


# ------------------------------------------------------------------ streaming


def _events(answer):
    """Parse a streamed answer (from ``stream_post``) into (event, data) pairs."""
    status, headers, text = answer
    return parse_events(text)


def test_stream_sends_pieces_then_the_final_object(catalogue, fake_openrouter, stream_post, user):
    answer = stream_post(URL, {"prompt": "Tell me a story", "model": "openai/gpt-4o-mini", "stream": True})

    status, headers, _ = answer
    assert status == 200
    assert headers["Content-Type"].startswith("text/event-stream")
    events = _events(answer)
    assert events[0][0] == "start"
    pieces = [data["text"] for name, data in events if name == "message"]
    assert len(pieces) > 3
    name, final = events[-1]
    assert name == "done"
    assert final["text"] == "".join(pieces) and final["usage"]["total_tokens"] > 0
    row = Generation.objects.get(pk=final["id"])
    assert row.status == "completed" and row.text == final["text"] and row.owner == user
    assert row.completion_tokens == final["usage"]["completion_tokens"]
    [sent] = _chat_requests(fake_openrouter)
    assert sent.body["stream"] is True and sent.body["model"] == "openai/gpt-4o-mini"


def test_accept_event_stream_asks_for_a_stream(catalogue, stream_post):
    events = _events(stream_post(URL, {"prompt": "hi", "model": "fake/echo"}, accept="text/event-stream"))
    assert events[-1][0] == "done" and events[-1][1]["text"] == "hi"


def test_stream_refused_before_it_starts_answers_with_a_status(fault_model, stream_post):
    model = fault_model("rate_limit")
    status, headers, _ = stream_post(URL, {"prompt": "hi", "model": model, "stream": True})
    assert status == 429 and headers["Retry-After"]
    assert Generation.objects.get().status == "failed"


def test_stream_bad_input_with_accept_event_stream_is_a_400(catalogue, user_api):
    response = user_api.post(URL, {"prompt": "", "model": "fake/echo"}, format="json", HTTP_ACCEPT="text/event-stream")
    assert response.status_code == 400
    assert "prompt" in response.content.decode()


def test_stream_answer_that_is_no_stream_says_so_like_the_whole_answer(fault_model, stream_post):
    events = _events(stream_post(URL, {"prompt": "hi", "model": fault_model("malformed"), "stream": True}))

    name, error = events[-1]
    assert name == "error" and error["status"] == 502 and "could not read" in error["detail"]
    assert Generation.objects.get().status == "failed"


def test_stream_failing_midway_keeps_what_arrived(fault_model, stream_post):
    model = fault_model("stream_error")

    events = _events(stream_post(URL, {"prompt": "hi there", "model": model, "stream": True}))

    name, error = events[-1]
    assert name == "error" and error["status"] == 502
    pieces = "".join(data["text"] for kind, data in events if kind == "message")
    row = Generation.objects.get()
    assert row.status == "failed" and row.text == pieces != "" and row.error == error["detail"]


def test_stream_closed_midway_saves_the_text_as_partial(catalogue, user):
    """What the view's event stream does when the server closes it (client gone)."""
    from asgiref.sync import async_to_sync

    from generation import services

    async def read_three_then_close():
        stream = await services.text_stream_start(user=user, model="openai/gpt-4o-mini", prompt="A long answer please")
        pieces = stream.pieces()
        received = [await anext(pieces) for _ in range(3)]
        await stream.aclose()
        return received

    received = async_to_sync(read_three_then_close)()

    row = Generation.objects.get()
    assert row.status == "partial" and row.text == "".join(received) != ""
    assert "cut short" in row.error and row.finished_at is not None
