"""The double's answers to the rest of OpenAI's surface, over real HTTP: tool calls,
structured output, logprobs, reasoning, embeddings, the Responses API and image edits
(``input_references``). Checked with plain HTTP and with the official ``openai`` SDK
pointed at the double, whose parsers are the judge of "as OpenAI sends it"."""

from __future__ import annotations

import base64
import io
import json
import math
import struct
from typing import Literal

import httpx
import jsonschema
import openai
import pytest
from PIL import Image
from pydantic import BaseModel, Field

from openrouter.fake import schema as fake_schema
from tests.factories import png_bytes

AUTH = {"Authorization": "Bearer anything"}
WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "The weather in a city",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string", "minLength": 2},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
                "days": {"type": "integer", "minimum": 1, "maximum": 7},
            },
            "required": ["city", "unit", "days"],
            "additionalProperties": False,
        },
    },
}
TIME = {
    "type": "function",
    "function": {"name": "get_time", "parameters": {"type": "object", "properties": {"zone": {"type": "string"}}}},
}


@pytest.fixture
def sdk(fake):
    return openai.OpenAI(base_url=fake.base_url, api_key="test-key", max_retries=0, timeout=10)


def post(fake, path: str, body: dict) -> httpx.Response:
    return httpx.post(f"{fake.base_url}{path}", json=body, headers=AUTH, timeout=10)


def sse_data(answer: httpx.Response) -> list[dict]:
    return [
        json.loads(line[len("data: ") :])
        for line in answer.text.splitlines()
        if line.startswith("data: ") and line != "data: [DONE]"
    ]


def ask(text: str) -> list[dict]:
    return [{"role": "user", "content": text}]


# ------------------------------------------------------------------ tools


def test_a_prompt_naming_a_tool_gets_a_tool_call_fitting_its_schema(sdk):
    completion = sdk.chat.completions.create(
        model="openai/gpt-4o-mini", messages=ask("What is the weather in Oslo? Use get_weather."), tools=[WEATHER, TIME]
    )
    choice = completion.choices[0]
    assert choice.finish_reason == "tool_calls" and choice.message.content is None
    [call] = choice.message.tool_calls
    assert call.type == "function" and call.id.startswith("call_") and call.function.name == "get_weather"
    jsonschema.validate(json.loads(call.function.arguments), WEATHER["function"]["parameters"])
    assert completion.usage.cost > 0


def test_tools_are_called_only_when_asked_for_or_forced(sdk):
    plain = sdk.chat.completions.create(model="openai/gpt-4o-mini", messages=ask("Hello there"), tools=[WEATHER])
    assert plain.choices[0].finish_reason == "stop" and not plain.choices[0].message.tool_calls
    forced = sdk.chat.completions.create(
        model="openai/gpt-4o-mini", messages=ask("Hello there"), tools=[WEATHER, TIME], tool_choice="required"
    )
    assert [c.function.name for c in forced.choices[0].message.tool_calls] == ["get_weather"]
    named = sdk.chat.completions.create(
        model="openai/gpt-4o-mini",
        messages=ask("Hello there"),
        tools=[WEATHER, TIME],
        tool_choice={"type": "function", "function": {"name": "get_time"}},
    )
    assert [c.function.name for c in named.choices[0].message.tool_calls] == ["get_time"]
    refused = sdk.chat.completions.create(
        model="openai/gpt-4o-mini", messages=ask("call get_weather"), tools=[WEATHER], tool_choice="none"
    )
    assert refused.choices[0].finish_reason == "stop" and refused.choices[0].message.content


def test_every_named_tool_is_called_unless_parallel_calls_are_off(sdk):
    both = sdk.chat.completions.create(
        model="openai/gpt-4o-mini", messages=ask("get_weather and get time please"), tools=[WEATHER, TIME]
    )
    assert [c.function.name for c in both.choices[0].message.tool_calls] == ["get_weather", "get_time"]
    assert len({c.id for c in both.choices[0].message.tool_calls}) == 2
    one = sdk.chat.completions.create(
        model="openai/gpt-4o-mini",
        messages=ask("get_weather and get time please"),
        tools=[WEATHER, TIME],
        parallel_tool_calls=False,
    )
    assert len(one.choices[0].message.tool_calls) == 1


