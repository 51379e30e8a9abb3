"""``POST /responses`` of the double: OpenAI's Responses API, whole or streamed.

The request's ``input`` (a string, or message / ``function_call`` /
``function_call_output`` items with ``input_text`` and ``input_image`` parts),
``instructions``, function ``tools``, ``tool_choice``, ``text.format`` and
``reasoning`` are turned into a chat completion's and answered as the chat endpoint
answers them (answers.plan), then given back as Responses output items: a ``reasoning``
item, a ``message`` with ``output_text``, or ``function_call`` items. Streamed, the
events are OpenAI's: ``response.created``, ``response.in_progress``,
``response.output_item.added``, ``response.content_part.added``,
``response.output_text.delta`` / ``.done``, ``response.function_call_arguments.delta`` /
``.done``, ``response.reasoning_summary_*``, ``response.output_item.done``,
``response.completed`` (``response.incomplete`` when ``max_output_tokens`` cut it).
Stateless, as OpenRouter's is: ``previous_response_id`` is refused; send the history.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from . import answers, media
from .chat import answer_usage
from .faults import STREAM_ERROR_AFTER
from .replies import BadRequest, Reply, json_reply, lookup, require_object

if TYPE_CHECKING:
    from .handler import Handler

TEXT_PIECE_EVENTS = 1


def responses(req: Handler, body: Any, fault: str | None) -> Reply:
    body = require_object(body)
    model_id, model = lookup(body.get("model"), "text")
    if "text" not in model.outputs:
        raise BadRequest(f"{model_id} does not produce text.")
    if body.get("previous_response_id") is not None:
        raise BadRequest("previous_response_id is not supported: the API is stateless; send the whole conversation.")
    messages = _messages(body.get("input"), body.get("instructions"))
    images = media.user_image_urls(messages)
    if images and "image" not in model.inputs:
        raise BadRequest(f"No endpoints found that support image input for {model_id}.")
    answers.check_messages(messages)
    answer = answers.plan(_chat_body(body), model_id, model.supported_parameters, messages)
    if images and not (answer.tool_calls or answer.structured):
        answer.pieces += media.words_of(f" I see {len(images)} image{'s' if len(images) != 1 else ''}.")
    limit = body.get("max_output_tokens")
    incomplete = isinstance(limit, int) and 0 < limit < len(answer.pieces)
    if incomplete:
        answer.pieces = answer.pieces[:limit]
    usage = answer_usage(req, model, messages, answer)
    response = _response(body, model_id, answer, usage, incomplete)
    if body.get("stream"):
        return Reply(
            200,
            _events(req, response, answer, fault),
            content_type="text/event-stream",
            headers={"Cache-Control": "no-cache"},
        )
    return json_reply(200, response)


# ------------------------------------------------------------------ request


def _messages(value: Any, instructions: Any) -> list[dict]:
    """The input as chat messages (instructions first, as a system message)."""
    messages: list[dict] = []
    if instructions is not None:
        if not isinstance(instructions, str):
            raise BadRequest("instructions must be a string.")
        messages.append({"role": "system", "content": instructions})
    if isinstance(value, str):
        if not value.strip():
            raise BadRequest("input must not be empty.")
        return [*messages, {"role": "user", "content": value}]
    if not isinstance(value, list) or not value:
        raise BadRequest("input must be a string or a non-empty list of items.")
    for index, item in enumerate(value):
        if not isinstance(item, dict):
            raise BadRequest(f"input[{index}] must be an object.")
        kind = item.get("type", "message")
        if kind == "message":
            messages.append(_message(item, index))
        elif kind == "function_call":
            call = {"id": item.get("call_id"), "type": "function"}
            call["function"] = {"name": item.get("name"), "arguments": item.get("arguments", "")}
            if not isinstance(call["id"], str) or not isinstance(item.get("name"), str):
                raise BadRequest(f"input[{index}]: a function_call needs call_id and name.")
            if messages and messages[-1]["role"] == "assistant" and messages[-1].get("tool_calls"):
                messages[-1]["tool_calls"].append(call)
            else:
                messages.append({"role": "assistant", "content": None, "tool_calls": [call]})
        elif kind == "function_call_output":
            output = item.get("output")
            if not isinstance(item.get("call_id"), str) or not isinstance(output, (str, list)):
                raise BadRequest(f"input[{index}]: a function_call_output needs call_id and output.")
            messages.append({"role": "tool", "tool_call_id": item["call_id"], "content": output})
        elif kind == "reasoning":
            continue  # an earlier answer's reasoning, sent back: nothing to read in it
        else:
            raise BadRequest(f"input[{index}].type {kind!r} is not supported.")
    return messages


def _message(item: dict, index: int) -> dict:
    role = item.get("role")
    if role not in ("user", "system", "developer", "assistant"):
        raise BadRequest(f"input[{index}].role must be user, system, developer or assistant.")
    content = item.get("content")
    if isinstance(content, str):
        return {"role": role, "content": content}
    if not isinstance(content, list):
        raise BadRequest(f"input[{index}].content must be a string or a list of parts.")
    parts: list[dict] = []
    for part in content:
        kind = part.get("type") if isinstance(part, dict) else None
        if kind in ("input_text", "output_text") and isinstance(part.get("text"), str):
            parts.append({"type": "text", "text": part["text"]})
        elif kind == "input_image" and role == "user" and isinstance(part.get("image_url"), str):
            parts.append({"type": "image_url", "image_url": {"url": part["image_url"]}})
        else:
            raise BadRequest(f"input[{index}].content parts must be input_text, input_image (user) or output_text.")
    return {"role": role, "content": parts}


def _chat_body(body: dict) -> dict:
    """The request's tools, tool choice, format and reasoning as a chat completion's."""
    chat: dict[str, Any] = {k: body[k] for k in ("parallel_tool_calls", "provider") if k in body}
    tools = body.get("tools")
    if tools is not None:
        if not isinstance(tools, list):
            raise BadRequest("tools must be a list.")
        chat["tools"] = []
        for index, tool in enumerate(tools):
            if not isinstance(tool, dict) or tool.get("type") != "function":
                raise BadRequest(f"tools[{index}]: only function tools are supported.")
            function = {k: tool[k] for k in ("name", "description", "parameters", "strict") if k in tool}
            chat["tools"].append({"type": "function", "function": function})
    choice = body.get("tool_choice")
    if isinstance(choice, dict) and choice.get("type") == "function":
        choice = {"type": "function", "function": {"name": choice.get("name")}}
    if choice is not None:
        chat["tool_choice"] = choice
    text_format = (body.get("text") or {}).get("format") if isinstance(body.get("text"), dict) else None
    if isinstance(text_format, dict) and text_format.get("type") == "json_schema":
        spec = {k: text_format[k] for k in ("name", "schema", "strict") if k in text_format}
        chat["response_format"] = {"type": "json_schema", "json_schema": spec}
    elif text_format is not None:
        chat["response_format"] = text_format
    if body.get("reasoning") is not None:
        chat["reasoning"] = body["reasoning"]
    return chat


# ------------------------------------------------------------------ answer


def _id(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex}"


def _output(answer: answers.Answer, incomplete: bool) -> list[dict]:
    items: list[dict] = []
    if answer.reasoning is not None:
        summary = [{"type": "summary_text", "text": answer.reasoning}]
        items.append({"type": "reasoning", "id": _id("rs"), "summary": summary})
    for call in answer.tool_calls:
        items.append(
            {
                "type": "function_call",
                "id": _id("fc"),
                "call_id": call["id"],
                "name": call["function"]["name"],
                "arguments": call["function"]["arguments"],
                "status": "completed",
            }
        )
    if not answer.tool_calls:
        text = {"type": "output_text", "text": answer.text, "annotations": [], "logprobs": []}
        items.append(
            {
                "type": "message",
                "id": _id("msg"),
                "status": "incomplete" if incomplete else "completed",
                "role": "assistant",
                "content": [text],
            }
        )
    return items


def _response(body: dict, model_id: str, answer: answers.Answer, usage: dict, incomplete: bool) -> dict:
    text_format = (body.get("text") or {}).get("format") if isinstance(body.get("text"), dict) else None
    return {
        "id": _id("resp"),
        "object": "response",
        "created_at": int(time.time()),
        "status": "incomplete" if incomplete else "completed",
        "error": None,
        "incomplete_details": {"reason": "max_output_tokens"} if incomplete else None,
        "instructions": body.get("instructions"),
        "max_output_tokens": body.get("max_output_tokens"),
        "model": model_id,
        "output": _output(answer, incomplete),
        "parallel_tool_calls": body.get("parallel_tool_calls", True),
        "previous_response_id": None,
        "reasoning": body.get("reasoning") or {"effort": None, "summary": None},
        "temperature": body.get("temperature"),
        "text": {"format": text_format or {"type": "text"}},
        "tool_choice": body.get("tool_choice", "auto"),
        "tools": body.get("tools") or [],
        "top_p": body.get("top_p"),
        "metadata": body.get("metadata") or {},
        "usage": {
            "input_tokens": usage["prompt_tokens"],
            "input_tokens_details": {"cached_tokens": 0},
            "output_tokens": usage["completion_tokens"],
            "output_tokens_details": {"reasoning_tokens": answer.reasoning_tokens},
            "total_tokens": usage["total_tokens"],
            "cost": usage["cost"],
        },
    }


def _events(req: Handler, response: dict, answer: answers.Answer, fault: str | None) -> Iterator[bytes]:
    """The Responses stream: each event a ``event: <type>`` line and its JSON data."""
    sequence = iter(range(1_000_000))

    def event(kind: str, **data: Any) -> bytes:
        payload = {"type": kind, "sequence_number": next(sequence), **data}
        return f"event: {kind}\ndata: {json.dumps(payload)}\n\n".encode()

    started = {**response, "status": "in_progress", "output": [], "usage": None, "incomplete_details": None}
    yield event("response.created", response=started)
    yield event("response.in_progress", response=started)
    deltas = 0
    for output_index, item in enumerate(response["output"]):
        if item["type"] == "message":
            opened = {**item, "status": "in_progress", "content": []}
        elif item["type"] == "function_call":
            opened = {**item, "status": "in_progress", "arguments": ""}
        else:
            opened = {**item, "summary": []}
        yield event("response.output_item.added", output_index=output_index, item=opened)
        where = {"item_id": item["id"], "output_index": output_index}
        if item["type"] == "reasoning":
            text = item["summary"][0]["text"]
            yield event(
                "response.reasoning_summary_part.added",
                **where,
                summary_index=0,
                part={"type": "summary_text", "text": ""},
            )
            for piece in media.words_of(text):
                yield event("response.reasoning_summary_text.delta", **where, summary_index=0, delta=piece)
            yield event("response.reasoning_summary_text.done", **where, summary_index=0, text=text)
            yield event("response.reasoning_summary_part.done", **where, summary_index=0, part=item["summary"][0])
        elif item["type"] == "function_call":
            arguments = item["arguments"]
            for start in range(0, len(arguments), 12):
                yield event("response.function_call_arguments.delta", **where, delta=arguments[start : start + 12])
            yield event("response.function_call_arguments.done", **where, name=item["name"], arguments=arguments)
        else:
            part = item["content"][0]
            yield event("response.content_part.added", **where, content_index=0, part={**part, "text": ""})
            for piece in answer.pieces:
                if fault == "stream_error" and deltas == STREAM_ERROR_AFTER:
                    yield event(
                        "error", code="server_error", message="The upstream provider failed mid-stream.", param=None
                    )
                    return
                req.fake.wait(req.fake.stream_delay)
                deltas += 1
                yield event("response.output_text.delta", **where, content_index=0, delta=piece, logprobs=[])
            yield event("response.output_text.done", **where, content_index=0, text=part["text"], logprobs=[])
            yield event("response.content_part.done", **where, content_index=0, part=part)
        yield event("response.output_item.done", output_index=output_index, item=item)
    final = "response.incomplete" if response["status"] == "incomplete" else "response.completed"
    yield event(final, response=response)
