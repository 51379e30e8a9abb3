"""The official openai SDK against Studio as it runs: function calling, structured output,
logprobs and the further chat parameters, through the offline double."""

import json

import openai
import pytest
from pydantic import BaseModel

from generation.models import Generation

MODEL = "openai/gpt-4o-mini"
WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "The weather in a city.",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}
ASK = [{"role": "user", "content": "Call get_weather for Paris"}]


def test_a_tool_call_whole_and_the_follow_up_turn(sdk, fake_openrouter):
    completion = sdk().chat.completions.create(model=MODEL, messages=ASK, tools=[WEATHER], tool_choice="auto")
    choice = completion.choices[0]
    assert choice.finish_reason == "tool_calls"
    [call] = choice.message.tool_calls
    assert call.type == "function" and call.function.name == "get_weather" and call.id
    assert "city" in json.loads(call.function.arguments)
    [sent] = fake_openrouter.received.matching("POST", "/api/v1/chat/completions")
    assert sent.body["tools"][0]["function"]["name"] == "get_weather" and sent.body["tool_choice"] == "auto"
    row = Generation.objects.get()
    assert row.finish_reason == "tool_calls" and row.params["tool_calls"][0]["id"] == call.id
    assert "get_weather(" in row.html  # readable on the generation's page

    follow_up = sdk().chat.completions.create(
        model=MODEL,
        tools=[WEATHER],
        messages=[
            *ASK,
            {"role": "assistant", "content": None, "tool_calls": [call.model_dump()]},
            {"role": "tool", "tool_call_id": call.id, "content": "sunny, 21 C"},
        ],
    )
    assert follow_up.choices[0].finish_reason == "stop"
    assert "sunny, 21 C" in follow_up.choices[0].message.content
    sent = fake_openrouter.received.matching("POST", "/api/v1/chat/completions")[-1]
    assert sent.body["messages"][1] == {"role": "assistant", "content": None, "tool_calls": [call.model_dump()]}
    assert sent.body["messages"][2] == {"role": "tool", "content": "sunny, 21 C", "tool_call_id": call.id}


def test_a_tool_call_streamed(sdk):
    stream = sdk().chat.completions.create(model=MODEL, messages=ASK, tools=[WEATHER], stream=True)
    calls: dict[int, dict] = {}
    finish = None
    for chunk in stream:
        for choice in chunk.choices:
            finish = choice.finish_reason or finish
            for delta in choice.delta.tool_calls or []:
                call = calls.setdefault(delta.index, {"id": None, "name": "", "arguments": ""})
                call["id"] = delta.id or call["id"]
                if delta.function:
                    call["name"] += delta.function.name or ""
                    call["arguments"] += delta.function.arguments or ""
    assert finish == "tool_calls"
    [call] = calls.values()
    assert call["id"] and call["name"] == "get_weather" and "city" in json.loads(call["arguments"])
    row = Generation.objects.get()
    assert row.status == "completed" and row.params["tool_calls"][0]["function"]["arguments"] == call["arguments"]


class Capital(BaseModel):
    country: str
    city: str


def test_parse_returns_a_structured_object(sdk, fake_openrouter):
    completion = sdk().chat.completions.parse(
        model=MODEL, messages=[{"role": "user", "content": "The capital of France?"}], response_format=Capital
    )
    parsed = completion.choices[0].message.parsed
    assert isinstance(parsed, Capital)
    [sent] = fake_openrouter.received.matching("POST", "/api/v1/chat/completions")
    assert sent.body["response_format"]["type"] == "json_schema"
    assert sent.body["response_format"]["json_schema"]["strict"] is True


def test_logprobs_penalties_and_the_developer_role(sdk, fake_openrouter):
    completion = sdk().chat.completions.create(
        model=MODEL,
        messages=[{"role": "developer", "content": "Be brief."}, {"role": "user", "content": "hi"}],
        logprobs=True,
        top_logprobs=2,
        frequency_penalty=0.5,
        presence_penalty=-0.5,
        logit_bias={"50256": -100},
        user="someone",
        reasoning_effort="low",
        extra_body={"models": ["fake/echo"], "provider": {"sort": "price"}, "transforms": ["middle-out"]},
    )
    content = completion.choices[0].logprobs.content
    assert content and len(content[0].top_logprobs) == 2
    [sent] = fake_openrouter.received.matching("POST", "/api/v1/chat/completions")
    assert sent.body["messages"][0] == {"role": "system", "content": "Be brief."}
    assert sent.body["frequency_penalty"] == 0.5 and sent.body["presence_penalty"] == -0.5
    assert sent.body["logit_bias"] == {"50256": -100} and sent.body["user"] == "someone"
    assert sent.body["reasoning"] == {"effort": "low"} and "reasoning_effort" not in sent.body
    assert sent.body["models"] == ["fake/echo"] and sent.body["provider"] == {"sort": "price"}
    assert Generation.objects.get().system == "Be brief."


@pytest.mark.parametrize(
    ("extra", "param"),
    [
        ({"functions": [{"name": "f"}]}, "functions"),
        ({"made_up": 1}, "made_up"),
        ({"tools": [{"type": "function", "function": {"name": "bad name"}}]}, "tools"),
        ({"tool_choice": {"type": "function", "function": {"name": "nope"}}}, "tool_choice"),
        ({"response_format": {"type": "xml"}}, "response_format"),
        ({"top_logprobs": 3}, "top_logprobs"),
        ({"frequency_penalty": 3}, "frequency_penalty"),
        ({"reasoning_effort": "max"}, "reasoning_effort"),
        ({"models": "fake/echo"}, "models"),
        ({"provider": []}, "provider"),
    ],
)
def test_bad_or_unknown_parameters_are_400_naming_them(sdk, fake_openrouter, extra, param):
    with pytest.raises(openai.BadRequestError) as raised:
        sdk().chat.completions.create(model=MODEL, messages=ASK, extra_body=extra)
    assert raised.value.body["param"] == param
    assert not fake_openrouter.received.matching("POST", "/api/v1/chat/completions")
    assert not Generation.objects.exists()


def test_a_tool_message_must_answer_a_call(sdk):
    with pytest.raises(openai.BadRequestError) as raised:
        sdk().chat.completions.create(
            model=MODEL, messages=[*ASK, {"role": "tool", "tool_call_id": "call_x", "content": "r"}]
        )
    assert raised.value.body["param"] == "messages"


def test_max_completion_tokens_is_capped_by_the_budget(sdk, settings):
    ask = dict(model=MODEL, max_completion_tokens=1000, messages=[{"role": "user", "content": "x"}])
    from decimal import Decimal

    # An answer of up to 1000 tokens costs about $0.0006: over this budget, within the next.
    settings.DEFAULT_DAILY_BUDGET_USD = Decimal("0.0003")
    with pytest.raises(openai.APIStatusError) as raised:
        sdk().chat.completions.create(**ask)
    assert raised.value.status_code == 402
    settings.DEFAULT_DAILY_BUDGET_USD = Decimal("0.01")
    sdk().chat.completions.create(**ask)
    assert Generation.objects.get().params["max_tokens"] == 1000