def test_a_follow_up_with_tool_results_is_answered_in_text(sdk):
    first = sdk.chat.completions.create(model="openai/gpt-4o-mini", messages=ask("call get_weather"), tools=[WEATHER])
    call = first.choices[0].message.tool_calls[0]
    follow_up = [
        *ask("call get_weather"),
        {"role": "assistant", "content": None, "tool_calls": [call.model_dump()]},
        {"role": "tool", "tool_call_id": call.id, "content": "12 degrees and rain"},
    ]
    answer = sdk.chat.completions.create(model="openai/gpt-4o-mini", messages=follow_up, tools=[WEATHER])
    assert answer.choices[0].finish_reason == "stop"
    assert "get_weather returned: 12 degrees and rain" in answer.choices[0].message.content


def test_tool_calls_stream_as_openai_streams_them(fake, sdk):
    answer = post(
        fake,
        "/chat/completions",
        {
            "model": "openai/gpt-4o-mini",
            "messages": ask("get_weather, get_time"),
            "tools": [WEATHER, TIME],
            "stream": True,
        },
    )
    chunks = sse_data(answer)
    calls = [c["choices"][0]["delta"]["tool_calls"][0] for c in chunks if c["choices"][0]["delta"].get("tool_calls")]
    heads = [call for call in calls if "id" in call]
    assert [(h["index"], h["type"], h["function"]["name"], h["function"]["arguments"]) for h in heads] == [
        (0, "function", "get_weather", ""),
        (1, "function", "get_time", ""),
    ]
    pieces = [call for call in calls if "id" not in call]
    assert len([p for p in pieces if p["index"] == 0]) > 1  # the arguments come in pieces
    assert all(set(p) == {"index", "function"} and set(p["function"]) == {"arguments"} for p in pieces)
    assert chunks[-1]["choices"][0]["finish_reason"] == "tool_calls" and chunks[-1]["usage"]["cost"] > 0
    # The SDK's stream helper puts the pieces back together.
    with sdk.chat.completions.stream(
        model="openai/gpt-4o-mini", messages=ask("get_weather"), tools=[WEATHER]
    ) as stream:
        final = stream.get_final_completion()
    [call] = final.choices[0].message.tool_calls
    jsonschema.validate(json.loads(call.function.arguments), WEATHER["function"]["parameters"])


@pytest.mark.parametrize(
    "change, says",
    [
        ({"tools": [{"type": "function"}]}, "tools[0]"),
        ({"tools": [WEATHER], "tool_choice": {"type": "function", "function": {"name": "nope"}}}, "nope"),
        ({"tool_choice": "required"}, "needs tools"),
        ({"messages": [{"role": "tool", "tool_call_id": "call_x", "content": "hi"}]}, "role 'tool'"),
        ({"messages": [{"role": "narrator", "content": "hi"}]}, "role must be"),
        ({"messages": [{"role": "user", "content": None}]}, "content is required"),
    ],
)
def test_bad_tool_requests_are_400(fake, change, says):
    answer = post(fake, "/chat/completions", {"model": "openai/gpt-4o-mini", "messages": ask("hi"), **change})
    assert answer.status_code == 400 and says in answer.json()["error"]["message"]


def test_tools_for_a_model_without_tool_use_are_404_as_openrouter_answers(fake):
    answer = post(fake, "/chat/completions", {"model": "fake/long-stream", "messages": ask("hi"), "tools": [WEATHER]})
    assert answer.status_code == 404 and "support tool use" in answer.json()["error"]["message"]


# ------------------------------------------------------------------ structured output


class Address(BaseModel):
    street: str
    postcode: str = Field(pattern=r"^\d{4}$")


class Pet(BaseModel):
    kind: Literal["cat", "dog"]
    age: int = Field(ge=1, le=30)


class Person(BaseModel):
    name: str = Field(min_length=3)
    score: float = Field(gt=0, lt=1)
    tags: list[str] = Field(min_length=2)
    home: Address
    pets: list[Pet]
    nickname: str | None


def test_json_schema_answers_validate_and_parse(sdk):
    parsed = sdk.chat.completions.parse(
        model="openai/gpt-4o-mini", messages=ask("Describe someone"), response_format=Person
    )
    person = parsed.choices[0].message.parsed
    assert isinstance(person, Person) and len(person.tags) >= 2 and 0 < person.score < 1
    jsonschema.validate(json.loads(parsed.choices[0].message.content), Person.model_json_schema())


