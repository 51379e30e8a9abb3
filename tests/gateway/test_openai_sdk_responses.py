"""/v1/responses through the official openai SDK against Studio as it runs (uvicorn and
the offline double): mapped onto chat completions, whole and streamed, with tools,
structured output, image input and threads kept by Studio (previous_response_id)."""

import json
from decimal import Decimal

import openai
import pytest
from pydantic import BaseModel

from billing.models import Reservation
from gateway.models import ResponseTurn
from generation.models import Generation

MODEL = "openai/gpt-4o-mini"  # takes text and images, honours tools and json_schema
WEATHER = {
    "type": "function",
    "name": "get_weather",
    "description": "The weather in a city.",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
}


def _chat_requests(fake):
    return fake.received.matching("POST", "/api/v1/chat/completions")


def test_a_text_answer_whole_with_instructions_and_usage(sdk, served, user, fake_openrouter):
    _, key, _ = served
    response = sdk().responses.create(model=MODEL, instructions="Be brief.", input="Say hello", max_output_tokens=50)
    assert response.object == "response" and response.status == "completed"
    assert response.id.startswith("resp-") and response.model == MODEL
    assert response.output_text and response.output[0].type == "message"
    assert response.usage.input_tokens > 0 and response.usage.output_tokens > 0
    assert response.usage.total_tokens == response.usage.input_tokens + response.usage.output_tokens
    [sent] = _chat_requests(fake_openrouter)
    assert sent.body["messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Say hello"},
    ]
    assert sent.body["max_tokens"] == 50
    row = Generation.objects.get()
    assert row.kind == "text" and row.owner == user and row.api_key == key and row.text == response.output_text
    assert row.system == "Be brief." and row.prompt == "Say hello"
    turn = ResponseTurn.objects.get()
    assert turn.generation == row and turn.messages == [{"role": "user", "content": "Say hello"}]


def test_a_streamed_answer_has_the_responses_events(sdk, fake_openrouter):
    events = list(sdk().responses.create(model=MODEL, input="Tell me a story", stream=True))
    kinds = [event.type for event in events]
    assert kinds[:2] == ["response.created", "response.in_progress"]
    assert kinds[-1] == "response.completed"
    assert "response.output_item.added" in kinds and "response.content_part.added" in kinds
    assert kinds.index("response.output_item.added") < kinds.index("response.output_text.delta")
    assert [event.sequence_number for event in events] == list(range(len(events)))
    text = "".join(event.delta for event in events if event.type == "response.output_text.delta")
    [done] = [event for event in events if event.type == "response.output_text.done"]
    completed = events[-1].response
    assert text and done.text == text and completed.output_text == text
    assert completed.usage.output_tokens > 0 and completed.id == events[0].response.id
    row = Generation.objects.get()
    assert row.status == "completed" and row.text == text and row.params.get("stream") is True


def test_a_function_call_and_its_output_in_the_next_turn(sdk, fake_openrouter):
    first = sdk().responses.create(model=MODEL, input="Call get_weather for Paris", tools=[WEATHER])
    [call] = [item for item in first.output if item.type == "function_call"]
    assert call.name == "get_weather" and "city" in json.loads(call.arguments) and call.call_id
    [sent] = _chat_requests(fake_openrouter)
    assert sent.body["tools"] == [
        {
            "type": "function",
            "function": {k: WEATHER[k] for k in ("name", "description", "parameters")},
        }
    ]
    # The thread is Studio's: the next turn sends only the function's output.
    second = sdk().responses.create(
        model=MODEL,
        previous_response_id=first.id,
        tools=[WEATHER],
        input=[{"type": "function_call_output", "call_id": call.call_id, "output": "sunny, 21 C"}],
    )
    assert "sunny, 21 C" in second.output_text and second.previous_response_id == first.id
    sent = _chat_requests(fake_openrouter)[-1]
    assert [m["role"] for m in sent.body["messages"]] == ["user", "assistant", "tool"]
    assert sent.body["messages"][1]["tool_calls"][0]["id"] == call.call_id
    assert sent.body["messages"][2] == {"role": "tool", "content": "sunny, 21 C", "tool_call_id": call.call_id}


