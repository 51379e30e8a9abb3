"""``POST /v1/responses``: OpenAI's Responses API, mapped onto chat completions.

The request is translated into a chat completion's (input items into messages,
``instructions`` into a first system message, function tools into chat tools,
``text.format`` into ``response_format``, ``max_output_tokens`` into ``max_tokens``) and
answered by the one text pipeline (generation.services), so budgets, the history and
usage are those of every text generation; the answer is given back as a Responses object,
or streamed as Responses events (``response.created`` ... ``response.completed``).
``previous_response_id`` continues a thread Studio keeps (gateway.services).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from accounts.authentication import request_api_key
from core.errors import InvalidInput
from core.sse import event_stream_response, relay_text, sse_event
from core.throttles import GenerationThrottle
from gateway import services
from gateway.api import ERRORS, OpenAiAsyncView, _timestamp
from gateway.errors import describe
from generation import services as generation
from generation.models import Generation

TRUNCATION = ("disabled",)


class ResponsesIn(serializers.Serializer):
    model = serializers.CharField(allow_blank=True)
    input = serializers.JSONField(
        help_text="a text, or items: messages (input_text, input_image parts), function_call, function_call_output"
    )
    instructions = serializers.CharField(
        required=False, allow_null=True, allow_blank=True, default=None, help_text="sent first, as a system message"
    )
    max_output_tokens = serializers.IntegerField(required=False, allow_null=True, default=None)
    temperature = serializers.FloatField(required=False, allow_null=True, default=None)
    top_p = serializers.FloatField(required=False, allow_null=True, default=None)
    tools = serializers.JSONField(required=False, help_text='function tools: [{"type": "function", "name", ...}]')
    tool_choice = serializers.JSONField(
        required=False, help_text='none, auto, required or {"type": "function", "name"}'
    )
    parallel_tool_calls = serializers.JSONField(required=False)
    text = serializers.JSONField(required=False, help_text='{"format": {"type": "text"|"json_object"|"json_schema"}}')
    reasoning = serializers.JSONField(required=False, help_text='{"effort": "low"|"medium"|"high"}')
    previous_response_id = serializers.CharField(
        required=False, allow_null=True, default=None, help_text="continue the thread of one of your responses"
    )
    stream = serializers.BooleanField(required=False, default=False)
    store = serializers.BooleanField(
        required=False, default=True, help_text="accepted: Studio keeps every answer in the history"
    )
    metadata = serializers.DictField(required=False, allow_null=True, default=None, help_text="given back as sent")
    user = serializers.JSONField(required=False)
    truncation = serializers.ChoiceField(choices=TRUNCATION, required=False, help_text="only disabled")


# ------------------------------------------------------------------ request


def _text_of(parts, where: str) -> str:
    """The text of a list of text parts (an assistant's or a tool output's)."""
    if isinstance(parts, str):
        return parts
    if not isinstance(parts, list) or not all(
        isinstance(p, dict) and p.get("type") in ("input_text", "output_text") and isinstance(p.get("text"), str)
        for p in parts
    ):
        raise InvalidInput(f"{where} must be text or a list of text parts.", field="input")
    return "".join(part["text"] for part in parts)


def _user_content(content, where: str) -> str | list[dict]:
    if isinstance(content, str):
        return content
    if not isinstance(content, list) or not content:
        raise InvalidInput(f"{where}.content must be text or a list of parts.", field="input")
    parts: list[dict] = []
    for index, part in enumerate(content):
        kind = part.get("type") if isinstance(part, dict) else None
        if kind in ("input_text", "output_text") and isinstance(part.get("text"), str):
            parts.append({"type": "text", "text": part["text"]})
        elif kind == "input_image" and isinstance(part.get("image_url"), str):
            image: dict[str, Any] = {"url": part["image_url"]}
            if part.get("detail") is not None:
                image["detail"] = part["detail"]
            parts.append({"type": "image_url", "image_url": image})
        else:
            raise InvalidInput(
                f"{where}.content[{index}] must be an input_text part or an input_image part with an image_url "
                "(https or data URL; file ids are not supported).",
                field="input",
            )
    return parts


def input_messages(value) -> list[dict]:
    """The Responses input as chat messages."""
    if isinstance(value, str):
        return [{"role": "user", "content": value}]
    if not isinstance(value, list) or not value:
        raise InvalidInput("Must be a text or a non-empty list of input items.", field="input")
    messages: list[dict] = []
    for index, item in enumerate(value):
        where = f"input[{index}]"
        if not isinstance(item, dict):
            raise InvalidInput(f"{where} must be an object.", field="input")
        kind = item.get("type", "message")
        if kind == "message":
            role = item.get("role")
            if role not in ("user", "system", "developer", "assistant"):
                raise InvalidInput(f"{where}.role must be user, system, developer or assistant.", field="input")
            if role == "user":
                messages.append({"role": role, "content": _user_content(item.get("content"), where)})
            else:
                messages.append({"role": role, "content": _text_of(item.get("content"), f"{where}.content")})
        elif kind == "function_call":
            call_id, name, arguments = item.get("call_id"), item.get("name"), item.get("arguments", "")
            if not (isinstance(call_id, str) and isinstance(name, str) and isinstance(arguments, str)):
                raise InvalidInput(f"{where}: a function_call needs call_id, name and arguments.", field="input")
            call = {"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}}
            last = messages[-1] if messages else None
            if last is not None and last["role"] == "assistant" and last.get("tool_calls"):
                last["tool_calls"].append(call)
            else:
                messages.append({"role": "assistant", "content": None, "tool_calls": [call]})
        elif kind == "function_call_output":
            call_id = item.get("call_id")
            if not isinstance(call_id, str):
                raise InvalidInput(f"{where}: a function_call_output needs call_id.", field="input")
            output = _text_of(item.get("output"), f"{where}.output")
            messages.append({"role": "tool", "tool_call_id": call_id, "content": output})
        elif kind == "reasoning":
            continue  # an earlier answer's reasoning sent back: the provider is not asked to read it
        else:
            raise InvalidInput(
                f"{where}.type {kind!r} is not supported (message, function_call, function_call_output).",
                field="input",
            )
    return messages


def chat_tools(tools) -> list[dict]:
    if not isinstance(tools, list):
        raise InvalidInput("Must be a list of function tools.", field="tools")
    shaped = []
    for index, tool in enumerate(tools):
        if not isinstance(tool, dict) or tool.get("type") != "function":
            raise InvalidInput(f"tools[{index}]: only function tools are supported here.", field="tools")
        function = {key: tool[key] for key in ("name", "description", "parameters", "strict") if key in tool}
        shaped.append({"type": "function", "function": function})
    return shaped


def chat_tool_choice(choice):
    if isinstance(choice, dict) and choice.get("type") == "function":
        return {"type": "function", "function": {"name": choice.get("name")}}
    return choice


def chat_response_format(text) -> dict | None:
    if not isinstance(text, dict) or set(text) - {"format", "verbosity"}:
        raise InvalidInput('Must be {"format": {...}}.', field="text")
    found = text.get("format")
    if found is None:
        return None
    if not isinstance(found, dict) or found.get("type") not in ("text", "json_object", "json_schema"):
        raise InvalidInput("text.format.type must be text, json_object or json_schema.", field="text")
    if found["type"] == "text":
        return None
    if found["type"] == "json_object":
        return {"type": "json_object"}
    spec = {key: found[key] for key in ("name", "schema", "strict", "description") if key in found}
    return {"type": "json_schema", "json_schema": spec}


def chat_reasoning(reasoning) -> dict:
    if not isinstance(reasoning, dict):
        raise InvalidInput('Must be {"effort": ...}.', field="reasoning")
    return {key: reasoning[key] for key in ("effort",) if reasoning.get(key) is not None}


def chat_fields(data: dict) -> dict:
    """The validated Responses request as the arguments of gateway.services.response_create."""
    extra: dict[str, Any] = {}
    if "tools" in data:
        extra["tools"] = chat_tools(data["tools"])
    if "tool_choice" in data:
        extra["tool_choice"] = chat_tool_choice(data["tool_choice"])
    if "parallel_tool_calls" in data:
        extra["parallel_tool_calls"] = data["parallel_tool_calls"]
    if "text" in data:
        response_format = chat_response_format(data["text"])
        if response_format is not None:
            extra["response_format"] = response_format
    if "reasoning" in data and data["reasoning"] is not None:
        reasoning = chat_reasoning(data["reasoning"])
        if reasoning:
            extra["reasoning"] = reasoning
    if "user" in data:
        extra["user"] = data["user"]
    return dict(
        model=data["model"],
        messages=input_messages(data["input"]),
        instructions=data["instructions"] or None,
        previous_response_id=data["previous_response_id"],
        max_tokens=data["max_output_tokens"],
        temperature=data["temperature"],
        top_p=data["top_p"],
        extra=extra,
    )


# ------------------------------------------------------------------ answer


def _message_item(row: Generation, text: str, *, status: str = "completed") -> dict:
    content = {"type": "output_text", "text": text, "annotations": [], "logprobs": []}
    return {
        "type": "message",
        "id": f"msg-studio-{row.pk}",
        "status": status,
        "role": "assistant",
        "content": [content],
    }


def _call_item(row: Generation, index: int, call: dict, *, status: str = "completed") -> dict:
    function = call.get("function") or {}
    return {
        "type": "function_call",
        "id": f"fc-studio-{row.pk}-{index}",
        "call_id": call.get("id") or "",
        "name": function.get("name") or "",
        "arguments": function.get("arguments") or "",
        "status": status,
    }


def output_items(row: Generation) -> list[dict]:
    """A finished row's answer as output items: a message with its text, and a
    function_call item per tool call."""
    calls = (row.params or {}).get("tool_calls") or []
    items = [_message_item(row, row.text)] if row.text or not calls else []
    items += [_call_item(row, index, call) for index, call in enumerate(calls)]
    return items


def response_body(row: Generation, data: dict, *, output: list[dict] | None = None, status: str | None = None) -> dict:
    """The Responses object of a row (``status`` and ``output`` for a stream's first events)."""
    finished = row.status in (Generation.Status.COMPLETED, Generation.Status.PARTIAL)
    incomplete = row.finish_reason == "length"
    if status is None:
        status = "incomplete" if incomplete else "completed"
    text_format = (data.get("text") or {}).get("format") if isinstance(data.get("text"), dict) else None
    usage = None
    if status != "in_progress" and finished:
        usage = {
            "input_tokens": row.prompt_tokens,
            "input_tokens_details": {"cached_tokens": 0},
            "output_tokens": row.completion_tokens,
            "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": row.total_tokens,
        }
    return {
        "id": services.response_id(row.pk),
        "object": "response",
        "created_at": _timestamp(row.created_at),
        "status": status,
        "error": None,
        "incomplete_details": {"reason": "max_output_tokens"} if incomplete and status == "incomplete" else None,
        "instructions": data.get("instructions"),
        "max_output_tokens": data.get("max_output_tokens"),
        "model": row.model_id,
        "output": output_items(row) if output is None else output,
        "parallel_tool_calls": data.get("parallel_tool_calls", True),
        "previous_response_id": data.get("previous_response_id"),
        "reasoning": {"effort": (data.get("reasoning") or {}).get("effort"), "summary": None},
        "store": True,
        "temperature": data.get("temperature"),
        "text": {"format": text_format or {"type": "text"}},
        "tool_choice": data.get("tool_choice", "auto"),
        "tools": data.get("tools") or [],
        "top_p": data.get("top_p"),
        "truncation": "disabled",
        "metadata": data.get("metadata") or {},
        "user": data.get("user"),
        "usage": usage,
    }


class ResponseEvents:
    """The Responses stream of a streamed text answer: ``response.created`` and
    ``.in_progress``, each output item opened (``response.output_item.added``; a message's
    ``content_part.added``) when its first delta comes, ``response.output_text.delta`` or
    ``response.function_call_arguments.delta`` per piece, each item closed (``.done``
    events), then ``response.completed`` (``response.incomplete`` when max_output_tokens
    cut it) with the row's usage. Each event is named by its type and numbered."""

    def __init__(self, stream: generation.TextStream, data: dict) -> None:
        self.stream = stream
        self.data = data
        self.sequence = 0
        self.items: list[dict] = []  # output items in order, as streamed so far
        self.calls: dict[int, dict] = {}  # a tool call's stream index -> its item
        self.open: dict | None = None  # the item deltas now go to

    def event(self, kind: str, **fields: Any) -> str:
        payload = {"type": kind, "sequence_number": self.sequence, **fields}
        self.sequence += 1
        return sse_event(payload, event=kind)

    def opening(self) -> list[str]:
        started = response_body(self.stream.generation, self.data, output=[], status="in_progress")
        return [self.event("response.created", response=started), self.event("response.in_progress", response=started)]

    def _where(self, item: dict) -> dict:
        return {"item_id": item["id"], "output_index": self.items.index(item)}

    def _open(self, item: dict) -> list[str]:
        events = self._close()
        self.items.append(item)
        self.open = item
        shown = {**item, "content": []} if item["type"] == "message" else {**item, "arguments": ""}
        events.append(self.event("response.output_item.added", output_index=len(self.items) - 1, item=shown))
        if item["type"] == "message":
            part = {"type": "output_text", "text": "", "annotations": [], "logprobs": []}
            events.append(self.event("response.content_part.added", **self._where(item), content_index=0, part=part))
        return events

    def _close(self) -> list[str]:
        item, self.open = self.open, None
        if item is None:
            return []
        item["status"] = "completed"
        where = self._where(item)
        if item["type"] == "message":
            part = item["content"][0]
            return [
                self.event("response.output_text.done", **where, content_index=0, text=part["text"], logprobs=[]),
                self.event("response.content_part.done", **where, content_index=0, part=part),
                self.event("response.output_item.done", output_index=where["output_index"], item=item),
            ]
        return [
            self.event(
                "response.function_call_arguments.done", **where, name=item["name"], arguments=item["arguments"]
            ),
            self.event("response.output_item.done", output_index=where["output_index"], item=item),
        ]

    def piece(self, item) -> str:
        events: list[str] = []
        row = self.stream.generation
        if item.text:
            if self.open is None or self.open["type"] != "message":
                events += self._open(_message_item(row, "", status="in_progress"))
            assert self.open is not None
            self.open["content"][0]["text"] += item.text
            where = self._where(self.open)
            events.append(
                self.event("response.output_text.delta", **where, content_index=0, delta=item.text, logprobs=[])
            )
        for delta in item.tool_calls:
            index = delta.get("index", 0)
            function = delta.get("function") or {}
            call = self.calls.get(index)
            if call is None:
                opened = {"id": delta.get("id"), "function": {"name": function.get("name")}}
                call = _call_item(row, len(self.calls), opened, status="in_progress")
                self.calls[index] = call
                events += self._open(call)
            pieces = function.get("arguments") or ""
            if pieces:
                call["arguments"] += pieces
                events.append(self.event("response.function_call_arguments.delta", **self._where(call), delta=pieces))
        return "".join(events)

    def failure(self, exc: Exception) -> str | None:
        described = describe(exc)
        if described is None:
            return None
        _status, message, param, code = described
        return self.event("error", code=code, message=message, param=param)

    def closing(self) -> list[str]:
        events = self._close()
        body = response_body(self.stream.generation, self.data)
        body["output"] = self.items if self.items else body["output"]
        final = "response.incomplete" if body["status"] == "incomplete" else "response.completed"
        return [*events, self.event(final, response=body)]

    def __aiter__(self) -> AsyncIterator[str]:
        return relay_text(
            self.stream,
            opening=self.opening(),
            piece=self.piece,
            failure=self.failure,
            closing=self.closing,
            deltas=True,
        ).__aiter__()


class ResponsesApi(OpenAiAsyncView):
    """Create a model response (OpenAI's Responses API), whole or streamed as Responses events."""

    throttle_classes = [GenerationThrottle]

    @extend_schema(
        operation_id="openai_responses_create",
        request=ResponsesIn,
        responses={
            200: OpenApiResponse(
                description=(
                    "a Responses object; with stream=true a text/event-stream of Responses events from "
                    "response.created to response.completed"
                )
            ),
            404: OpenApiResponse(
                ERRORS[404].response, description="model_not_found, or no such previous_response_id of yours"
            ),
            409: OpenApiResponse(ERRORS[400].response, description="the previous response has not completed"),
            **{code: answer for code, answer in ERRORS.items() if code != 404},
        },
    )
    async def post(self, request):
        if isinstance(request.data, dict):
            unknown = sorted(set(request.data) - set(ResponsesIn().fields) - {"include"})
            if unknown:
                raise InvalidInput(f"{unknown[0]} is not a parameter of responses here.", field=unknown[0])
        body = ResponsesIn(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        answer = await services.response_create(
            user=request.user, api_key=request_api_key(request), stream=data["stream"], **chat_fields(data)
        )
        if data["stream"]:
            return event_stream_response(ResponseEvents(answer, data))
        return Response(response_body(answer, data))