def test_json_object_answers_are_a_json_object_whole_and_streamed(fake):
    body = {"model": "openai/gpt-4o-mini", "messages": ask("json please"), "response_format": {"type": "json_object"}}
    whole = post(fake, "/chat/completions", body).json()
    assert isinstance(json.loads(whole["choices"][0]["message"]["content"]), dict)
    chunks = sse_data(post(fake, "/chat/completions", {**body, "stream": True}))
    text = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks)
    assert json.loads(text) == json.loads(whole["choices"][0]["message"]["content"])


def test_a_model_without_structured_outputs_ignores_the_schema_unless_parameters_are_required(fake):
    body = {
        "model": "anthropic/claude-3.5-haiku",
        "messages": ask("hi"),
        "response_format": {"type": "json_schema", "json_schema": {"name": "x", "schema": {"type": "object"}}},
    }
    assert "Offline answer" in post(fake, "/chat/completions", body).json()["choices"][0]["message"]["content"]
    strict = post(fake, "/chat/completions", {**body, "provider": {"require_parameters": True}})
    assert strict.status_code == 404


@pytest.mark.parametrize(
    "schema",
    [
        {
            "type": "object",
            "properties": {"n": {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 0.1}},
            "required": ["n"],
        },
        {
            "type": "array",
            "items": {"type": "integer", "multipleOf": 5, "minimum": 7},
            "minItems": 3,
            "uniqueItems": True,
        },
        {"type": ["string", "null"], "minLength": 12, "maxLength": 14},
        {"type": "string", "format": "date-time"},
        {"type": "string", "pattern": "^[A-Z]{2}-\\d{3}$"},
        {"anyOf": [{"type": "null"}, {"$ref": "#/$defs/thing"}], "$defs": {"thing": {"enum": ["a", "b"]}}},
        {"allOf": [{"type": "object", "properties": {"a": {"const": 3}}, "required": ["a"]}, {"required": ["b"]}]},
    ],
)
def test_schema_instances_validate(schema):
    jsonschema.validate(fake_schema.instance(schema, seed="x"), schema)


def test_a_schema_with_a_dangling_ref_is_400(fake):
    body = {
        "model": "openai/gpt-4o-mini",
        "messages": ask("hi"),
        "response_format": {"type": "json_schema", "json_schema": {"name": "x", "schema": {"$ref": "#/$defs/none"}}},
    }
    answer = post(fake, "/chat/completions", body)
    assert answer.status_code == 400 and "points nowhere" in answer.json()["error"]["message"]


# ------------------------------------------------------------------ logprobs and reasoning


def test_logprobs_whole_and_streamed(fake, sdk):
    completion = sdk.chat.completions.create(
        model="openai/gpt-4o-mini", messages=ask("hi"), logprobs=True, top_logprobs=3
    )
    content = completion.choices[0].logprobs.content
    assert "".join(entry.token for entry in content) == completion.choices[0].message.content
    assert all(entry.logprob <= 0 and len(entry.top_logprobs) == 3 for entry in content)
    assert content[0].top_logprobs[0].token == content[0].token
    chunks = sse_data(
        post(
            fake,
            "/chat/completions",
            {"model": "openai/gpt-4o-mini", "messages": ask("hi"), "logprobs": True, "stream": True},
        )
    )
    entries = [c["choices"][0]["logprobs"]["content"][0] for c in chunks if c["choices"][0].get("logprobs")]
    assert [e["token"] for e in entries] == [e.token for e in content]
    assert (
        post(
            fake, "/chat/completions", {"model": "openai/gpt-4o-mini", "messages": ask("hi"), "top_logprobs": 2}
        ).status_code
        == 400
    )


def test_reasoning_comes_as_message_reasoning_and_counts_as_tokens(fake):
    body = {"model": "fake/echo", "messages": ask("why is the sky blue"), "reasoning": {"effort": "high"}}
    whole = post(fake, "/chat/completions", body).json()
    assert "high effort" in whole["choices"][0]["message"]["reasoning"]
    assert whole["usage"]["completion_tokens_details"]["reasoning_tokens"] > 0
    chunks = sse_data(post(fake, "/chat/completions", {**body, "stream": True}))
    reasoning = "".join(c["choices"][0]["delta"].get("reasoning") or "" for c in chunks)
    assert reasoning.strip() == whole["choices"][0]["message"]["reasoning"]
    hidden = post(fake, "/chat/completions", {**body, "reasoning": {"effort": "low", "exclude": True}}).json()
    assert "reasoning" not in hidden["choices"][0]["message"]
    assert hidden["usage"]["completion_tokens_details"]["reasoning_tokens"] > 0
    bad = post(fake, "/chat/completions", {**body, "reasoning": {"effort": "enormous"}})
    assert bad.status_code == 400