def test_a_function_call_streamed(sdk):
    events = list(sdk().responses.create(model=MODEL, input="Call get_weather for Paris", tools=[WEATHER], stream=True))
    [added] = [e for e in events if e.type == "response.output_item.added"]
    assert added.item.type == "function_call" and added.item.name == "get_weather"
    arguments = "".join(e.delta for e in events if e.type == "response.function_call_arguments.delta")
    [done] = [e for e in events if e.type == "response.function_call_arguments.done"]
    assert done.arguments == arguments and "city" in json.loads(arguments)
    [call] = events[-1].response.output
    assert call.type == "function_call" and call.arguments == arguments and call.call_id == added.item.call_id
    assert Generation.objects.get().params["tool_calls"][0]["function"]["arguments"] == arguments


def test_previous_response_id_continues_the_thread_without_its_instructions(sdk, fake_openrouter):
    first = sdk().responses.create(model=MODEL, instructions="Answer in French.", input="My name is Ada.")
    second = sdk().responses.create(model=MODEL, previous_response_id=first.id, input="What is my name?")
    third = sdk().responses.create(model=MODEL, previous_response_id=second.id, input="And again?")
    sent = _chat_requests(fake_openrouter)[-1]
    assert sent.body["messages"] == [
        {"role": "user", "content": "My name is Ada."},
        {"role": "assistant", "content": first.output_text},
        {"role": "user", "content": "What is my name?"},
        {"role": "assistant", "content": second.output_text},
        {"role": "user", "content": "And again?"},
    ]
    assert third.status == "completed" and Generation.objects.count() == 3


def test_another_users_response_id_is_404(sdk, other_user, make_key, fake_openrouter):
    mine = sdk().responses.create(model=MODEL, input="secret plans")
    _, theirs = make_key(other_user)
    for unknown in (mine.id, "resp-studio-999999", "resp_abc"):
        with pytest.raises(openai.NotFoundError) as raised:
            sdk(theirs).responses.create(model=MODEL, previous_response_id=unknown, input="go on")
        assert raised.value.body["param"] == "previous_response_id"
    assert len(_chat_requests(fake_openrouter)) == 1 and Generation.objects.count() == 1


def test_a_failed_previous_response_is_409(sdk, fake_openrouter):
    first = sdk().responses.create(model=MODEL, input="hi")
    Generation.objects.filter(pk=ResponseTurn.objects.get().generation_id).update(status="failed")
    with pytest.raises(openai.ConflictError) as raised:
        sdk().responses.create(model=MODEL, previous_response_id=first.id, input="go on")
    assert raised.value.body["param"] == "previous_response_id"


class Capital(BaseModel):
    country: str
    city: str


def test_text_format_json_schema_and_parse(sdk, fake_openrouter):
    response = sdk().responses.parse(model=MODEL, input="The capital of France?", text_format=Capital)
    assert isinstance(response.output_parsed, Capital)
    [sent] = _chat_requests(fake_openrouter)
    assert sent.body["response_format"]["type"] == "json_schema"
    assert sent.body["response_format"]["json_schema"]["name"] == "Capital"
    assert sent.body["response_format"]["json_schema"]["strict"] is True


def test_image_input(sdk, fake_openrouter):
    response = sdk().responses.create(
        model=MODEL,
        input=[
            {
                "role": "user",
                "content": [
                    {"type": "input_text", "text": "What is in this?"},
                    {"type": "input_image", "image_url": "https://example.com/cat.png"},
                ],
            }
        ],
    )
    assert "I see 1 image" in response.output_text
    [sent] = _chat_requests(fake_openrouter)
    assert sent.body["messages"][0]["content"][1] == {
        "type": "image_url",
        "image_url": {"url": "https://example.com/cat.png"},
    }


