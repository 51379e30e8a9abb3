"""Reading the provider's answers: JSON bodies and event streams -> the dataclasses of
:mod:`openrouter.types`, or typed errors. No I/O: both clients feed these the bytes."""

from __future__ import annotations

import base64
import binascii
import io
import json
from typing import Any
from urllib.parse import urlsplit

from .errors import (
    ProviderError,
    ProviderImageTooLarge,
    ProviderMalformedResponse,
    ProviderUnavailable,
    error_from_payload,
)
from .numbers import int_or_none
from .types import (
    VIDEO_RUNNING,
    VIDEO_TERMINAL,
    ChatResult,
    EmbeddingResult,
    ImageResult,
    KeyInfo,
    ProviderImage,
    StreamEnd,
    StreamPiece,
    Usage,
    VideoJobStatus,
    VideoSubmission,
)

# An image the answer carried inline (decoded) or a URL still to fetch.
ImageSource = ProviderImage | str
# The largest image we take from the provider, checked on the header before any pixel is
# decoded (as core.images does for uploads): a small file can claim a huge canvas.
MAX_IMAGE_PIXELS = 50_000_000


def json_object(content: bytes, *, error_means_failure: bool = True) -> dict[str, Any]:
    """A 2xx answer's JSON object. With ``error_means_failure``, an answer holding only an
    ``error`` object (some failures arrive with HTTP 200) raises that error."""
    try:
        payload = json.loads(content)
    except ValueError as exc:
        raise ProviderMalformedResponse("The provider's answer is not valid JSON.") from exc
    if not isinstance(payload, dict):
        raise ProviderMalformedResponse("The provider's answer is not a JSON object.")
    if (
        error_means_failure
        and isinstance(payload.get("error"), dict)
        and "choices" not in payload
        and "data" not in payload
    ):
        raise error_from_payload(None, payload)
    return payload