# ------------------------------------------------------------------ embeddings


def test_embeddings_are_deterministic_unit_vectors_of_the_requested_size(sdk):
    first = sdk.embeddings.create(
        model="openai/text-embedding-3-small", input=["a cat", "a dog"], encoding_format="float"
    )
    assert [d.index for d in first.data] == [0, 1] and len(first.data[0].embedding) == 1536
    assert math.isclose(sum(v * v for v in first.data[0].embedding), 1.0, rel_tol=1e-4)
    assert first.data[0].embedding != first.data[1].embedding
    again = sdk.embeddings.create(model="openai/text-embedding-3-small", input="a cat", encoding_format="float")
    assert again.data[0].embedding == first.data[0].embedding
    short = sdk.embeddings.create(
        model="openai/text-embedding-3-small", input="a cat", dimensions=64, encoding_format="float"
    )
    assert len(short.data[0].embedding) == 64
    assert first.usage.prompt_tokens == 4 and first.usage.total_tokens == 4
    assert first.usage.model_extra["cost"] > 0


def test_base64_embeddings_are_little_endian_float32(fake, sdk):
    body = {"model": "mistralai/mistral-embed", "input": "hello"}
    floats = post(fake, "/embeddings", {**body, "encoding_format": "float"}).json()["data"][0]["embedding"]
    packed = post(fake, "/embeddings", {**body, "encoding_format": "base64"}).json()["data"][0]["embedding"]
    raw = base64.b64decode(packed)
    assert list(struct.unpack(f"<{len(raw) // 4}f", raw)) == floats and len(floats) == 1024
    # The SDK asks for base64 by default and decodes it itself.
    assert sdk.embeddings.create(model="mistralai/mistral-embed", input="hello").data[0].embedding == floats


@pytest.mark.parametrize(
    "body, says",
    [
        ({"model": "mistralai/mistral-embed", "input": "x", "dimensions": 8}, "does not support specifying dimensions"),
        ({"model": "openai/text-embedding-3-small", "input": "x", "dimensions": 5000}, "dimensions must be"),
        ({"model": "openai/text-embedding-3-small", "input": ""}, "input[0] is empty"),
        ({"model": "openai/text-embedding-3-small", "input": []}, "non-empty"),
        ({"model": "openai/text-embedding-3-small", "input": "x", "encoding_format": "hex"}, "encoding_format"),
        ({"model": "openai/gpt-4o-mini", "input": "x"}, "not an embedding model"),
    ],
)
def test_bad_embedding_requests_are_400(fake, body, says):
    answer = post(fake, "/embeddings", body)
    assert answer.status_code == 400 and says in answer.json()["error"]["message"]


def test_embedding_models_are_in_the_catalogue_with_prices(fake):
    models = httpx.get(f"{fake.base_url}/models?output_modalities=embeddings", headers=AUTH).json()["data"]
    assert {m["id"] for m in models} == {"openai/text-embedding-3-small", "mistralai/mistral-embed"}
    assert all(
        m["architecture"]["output_modalities"] == ["embeddings"] and float(m["pricing"]["prompt"]) > 0 for m in models
    )
    default = httpx.get(f"{fake.base_url}/models", headers=AUTH).json()["data"]
    assert not {m["id"] for m in default} & {"openai/text-embedding-3-small"}


# ------------------------------------------------------------------ responses


def test_responses_with_instructions_and_an_image(sdk):
    picture = "data:image/png;base64," + base64.b64encode(png_bytes(8, 8)).decode()
    response = sdk.responses.create(
        model="openai/gpt-4o-mini",
        instructions="Be brief.",
        input=[
            {
                "role": "user",
                "content": [
                    {"type": "input_text", "text": "What is this?"},
                    {"type": "input_image", "image_url": picture},
                ],
            }
        ],
    )
    assert response.status == "completed" and response.object == "response"
    assert "You asked: What is this?" in response.output_text and "I see 1 image" in response.output_text
    assert response.usage.input_tokens > 0 and response.usage.model_extra["cost"] > 0


