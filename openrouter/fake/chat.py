"""``POST /chat/completions`` of the double: text (whole or streamed) and chat-route images."""

from __future__ import annotations

import base64
import io
import json
import time
import uuid
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from . import answers, media
from .catalogue import LONG_STREAM_MODEL, FakeModel
from .faults import STREAM_ERROR_AFTER, body_model_options
from .replies import BadRequest, Reply, check_listed, data_url_bytes, json_reply, lookup, require_object

if TYPE_CHECKING:
    from .handler import Handler

# Prompt tokens the double counts for each image sent.
IMAGE_TOKENS = 85
# Characters of a tool call's arguments per streamed delta.
ARGUMENT_PIECE = 12


def chat(req: Handler, body: Any, fault: str | None) -> Reply:
    body = require_object(body)
    model_id, model = lookup(body.get("model"), "chat-image" if _wants_image(body) else "text")
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise BadRequest("messages must be a non-empty list.")
    if _wants_image(body):
        return chat_image(req, body, model_id, model)
    if "text" not in model.outputs:
        raise BadRequest(f"{model_id} does not produce text; use its own endpoint.")
    images = media.user_image_urls(messages)
    if images and "image" not in model.inputs:
        raise BadRequest(f"No endpoints found that support image input for {model_id}.")
    answers.check_messages(messages)
    answer = answers.plan(body, model_id, model.supported_parameters, messages)
    interval = req.fake.stream_delay
    if model_id == LONG_STREAM_MODEL:
        answer.pieces, interval = _long_stream_pieces(req, body)
    elif images and not (answer.tool_calls or answer.structured):
        # Says what it saw, so a test can tell the images arrived whole.
        seen = "; ".join(_describe_image(url) for url in images)
        answer.pieces += media.words_of(f" I see {len(images)} image{'s' if len(images) != 1 else ''}: {seen}.")
    max_tokens = body.get("max_tokens")
    if isinstance(max_tokens, int) and 0 < max_tokens < len(answer.pieces):
        answer.pieces, answer.finish_reason = answer.pieces[:max_tokens], "length"
        answer.pieces[-1] = answer.pieces[-1].rstrip(" ")
    usage = answer_usage(req, model, messages, answer)
    completion_id = f"gen-{uuid.uuid4().hex[:20]}"
    if body.get("stream"):
        return Reply(
            200,
            _stream(req, completion_id, model_id, answer, usage, fault, interval),
            content_type="text/event-stream",
            headers={"Cache-Control": "no-cache"},
        )
    if fault == "stream_error":
        return json_reply(200, {"error": {"code": 502, "message": "The upstream provider failed."}})
    return json_reply(
        200,
        {
            "id": completion_id,
            "object": "chat.completion",
            "created": int(time.time()),
            "model": model_id,
            "provider": "Fake",
            "choices": [
                {
                    "index": 0,
                    "message": answer.message(),
                    "logprobs": answer.logprobs(),
                    "finish_reason": answer.finish_reason,
                    "native_finish_reason": answer.finish_reason,
                }
            ],
            "usage": usage,
        },
    )


def _long_stream_pieces(req: Handler, body: dict) -> tuple[list[str], float]:
    """``fake/long-stream``'s pieces and the seconds between them."""
    options = body_model_options(body)
    count = req.headers.get("X-Fake-Stream-Pieces") or options.get("pieces") or req.fake.stream_pieces
    interval = req.headers.get("X-Fake-Stream-Interval") or options.get("interval") or req.fake.stream_interval
    try:
        count, interval = int(count), float(interval)
    except ValueError as exc:
        raise BadRequest("pieces must be an integer and interval a number of seconds.") from exc
    if count < 1 or interval < 0:
        raise BadRequest("pieces must be at least 1 and interval not negative.")
    pieces = [f"word{i} " for i in range(1, count + 1)]
    pieces[-1] = pieces[-1].rstrip(" ")
    return pieces, interval


def text_usage(
    req: Handler, model: FakeModel, messages: list, text: str, *, extra_prompt_tokens: int = 0
) -> dict[str, Any]:
    """Tokens (words) and cost of an answer; the cost is added to the key's spend."""
    prompt_tokens = (
        sum(
            media.count_tokens(m["content"])
            for m in messages
            if isinstance(m, dict) and isinstance(m.get("content"), str)
        )
        + IMAGE_TOKENS * len(media.user_image_urls(messages))
        + extra_prompt_tokens
    )
    completion_tokens = media.count_tokens(text)
    cost = prompt_tokens * model.price("prompt") + completion_tokens * model.price("completion")
    req.fake.add_cost(cost)
    return {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
        "cost": round(cost, 10),
    }


def answer_usage(req: Handler, model: FakeModel, messages: list, answer: answers.Answer) -> dict:
    """As :func:`text_usage`, counting the tool calls' names and arguments and the
    reasoning as completion tokens, with OpenAI's token details."""
    produced = answer.text + " ".join(
        f" {call['function']['name']} {call['function']['arguments']}" for call in answer.tool_calls
    )
    usage = text_usage(req, model, messages, produced, extra_prompt_tokens=answer.extra_prompt_tokens)
    if answer.reasoning_tokens:
        extra = answer.reasoning_tokens * model.price("completion")
        req.fake.add_cost(extra)
        usage["completion_tokens"] += answer.reasoning_tokens
        usage["total_tokens"] += answer.reasoning_tokens
        usage["cost"] = round(usage["cost"] + extra, 10)
    usage["prompt_tokens_details"] = {"cached_tokens": 0}
    usage["completion_tokens_details"] = {"reasoning_tokens": answer.reasoning_tokens}
    return usage