def first_choice(payload: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
    """The first choice's message and finish reason; an error inside the choice is raised."""
    choices = payload.get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        raise ProviderMalformedResponse("The provider's answer has no choices.")
    if isinstance(choices[0].get("error"), dict):
        # The provider failed after accepting the request; the choice says why.
        raise error_from_payload(None, {"error": choices[0]["error"]})
    if choices[0].get("finish_reason") == "error":
        raise ProviderUnavailable("The provider failed while generating the answer.", code="error")
    message = choices[0].get("message")
    if not isinstance(message, dict):
        raise ProviderMalformedResponse("The provider's answer has no message.")
    return message, choices[0].get("finish_reason")


def message_text(message: dict[str, Any]) -> str:
    content = message.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        # Content parts: keep the text ones.
        return "".join(str(part.get("text", "")) for part in content if isinstance(part, dict))
    return ""


def usage(raw: Any) -> Usage:
    if not isinstance(raw, dict):
        return Usage()
    prompt = _int(raw.get("prompt_tokens"))
    completion = _int(raw.get("completion_tokens"))
    total = _int(raw.get("total_tokens")) or prompt + completion
    return Usage(
        prompt_tokens=prompt, completion_tokens=completion, total_tokens=total, cost=_float_or_none(raw.get("cost"))
    )


def chat_result(payload: dict[str, Any], model: str) -> ChatResult:
    message, finish_reason = first_choice(payload)
    logprobs = payload["choices"][0].get("logprobs")
    return ChatResult(
        id=str(payload.get("id") or ""),
        model=str(payload.get("model") or model),
        text=message_text(message),
        usage=usage(payload.get("usage")),
        finish_reason=finish_reason,
        tool_calls=tool_calls(message.get("tool_calls")),
        logprobs=logprobs if isinstance(logprobs, dict) else None,
    )


def embeddings_result(payload: dict[str, Any], model: str, *, inputs: int) -> EmbeddingResult:
    """``POST /embeddings``' answer: one vector per input (``inputs`` of them), put in
    input order by their ``index``."""
    data = payload.get("data")
    if not isinstance(data, list) or len(data) != inputs:
        raise ProviderMalformedResponse(f"The provider's embeddings answer does not hold {inputs} vectors.")
    by_index: dict[int, list[float] | str] = {}
    for position, item in enumerate(data):
        if not isinstance(item, dict):
            raise ProviderMalformedResponse("An embedding in the provider's answer is not an object.")
        index = item.get("index", position)
        vector = item.get("embedding")
        numbers = isinstance(vector, list) and all(
            isinstance(v, (int, float)) and not isinstance(v, bool) for v in vector
        )
        if not isinstance(index, int) or not 0 <= index < inputs or index in by_index:
            raise ProviderMalformedResponse("The provider's embeddings answer has a wrong or repeated index.")
        if not (numbers or isinstance(vector, str)) or not vector:
            raise ProviderMalformedResponse("An embedding in the provider's answer is not a vector.")
        by_index[index] = vector  # a list of numbers, or base64 text
    return EmbeddingResult(
        id=str(payload.get("id") or ""),
        model=str(payload.get("model") or model),
        vectors=tuple(by_index[index] for index in range(inputs)),
        usage=usage(payload.get("usage")),
    )


def tool_calls(raw: Any) -> tuple[dict[str, Any], ...]:
    """A message's tool calls in OpenAI's shape: {id, type: function, function: {name,
    arguments (a JSON string)}}."""
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise ProviderMalformedResponse("The provider's tool_calls is not a list.")
    calls = []
    for call in raw:
        function = call.get("function") if isinstance(call, dict) else None
        if not isinstance(function, dict) or not isinstance(function.get("name"), str):
            raise ProviderMalformedResponse("A tool call has no function name.")
        arguments = function.get("arguments")
        if not isinstance(arguments, str):
            arguments = json.dumps(arguments if arguments is not None else {})
        calls.append(
            {
                "id": str(call.get("id") or ""),
                "type": "function",
                "function": {"name": function["name"], "arguments": arguments},
            }
        )
    return tuple(calls)


def tool_call_deltas(raw: Any) -> tuple[dict[str, Any], ...]:
    """A stream delta's tool-call pieces in OpenAI's shape: each with its index, and the
    id, type and function name on its first piece, then pieces of the arguments."""
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise ProviderMalformedResponse("A streamed tool_calls is not a list.")
    deltas = []
    for position, piece in enumerate(raw):
        if not isinstance(piece, dict):
            raise ProviderMalformedResponse("A streamed tool call is not an object.")
        index = piece.get("index", position)
        if isinstance(index, bool) or not isinstance(index, int) or index < 0:
            raise ProviderMalformedResponse("A streamed tool call has no index.")
        delta: dict[str, Any] = {"index": index}
        if piece.get("id"):
            delta["id"] = str(piece["id"])
            delta["type"] = "function"
        function = piece.get("function")
        if not isinstance(function, dict):
            function = {}
        shaped = {key: function[key] for key in ("name", "arguments") if isinstance(function.get(key), str)}
        if shaped:
            delta["function"] = shaped
        deltas.append(delta)
    return tuple(deltas)


# ------------------------------------------------------------------ images


def chat_image_answer(payload: dict[str, Any]) -> tuple[list[ImageSource], Usage, str]:
    """One chat-route image answer: its images, usage and accompanying text."""
    message, _finish = first_choice(payload)
    entries = message.get("images") or []
    if not isinstance(entries, list) or not entries:
        raise ProviderMalformedResponse("The provider answered without an image.")
    sources = [image_source(_image_entry_url(entry)) for entry in entries]
    return sources, usage(payload.get("usage")), message_text(message)


def combined_chat_images(model: str, answers: list[tuple[list[ProviderImage], Usage, str]]) -> ImageResult:
    """One result from the chat route's per-image answers: images in order, usage summed."""
    images: list[ProviderImage] = []
    total = Usage()
    texts: list[str] = []
    for answer_images, answer_usage, text in answers:
        images.extend(answer_images)
        total = total + answer_usage
        if text:
            texts.append(text)
    return ImageResult(model=model, route="chat", images=images, usage=total, text="\n".join(texts))


def images_answer(payload: dict[str, Any]) -> tuple[list[ImageSource], Usage]:
    """The images endpoint's answer: its images and usage."""
    data = payload.get("data")
    if not isinstance(data, list) or not data:
        raise ProviderMalformedResponse("The images endpoint answered without images.")
    return [_image_item(item) for item in data], usage(payload.get("usage"))


def image_source(url: Any) -> ImageSource:
    """A data URL decoded into an image, or an http(s) URL left to fetch."""
    if not isinstance(url, str) or not url:
        raise ProviderMalformedResponse("An image entry has no URL.")
    if url.startswith("data:"):
        media_type, data = _decode_data_url(url)
        return provider_image(data, media_type)
    if urlsplit(url).scheme not in ("http", "https"):
        raise ProviderMalformedResponse("An image URL is neither a data URL nor http(s).")
    return url


def provider_image(data: bytes, media_type: str | None) -> ProviderImage:
    """Bytes checked to be an image, with their pixel size read from them."""
    from PIL import Image, UnidentifiedImageError

    too_large = ProviderImageTooLarge(
        f"The provider sent an image too large to keep ({MAX_IMAGE_PIXELS // 1_000_000} megapixels at most)."
    )
    try:
        # Opening reads the header only; Pillow refuses (past twice its MAX_IMAGE_PIXELS) or
        # warns about (past it) a huge canvas, and we stop at our own, lower limit.
        with Image.open(io.BytesIO(data)) as image:
            width, height = image.size
            detected = Image.MIME.get(image.format or "")
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise too_large from exc
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
        raise ProviderMalformedResponse("The provider sent image bytes that are not an image.") from exc
    if width * height > MAX_IMAGE_PIXELS:
        raise too_large
    if not media_type or not media_type.startswith("image/"):
        media_type = detected or "application/octet-stream"
    return ProviderImage(data=data, media_type=media_type, width=width, height=height)


def _image_item(item: Any) -> ImageSource:
    if not isinstance(item, dict):
        raise ProviderMalformedResponse("An image entry is not an object.")
    if item.get("b64_json"):
        return provider_image(_b64decode(item["b64_json"]), item.get("media_type"))
    if item.get("url"):
        return image_source(item["url"])
    raise ProviderMalformedResponse("An image entry has neither b64_json nor url.")


def _image_entry_url(entry: Any) -> Any:
    if isinstance(entry, dict):
        image_url = entry.get("image_url")
        if isinstance(image_url, dict):
            return image_url.get("url")
        return image_url or entry.get("url")
    return entry


def _decode_data_url(url: str) -> tuple[str, bytes]:
    header, _, data = url.partition(",")
    if ";base64" not in header:
        raise ProviderMalformedResponse("An image data URL is not base64-encoded.")
    media_type = header[5:].split(";")[0] or "application/octet-stream"
    return media_type, _b64decode(data)


def _b64decode(data: str) -> bytes:
    try:
        return base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ProviderMalformedResponse("An image is not valid base64.") from exc


# ------------------------------------------------------------------- video


def video_submission(payload: dict[str, Any], base_url: str) -> VideoSubmission:
    job_id = payload.get("id")
    if not isinstance(job_id, str) or not job_id:
        raise ProviderMalformedResponse("The video submission answer has no job id.")
    polling_url = payload.get("polling_url") or f"{base_url}/videos/{job_id}"
    return VideoSubmission(id=job_id, polling_url=str(polling_url), status=str(payload.get("status") or "pending"))


def video_status(payload: dict[str, Any]) -> VideoJobStatus:
    """One poll. A ``completed`` job without a content URL is reported ``failed``: it is a
    provider fault the job cannot recover from."""
    status = payload.get("status")
    if status not in VIDEO_RUNNING | VIDEO_TERMINAL:
        raise ProviderMalformedResponse(f"Unknown video job status {status!r}.")
    urls = [str(url) for url in payload.get("unsigned_urls") or [] if url]
    error = _error_text(payload.get("error"))
    if status == "completed" and not urls:
        status = "failed"
        error = "The provider reported the video as completed but sent no video URL."
    raw_usage = payload.get("usage")
    job_usage = raw_usage if isinstance(raw_usage, dict) else {}
    return VideoJobStatus(
        id=str(payload.get("id") or ""),
        status=status,
        progress=_progress(payload.get("progress")),
        content_urls=urls,
        error=error,
        cost=_float_or_none(job_usage.get("cost")),
        raw=payload,
    )


def key_info(payload: dict[str, Any]) -> KeyInfo:
    """``GET /key``'s ``{"data": {"label", "usage", "limit", "limit_remaining", ...}}``."""
    data = payload.get("data")
    if not isinstance(data, dict):
        raise ProviderMalformedResponse("The provider's key information has no data object.")
    label = data.get("label")
    return KeyInfo(
        label=label if isinstance(label, str) else "",
        usage=_float_or_none(data.get("usage")),
        limit=_float_or_none(data.get("limit")),
        limit_remaining=_float_or_none(data.get("limit_remaining")),
        is_free_tier=data.get("is_free_tier") is True,
    )


# ------------------------------------------------------------------ stream


class StreamDecoder:
    """Turns the bytes of a chat event stream into StreamPiece items and one StreamEnd.

    ``feed`` returns what a chunk completed, in order; a provider error is returned as
    an item (after the pieces that preceded it) for the client to raise. ``ended``
    is set once ``[DONE]`` (or an error) arrived; ``finish`` is called when the body ends.
    """

    def __init__(self, model: str) -> None:
        self.id = ""
        self.model = model
        self.usage = Usage()
        self.finish_reason: str | None = None
        self.calls: dict[int, dict[str, Any]] = {}  # tool calls put together from their deltas
        self.events = 0
        self.ended = False
        self._buffer = b""

    def feed(self, chunk: bytes) -> list[StreamPiece | StreamEnd | ProviderError]:
        self._buffer += chunk
        *lines, self._buffer = self._buffer.split(b"\n")
        items: list[StreamPiece | StreamEnd | ProviderError] = []
        for line in lines:
            if self.ended:
                break
            data = _sse_data(line)
            if data is None:
                continue
            try:
                item = self._event(data)
            except ProviderError as error:
                items.append(error)
                self.ended = True
                break
            if item is not None:
                items.append(item)
        return items

    def finish(self) -> list[StreamPiece | StreamEnd | ProviderError]:
        """What is left once the body ended: a last line without its newline, and the
        error for a stream that stopped before ``[DONE]``."""
        items = [] if self.ended else self.feed(b"\n")
        if not self.ended:
            if not self.events:
                # Not a single event: the answer isn't an event stream at all.
                items.append(ProviderMalformedResponse("The provider's streamed answer has no events."))
            else:
                items.append(ProviderUnavailable("The stream ended before the provider finished the answer."))
        return items

    def _event(self, data: str) -> StreamPiece | StreamEnd | None:
        self.events += 1
        if data == "[DONE]":
            self.ended = True
            calls = tuple(self.calls[index] for index in sorted(self.calls))
            return StreamEnd(
                id=self.id, model=self.model, usage=self.usage, finish_reason=self.finish_reason, tool_calls=calls
            )
        piece, calls = self._fold(_loads(data, "stream event"))
        return StreamPiece(piece, calls) if piece or calls else None

    def _fold(self, chunk: Any) -> tuple[str, tuple[dict[str, Any], ...]]:
        """Fold one stream chunk into the state; return its text piece (may be empty) and
        its tool-call deltas."""
        if not isinstance(chunk, dict):
            raise ProviderMalformedResponse("A stream event is not a JSON object.")
        if isinstance(chunk.get("error"), dict):
            raise error_from_payload(None, chunk)
        self.id = chunk.get("id") or self.id
        self.model = chunk.get("model") or self.model
        if chunk.get("usage"):
            self.usage = usage(chunk["usage"])
        piece = ""
        deltas: list[dict[str, Any]] = []
        for choice in chunk.get("choices") or []:
            if not isinstance(choice, dict):
                continue
            if choice.get("finish_reason") == "error":
                raise error_from_payload(None, {"error": {"code": 502, "message": "The provider failed mid-stream."}})
            if choice.get("finish_reason"):
                self.finish_reason = choice["finish_reason"]
            delta = choice.get("delta") or {}
            if isinstance(delta, dict) and isinstance(delta.get("content"), str):
                piece += delta["content"]
            if isinstance(delta, dict):
                for call in tool_call_deltas(delta.get("tool_calls")):
                    self._add_call(call)
                    deltas.append(call)
        return piece, tuple(deltas)

    def _add_call(self, delta: dict[str, Any]) -> None:
        call = self.calls.setdefault(
            delta["index"], {"id": "", "type": "function", "function": {"name": "", "arguments": ""}}
        )
        if "id" in delta:
            call["id"] = delta["id"]
        function = delta.get("function", {})
        call["function"]["name"] += function.get("name", "")
        call["function"]["arguments"] += function.get("arguments", "")


def _sse_data(line: bytes) -> str | None:
    text = line.decode("utf-8", errors="replace").rstrip("\r")
    if not text.startswith("data:"):
        return None  # blank separators, ": keep-alive" comments, other fields
    return text[5:].lstrip(" ")


# ----------------------------------------------------------------- helpers


def _loads(text: str, what: str) -> Any:
    try:
        return json.loads(text)
    except ValueError as exc:
        raise ProviderMalformedResponse(f"The provider sent a {what} that is not valid JSON.") from exc


def _int(value: Any) -> int:
    return int_or_none(value) or 0


def _float_or_none(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _progress(value: Any) -> int | None:
    number = _float_or_none(value)
    if number is None:
        return None
    # Some providers report a fraction, others a percentage.
    return int(round(number * 100)) if 0 < number < 1 else int(round(number))


def _error_text(value: Any) -> str | None:
    if not value:
        return None
    if isinstance(value, dict):
        return str(value.get("message") or value.get("code") or json.dumps(value))
    return str(value)