def test_responses_stream_with_openais_event_types(sdk):
    with sdk.responses.stream(model="openai/gpt-4o-mini", input="Tell me a story") as stream:
        kinds = [event.type for event in stream]
        final = stream.get_final_response()
    assert kinds[:4] == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.content_part.added",
    ]
    assert kinds.count("response.output_text.delta") > 1
    assert kinds[-4:] == [
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.completed",
    ]
    assert "You asked: Tell me a story" in final.output_text


def test_responses_call_function_tools_and_take_their_output(sdk):
    tool = {"type": "function", "name": "get_weather", "parameters": WEATHER["function"]["parameters"], "strict": True}
    with sdk.responses.stream(model="openai/gpt-4o-mini", input="use get_weather", tools=[tool]) as stream:
        kinds = [event.type for event in stream]
        final = stream.get_final_response()
    assert "response.function_call_arguments.delta" in kinds and "response.function_call_arguments.done" in kinds
    [call] = final.output
    assert call.type == "function_call" and call.name == "get_weather"
    jsonschema.validate(json.loads(call.arguments), tool["parameters"])
    answer = sdk.responses.create(
        model="openai/gpt-4o-mini",
        tools=[tool],
        input=[
            {"role": "user", "content": "use get_weather"},
            {"type": "function_call", "call_id": call.call_id, "name": call.name, "arguments": call.arguments},
            {"type": "function_call_output", "call_id": call.call_id, "output": "sunny"},
        ],
    )
    assert "get_weather returned: sunny" in answer.output_text


def test_responses_text_format_json_schema_and_reasoning(sdk):
    parsed = sdk.responses.parse(model="openai/gpt-4o-mini", input="Describe someone", text_format=Person)
    assert isinstance(parsed.output_parsed, Person)
    with sdk.responses.stream(model="fake/echo", input="think", reasoning={"effort": "low"}) as stream:
        kinds = [event.type for event in stream]
        final = stream.get_final_response()
    assert "response.reasoning_summary_text.delta" in kinds
    assert final.output[0].type == "reasoning" and final.usage.output_tokens_details.reasoning_tokens > 0


def test_responses_refuse_previous_response_id_and_cut_at_max_output_tokens(fake, sdk):
    with pytest.raises(openai.BadRequestError):
        sdk.responses.create(model="openai/gpt-4o-mini", input="hi", previous_response_id="resp_1")
    cut = sdk.responses.create(model="openai/gpt-4o-mini", input="hi", max_output_tokens=3)
    assert cut.status == "incomplete" and cut.incomplete_details.reason == "max_output_tokens"


# ------------------------------------------------------------------ image edits


def test_images_with_input_references_edit_the_first_image(fake):
    source = png_bytes(64, 32)
    url = "data:image/png;base64," + base64.b64encode(source).decode()
    answer = post(
        fake, "/images", {"model": "openai/gpt-image-1", "prompt": "make it blue", "input_references": [url]}
    ).json()
    edited = Image.open(io.BytesIO(base64.b64decode(answer["data"][0]["b64_json"])))
    assert edited.size == (64, 32)  # the source's size: an edit, not a new picture
    original = Image.open(io.BytesIO(source)).convert("RGB")
    r, g, b = original.getpixel((1, 1))
    assert edited.convert("RGB").getpixel((1, 1)) == (255 - r, 255 - g, 255 - b)
    assert answer["usage"]["cost"] > 0


@pytest.mark.parametrize(
    "model, references, says",
    [
        ("openai/dall-e-3", ["data:image/png;base64," + base64.b64encode(png_bytes()).decode()], "image input"),
        ("openai/gpt-image-1", ["https://example.com/a.png"], "fetches nothing"),
        ("openai/gpt-image-1", ["data:image/png;base64," + base64.b64encode(b"not an image").decode()], "not an image"),
        ("openai/gpt-image-1", [], "1 to 16"),
    ],
)
def test_bad_input_references_are_400(fake, model, references, says):
    answer = post(fake, "/images", {"model": model, "prompt": "x", "input_references": references})
    assert answer.status_code == 400 and says in answer.json()["error"]["message"]