def _deltas(answer: answers.Answer) -> Iterator[dict]:
    """The streamed choice updates of an answer, as OpenAI sends them: reasoning pieces,
    then content pieces (each with its logprobs), or each tool call's id and name first
    and then its arguments in pieces."""
    for piece in media.words_of(answer.reasoning) if answer.reasoning else []:
        yield {"delta": {"role": "assistant", "content": "", "reasoning": piece}}
    for index, call in enumerate(answer.tool_calls):
        head = {"index": index, "id": call["id"], "type": "function"}
        yield {
            "delta": {
                "role": "assistant",
                "content": None,
                "tool_calls": [{**head, "function": {"name": call["function"]["name"], "arguments": ""}}],
            }
        }
        arguments = call["function"]["arguments"]
        for start in range(0, len(arguments), ARGUMENT_PIECE):
            piece = arguments[start : start + ARGUMENT_PIECE]
            yield {"delta": {"tool_calls": [{"index": index, "function": {"arguments": piece}}]}}
    for piece in answer.pieces:
        choice: dict[str, Any] = {"delta": {"role": "assistant", "content": piece}}
        if answer.top_logprobs is not None:
            choice["logprobs"] = {"content": [answers.logprob_entry(piece, answer.top_logprobs)], "refusal": None}
        yield choice


def _stream(
    req: Handler,
    completion_id: str,
    model_id: str,
    answer: answers.Answer,
    usage: dict,
    fault: str | None,
    interval: float,
) -> Iterator[bytes]:
    def event(choice: dict, **extra: Any) -> bytes:
        chunk = {
            "id": completion_id,
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": model_id,
            "provider": "Fake",
            "choices": [choice],
            **extra,
        }
        return f"data: {json.dumps(chunk)}\n\n".encode()

    yield b": OPENROUTER PROCESSING\n\n"
    for index, update in enumerate(_deltas(answer)):
        if fault == "stream_error" and index == STREAM_ERROR_AFTER:
            yield event(
                {"index": 0, "delta": {"content": ""}, "finish_reason": "error"},
                error={"code": 502, "message": "The upstream provider failed mid-stream."},
            )
            yield b"data: [DONE]\n\n"
            return
        if index and index % 4 == 0:
            yield b": OPENROUTER PROCESSING\n\n"
        req.fake.wait(interval)
        yield event({"index": 0, **update, "finish_reason": None})
    yield event({"index": 0, "delta": {}, "finish_reason": answer.finish_reason}, usage=usage)
    yield b"data: [DONE]\n\n"


def chat_image(req: Handler, body: dict, model_id: str, model: FakeModel) -> Reply:
    if not model.is_image:
        raise BadRequest(f"{model_id} does not support image output.")
    config = body.get("image_config") or {}
    if not isinstance(config, dict):
        raise BadRequest("image_config must be an object.")
    aspect_ratio, image_size = config.get("aspect_ratio"), config.get("image_size")
    check_listed(model_id, "aspect_ratio", aspect_ratio, model.aspect_ratios)
    check_listed(model_id, "image_size", image_size, model.image_sizes)
    prompt = media.last_user_text(body["messages"])
    source = media.last_user_image(body["messages"])
    if source is not None:
        if "image" not in model.inputs:
            raise BadRequest(f"{model_id} does not take image input.")
        size = media.chat_image_dimensions(aspect_ratio, image_size) if (aspect_ratio or image_size) else None
        try:
            png = media.edited_png_bytes(data_url_bytes(source), prompt, size)
        except OSError as exc:  # PIL: not an image it can read
            raise BadRequest("image_url does not hold an image the model can read.") from exc
    else:
        width, height = media.chat_image_dimensions(aspect_ratio, image_size)
        png = media.png_bytes(width, height, prompt, 0)
    url = "data:image/png;base64," + base64.b64encode(png).decode("ascii")
    usage = text_usage(req, model, body["messages"], "")
    usage["completion_tokens"] = 1290
    usage["total_tokens"] = usage["prompt_tokens"] + 1290
    usage["cost"] = round(usage["cost"] + model.price("image"), 10)
    req.fake.add_cost(model.price("image"))
    return json_reply(
        200,
        {
            "id": f"gen-{uuid.uuid4().hex[:20]}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": model_id,
            "choices": [
                {
                    "index": 0,
                    "message": {
                        "role": "assistant",
                        "content": f"Here is an image of: {prompt[:80]}",
                        "images": [{"type": "image_url", "image_url": {"url": url}}],
                    },
                    "finish_reason": "stop",
                }
            ],
            "usage": usage,
        },
    )


def _describe_image(url: str) -> str:
    """``PNG 64x64`` for a data URL (read, so a broken one is a 400), else the URL itself."""
    if not url.startswith("data:"):
        return url
    from PIL import Image

    try:
        with Image.open(io.BytesIO(data_url_bytes(url))) as image:
            return f"{image.format} {image.width}x{image.height}"
    except OSError as exc:
        raise BadRequest("image_url does not hold an image the model can read.") from exc


def _wants_image(body: dict) -> bool:
    modalities = body.get("modalities")
    return isinstance(modalities, list) and "image" in modalities