@pytest.mark.parametrize(
    ("fields", "param"),
    [
        ({"input": []}, "input"),
        ({"input": [{"type": "item_reference", "id": "x"}]}, "input"),
        ({"input": "hi", "tools": [{"type": "web_search"}]}, "tools"),
        ({"input": "hi", "text": {"format": {"type": "xml"}}}, "text"),
        ({"input": "hi", "max_output_tokens": 0}, "max_output_tokens"),
        ({"input": "hi", "made_up": 1}, "made_up"),
        ({"input": [{"type": "function_call_output", "call_id": "nope", "output": "x"}]}, "input"),
    ],
)
def test_bad_input_is_400_naming_the_field(sdk, fields, param, fake_openrouter):
    with pytest.raises(openai.BadRequestError) as raised:
        sdk().post("/responses", body={"model": MODEL, **fields}, cast_to=object)
    assert raised.value.body["param"] == param
    assert not _chat_requests(fake_openrouter) and not Generation.objects.exists()


def test_unknown_model_is_404_and_over_budget_is_402(sdk, settings, fake_openrouter):
    with pytest.raises(openai.NotFoundError) as raised:
        sdk().responses.create(model="no/such", input="hi")
    assert raised.value.body["code"] == "model_not_found"
    settings.DEFAULT_DAILY_BUDGET_USD = Decimal("0.00000001")
    with pytest.raises(openai.APIStatusError) as raised:
        sdk().responses.create(model=MODEL, input="hi")
    assert raised.value.status_code == 402 and raised.value.body["code"] == "insufficient_quota"
    assert not _chat_requests(fake_openrouter) and not Generation.objects.exists()


def test_budget_reserved_and_settled_like_any_text(sdk, settings):
    settings.DEFAULT_DAILY_BUDGET_USD = Decimal("1")
    sdk().responses.create(model=MODEL, input="hi", max_output_tokens=20)
    [reservation] = Reservation.objects.all()
    row = Generation.objects.get()
    assert reservation.kind == "text" and reservation.status == "settled" and reservation.generation_id == row.pk
    assert reservation.amount_settled == row.cost > 0


def test_anonymous_a_bad_key_and_a_session_token_are_401(served, user, fake_openrouter):
    from accounts import tokens

    base, _, _ = served
    for key in ("missing", "sk-studio-nope", str(tokens.access_token_for(user=user))):
        client = openai.OpenAI(base_url=f"{base}/v1", api_key=key, max_retries=0)
        with pytest.raises(openai.AuthenticationError):
            client.responses.create(model=MODEL, input="hi")
    assert not _chat_requests(fake_openrouter)


def test_an_admins_key_answers_as_its_owner(sdk, admin_user, make_key):
    _, secret = make_key(admin_user)
    first = sdk(secret).responses.create(model=MODEL, input="hi")
    assert Generation.objects.get().owner == admin_user
    # Even an administrator continues only their own threads... and no one else continues theirs.
    with pytest.raises(openai.NotFoundError):
        sdk().responses.create(model=MODEL, previous_response_id=first.id, input="go on")


def test_a_failure_mid_stream_is_an_error_event_and_a_failed_row(sdk, fault_model):
    model = fault_model("stream_error", base=MODEL)
    events = list(sdk().responses.create(model=model, input="Tell me a story", stream=True))
    assert events[0].type == "response.created" and events[-1].type == "error"
    assert events[-1].message and "response.completed" not in [event.type for event in events]
    row = Generation.objects.get()
    assert row.status == "failed" and row.text  # what arrived is kept


def test_max_output_tokens_cut_is_incomplete_whole_and_streamed(sdk):
    whole = sdk().responses.create(model=MODEL, input="Tell me a story", max_output_tokens=3)
    assert whole.status == "incomplete" and whole.incomplete_details.reason == "max_output_tokens"
    events = list(sdk().responses.create(model=MODEL, input="Tell me a story", max_output_tokens=3, stream=True))
    assert events[-1].type == "response.incomplete"
    assert events[-1].response.incomplete_details.reason == "max_output_tokens"
