"""Checks of text and image requests, made before anything is recorded or sent: the
prompt's bounds, the numbers' ranges and what the chosen catalogue model accepts."""

from __future__ import annotations

import base64
import contextvars
import re
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator

from catalogue.models import ProviderModel
from catalogue.selectors import catalogue_entry
from core.errors import InvalidInput, NotFound
from core.images import DecodedImage, decode_image_data_url
from generation.models import GeneratedImage
from generation.selectors import user_image
from openrouter.validation import ParameterNotAccepted, validate_image_params


def clean_prompt(prompt, *, field: str = "prompt", required: bool = True) -> str:
    text = (prompt or "").strip() if isinstance(prompt, str) or prompt is None else None
    if text is None:
        raise InvalidInput("Must be text.", field=field)
    if required and not text:
        raise InvalidInput("This field is required.", field=field)
    limit = settings.GENERATION_PROMPT_MAX_CHARS
    if len(text) > limit:
        raise InvalidInput(f"At most {limit} characters (this has {len(text)}).", field=field)
    return text


@dataclass(frozen=True)
class TextRequest:
    """A validated text request: everything checked before any provider call."""

    model: ProviderModel
    prompt: str
    system: str
    max_tokens: int | None
    temperature: float | None
    # A whole conversation (the /v1/ API): the provider gets these messages, not prompt and
    # system. A message sent with image parts also has "parts": its content as the provider
    # takes it (text and checked image_url parts, in the order sent).
    messages: tuple[dict, ...] = ()
    # Further sampling parameters, checked: top_p, stop, seed.
    options: dict = field(default_factory=dict)
    # What the history records of each image sent (never a data URL's bytes).
    images: tuple[dict, ...] = ()
    # A conversation's turn: the conversation its history row belongs to.
    conversation: Any = None

    @property
    def params(self) -> dict:
        params: dict[str, Any] = {
            key: value
            for key, value in (("max_tokens", self.max_tokens), ("temperature", self.temperature))
            if value is not None
        }
        params.update(self.options)
        earlier = [
            {key: m[key] for key in ("role", "content", "tool_calls", "tool_call_id") if key in m}
            for m in self.messages[:-1]
            if m["role"] != "system"
        ]
        if earlier:
            params["conversation"] = earlier  # the turns before the prompt, for the history
        if self.images:
            params["images"] = list(self.images)
        return params

    def provider_messages(self) -> list[dict]:
        if self.messages:
            return [_provider_message(m) for m in self.messages]
        messages = [{"role": "system", "content": self.system}] if self.system else []
        return messages + [{"role": "user", "content": self.prompt}]


def _provider_message(message: dict) -> dict:
    sent: dict[str, Any] = {
        "role": message["role"],
        "content": list(message["parts"]) if "parts" in message else message["content"],
    }
    if "tool_calls" in message:
        sent["tool_calls"] = message["tool_calls"]
        sent["content"] = sent["content"] or None  # OpenAI's null beside tool calls
    if "tool_call_id" in message:
        sent["tool_call_id"] = message["tool_call_id"]
    return sent


# OpenAI's "developer" messages are system messages (what OpenRouter takes for every model).
MESSAGE_ROLES = ("system", "developer", "user", "assistant", "tool")
MAX_MESSAGES = 100
MAX_STOP_SEQUENCES = 4


MAX_MESSAGE_IMAGES = 8
IMAGE_DETAILS = ("auto", "low", "high")
PARTS_HELP = (
    'parts must be {"type": "text", "text": "..."} or, in user messages, '
    '{"type": "image_url", "image_url": {"url": "https://... or data:image/...;base64,..."}}'
)


def _image_part(part: dict, index: int) -> dict:
    """An image_url part's shape (its URL is checked once the model is known)."""
    image = part.get("image_url")
    if isinstance(image, str):  # some clients send the URL alone
        image = {"url": image}
    if not isinstance(image, dict) or not isinstance(image.get("url"), str) or not image["url"].strip():
        raise InvalidInput(
            f'messages[{index}].content: an image part needs image_url {{"url": "..."}}.', field="messages"
        )
    shaped = {"url": image["url"].strip()}
    if image.get("detail") is not None:
        if image["detail"] not in IMAGE_DETAILS:
            raise InvalidInput(
                f"messages[{index}].content: image_url.detail must be one of {', '.join(IMAGE_DETAILS)}.",
                field="messages",
            )
        shaped["detail"] = image["detail"]
    return {"type": "image_url", "image_url": shaped}


def _message_content(content, index: int, role: str) -> tuple[str, list[dict] | None]:
    """A message's text, and its parts when it has image parts: a string, or a list of text
    parts and (in user messages) image_url parts."""
    if isinstance(content, str):
        return content, None
    if not isinstance(content, list):
        raise InvalidInput(f"messages[{index}].content must be a string or a list of parts.", field="messages")
    texts, parts, images = [], [], 0
    for part in content:
        kind = part.get("type") if isinstance(part, dict) else None
        if kind == "text" and isinstance(part.get("text"), str):
            texts.append(part["text"])
            parts.append({"type": "text", "text": part["text"]})
        elif kind == "image_url" and role == "user":
            parts.append(_image_part(part, index))
            images += 1
        else:
            raise InvalidInput(f"messages[{index}].content: {PARTS_HELP}.", field="messages")
    return "\n".join(texts), (parts if images else None)


def clean_messages(messages) -> tuple[dict, ...]:
    """A conversation of system, user and assistant messages ending with the user's; every
    message within the prompt's bound and the whole within four times that. Image parts
    keep their shape here; :func:`check_message_images` checks them against the model."""
    if not isinstance(messages, (list, tuple)) or not messages:
        raise InvalidInput("Send at least one message.", field="messages")
    if len(messages) > MAX_MESSAGES:
        raise InvalidInput(f"At most {MAX_MESSAGES} messages.", field="messages")
    limit = settings.GENERATION_PROMPT_MAX_CHARS
    cleaned, total, images = [], 0, 0
    called: set[str] = set()
    for index, message in enumerate(messages):
        role = message.get("role") if isinstance(message, dict) else None
        if role not in MESSAGE_ROLES:
            raise InvalidInput(f"messages[{index}].role must be one of {', '.join(MESSAGE_ROLES)}.", field="messages")
        role = "system" if role == "developer" else role
        extra: dict[str, Any] = {}
        calls = message.get("tool_calls")
        if role == "assistant" and calls is not None:
            extra["tool_calls"] = _message_tool_calls(calls, index)
            called.update(call["id"] for call in extra["tool_calls"])
        elif calls is not None:
            raise InvalidInput(f"messages[{index}]: only assistant messages carry tool_calls.", field="messages")
        if role == "tool":
            call_id = message.get("tool_call_id")
            if not isinstance(call_id, str) or call_id not in called:
                raise InvalidInput(
                    f"messages[{index}].tool_call_id must name a tool call of an earlier assistant message.",
                    field="messages",
                )
            extra["tool_call_id"] = call_id
        content = message.get("content")
        if content is None and "tool_calls" in extra:
            content = ""
        text, parts = _message_content(content, index, role)
        if len(text) > limit:
            raise InvalidInput(
                f"messages[{index}]: at most {limit} characters (this has {len(text)}).", field="messages"
            )
        total += len(text)
        cleaned.append({"role": role, "content": text, **({"parts": parts} if parts else {}), **extra})
        images += sum(part["type"] == "image_url" for part in parts or ())
    if total > 4 * limit:
        raise InvalidInput(f"The conversation is too long: at most {4 * limit} characters in all.", field="messages")
    if images > MAX_MESSAGE_IMAGES:
        raise InvalidInput(f"At most {MAX_MESSAGE_IMAGES} images in all (this has {images}).", field="messages")
    last = cleaned[-1]
    if last["role"] not in ("user", "tool") or not (last["content"].strip() or "parts" in last):
        raise InvalidInput(
            "The last message must be the user's (with some text or an image) or a tool's result.", field="messages"
        )
    return tuple(cleaned)


def _message_tool_calls(calls, index: int) -> list[dict]:
    """An assistant message's tool calls, as OpenAI shapes them."""
    where = f"messages[{index}].tool_calls"
    if not isinstance(calls, list) or not calls or len(calls) > MAX_TOOLS:
        raise InvalidInput(f"{where} must be a list of 1 to {MAX_TOOLS} calls.", field="messages")
    shaped = []
    for call in calls:
        function = call.get("function") if isinstance(call, dict) else None
        if (
            not isinstance(function, dict)
            or not isinstance(call.get("id"), str)
            or not call["id"]
            or call.get("type", "function") != "function"
            or not isinstance(function.get("name"), str)
            or not isinstance(function.get("arguments"), str)
        ):
            raise InvalidInput(
                f'{where}: each must be {{"id", "type": "function", "function": {{"name", "arguments"}}}}.',
                field="messages",
            )
        shaped.append(
            {
                "id": call["id"],
                "type": "function",
                "function": {"name": function["name"], "arguments": function["arguments"]},
            }
        )
    return shaped


def _prompt_of(message: dict) -> str:
    """What the history records as the prompt of a conversation's last message: its text,
    or, for a message of images only, how many."""
    if message["content"].strip():
        return message["content"]
    images = sum(part["type"] == "image_url" for part in message.get("parts", ()))
    return f"({images} image{'s' if images != 1 else ''})"


def check_message_images(messages: tuple[dict, ...], *, entry: ProviderModel) -> tuple[tuple[dict, ...], tuple]:
    """The messages with every image part checked, and what the history records of each.
    Only a model whose input modalities include image takes them; a data URL must hold an
    image within GENERATION_SOURCE_IMAGE_MAX_BYTES (sent on re-encoded, as checked), any
    other URL must be https (the provider fetches it, not us)."""
    if not any("parts" in message for message in messages):
        return messages, ()
    if "image" not in (entry.input_modalities or []):
        raise InvalidInput(
            f"{entry.pk} does not take images: send text only, or choose a model whose input includes images.",
            field="messages",
        )
    checked, notes = [], []
    for index, message in enumerate(messages):
        if "parts" not in message:
            checked.append(message)
            continue
        parts = []
        for place, part in enumerate(message["parts"]):
            if part["type"] == "image_url":
                where = f"messages[{index}].content[{place}]"
                try:
                    url, note, _ = checked_image_url(part["image_url"]["url"], field="messages")
                except InvalidInput as exc:
                    raise InvalidInput(f"{where}: {exc.message}", field="messages") from None
                part = {"type": "image_url", "image_url": {**part["image_url"], "url": url}}
                notes.append({"message": index, **note})
            parts.append(part)
        checked.append({**message, "parts": parts})
    return tuple(checked), tuple(notes)


def clean_options(*, top_p=None, stop=None, seed=None) -> dict:
    options: dict[str, Any] = {}
    if top_p is not None:
        if isinstance(top_p, bool) or not isinstance(top_p, (int, float)) or not 0 <= top_p <= 1:
            raise InvalidInput("Must be a number from 0 to 1.", field="top_p")
        options["top_p"] = float(top_p)
    if stop is not None:
        stops = [stop] if isinstance(stop, str) else stop
        if (
            not isinstance(stops, list)
            or len(stops) > MAX_STOP_SEQUENCES
            or not all(isinstance(item, str) and item for item in stops)
        ):
            raise InvalidInput(f"A string or a list of at most {MAX_STOP_SEQUENCES} strings.", field="stop")
        if stops:
            options["stop"] = stops
    if seed is not None:
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise InvalidInput("Must be a whole number.", field="seed")
        options["seed"] = seed
    return options


MAX_TOOLS = 128
TOOL_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
REASONING_EFFORTS = ("none", "minimal", "low", "medium", "high", "xhigh")
# The parameters a /v1/ chat completion may carry beyond the sampling ones: OpenAI's, and
# OpenRouter's own (models, provider, plugins, transforms).
EXTRA_OPTIONS = (
    "tools",
    "tool_choice",
    "parallel_tool_calls",
    "response_format",
    "logprobs",
    "top_logprobs",
    "frequency_penalty",
    "presence_penalty",
    "logit_bias",
    "user",
    "reasoning_effort",
    "reasoning",
    "models",
    "provider",
    "plugins",
    "transforms",
)


def _number(value, name: str, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
        raise InvalidInput(f"Must be a number from {low:g} to {high:g}.", field=name)
    return float(value)


def _flag(value, name: str) -> bool:
    if not isinstance(value, bool):
        raise InvalidInput("Must be true or false.", field=name)
    return value


def _tools(value) -> list[dict]:
    if not isinstance(value, list) or not 1 <= len(value) <= MAX_TOOLS:
        raise InvalidInput(f"A list of 1 to {MAX_TOOLS} tools.", field="tools")
    tools = []
    for index, tool in enumerate(value):
        function = tool.get("function") if isinstance(tool, dict) else None
        if not isinstance(tool, dict) or tool.get("type") != "function" or not isinstance(function, dict):
            raise InvalidInput(f'tools[{index}] must be {{"type": "function", "function": {{...}}}}.', field="tools")
        name = function.get("name")
        if not isinstance(name, str) or not TOOL_NAME.match(name):
            raise InvalidInput(f"tools[{index}].function.name must be 1-64 letters, digits, _ or -.", field="tools")
        shaped: dict[str, Any] = {"name": name}
        for key, kind in (("description", str), ("parameters", dict), ("strict", bool)):
            if function.get(key) is not None:
                if not isinstance(function[key], kind):
                    raise InvalidInput(f"tools[{index}].function.{key} must be a {kind.__name__}.", field="tools")
                shaped[key] = function[key]
        tools.append({"type": "function", "function": shaped})
    return tools


def _tool_choice(value, tools: list | None):
    if value in ("none", "auto", "required"):
        if value == "required" and not tools:
            raise InvalidInput("'required' needs tools.", field="tool_choice")
        return value
    function = value.get("function") if isinstance(value, dict) else None
    name = function.get("name") if isinstance(function, dict) else None
    if not isinstance(value, dict) or value.get("type") != "function" or not isinstance(name, str):
        raise InvalidInput(
            'none, auto, required or {"type": "function", "function": {"name": ...}}.', field="tool_choice"
        )
    if name not in {tool["function"]["name"] for tool in tools or ()}:
        raise InvalidInput(f"{name!r} is not among the tools.", field="tool_choice")
    return {"type": "function", "function": {"name": name}}


def _response_format(value) -> dict:
    kind = value.get("type") if isinstance(value, dict) else None
    if kind in ("text", "json_object"):
        return {"type": kind}
    if kind != "json_schema":
        raise InvalidInput('type must be "text", "json_object" or "json_schema".', field="response_format")
    schema = value.get("json_schema")
    if (
        not isinstance(schema, dict)
        or not isinstance(schema.get("name"), str)
        or not TOOL_NAME.match(schema["name"])
        or not isinstance(schema.get("schema", {}), dict)
        or not isinstance(schema.get("strict", False), (bool, type(None)))
        or not isinstance(schema.get("description", ""), str)
    ):
        raise InvalidInput(
            'json_schema must be {"name": "...", "schema": {...}, "strict": true|false}.', field="response_format"
        )
    keep = {key: schema[key] for key in ("name", "description", "schema", "strict") if schema.get(key) is not None}
    return {"type": "json_schema", "json_schema": keep}


def _reasoning(value) -> dict:
    if not isinstance(value, dict) or not set(value) <= {"effort", "max_tokens", "exclude", "enabled"}:
        raise InvalidInput("An object of effort, max_tokens, exclude and enabled.", field="reasoning")
    if "effort" in value and value["effort"] not in REASONING_EFFORTS:
        raise InvalidInput(f"effort must be one of {', '.join(REASONING_EFFORTS)}.", field="reasoning")
    tokens = value.get("max_tokens")
    if tokens is not None and (isinstance(tokens, bool) or not isinstance(tokens, int) or tokens < 0):
        raise InvalidInput("max_tokens must be a whole number.", field="reasoning")
    for key in ("exclude", "enabled"):
        if key in value:
            _flag(value[key], "reasoning")
    return dict(value)


def _strings(value, name: str, limit: int) -> list[str]:
    if not isinstance(value, list) or len(value) > limit or not all(isinstance(i, str) and i for i in value):
        raise InvalidInput(f"A list of at most {limit} strings.", field=name)
    return list(value)


def _objects(value, name: str, limit: int) -> list[dict]:
    if not isinstance(value, list) or len(value) > limit or not all(isinstance(i, dict) for i in value):
        raise InvalidInput(f"A list of at most {limit} objects.", field=name)
    return list(value)


def clean_extra_options(extra: dict) -> dict:
    """The further chat parameters of a /v1/ request (EXTRA_OPTIONS), checked and shaped
    for the provider; ``reasoning_effort`` becomes OpenRouter's ``reasoning.effort``."""
    extra = {key: value for key, value in extra.items() if value is not None}
    unknown = sorted(set(extra) - set(EXTRA_OPTIONS))
    if unknown:
        raise InvalidInput("Not a parameter of chat completions.", field=unknown[0])
    options: dict[str, Any] = {}
    if "tools" in extra:
        options["tools"] = _tools(extra["tools"])
    if "tool_choice" in extra:
        options["tool_choice"] = _tool_choice(extra["tool_choice"], options.get("tools"))
    if "parallel_tool_calls" in extra:
        options["parallel_tool_calls"] = _flag(extra["parallel_tool_calls"], "parallel_tool_calls")
    if "response_format" in extra:
        options["response_format"] = _response_format(extra["response_format"])
    if "logprobs" in extra:
        options["logprobs"] = _flag(extra["logprobs"], "logprobs")
    if "top_logprobs" in extra:
        top = extra["top_logprobs"]
        if isinstance(top, bool) or not isinstance(top, int) or not 0 <= top <= 20:
            raise InvalidInput("Must be a whole number from 0 to 20.", field="top_logprobs")
        if not options.get("logprobs"):
            raise InvalidInput("top_logprobs needs logprobs: true.", field="top_logprobs")
        options["top_logprobs"] = top
    for name in ("frequency_penalty", "presence_penalty"):
        if name in extra:
            options[name] = _number(extra[name], name, -2, 2)
    if "logit_bias" in extra:
        bias = extra["logit_bias"]
        if not isinstance(bias, dict) or len(bias) > 300 or not all(str(token).isdigit() for token in bias):
            raise InvalidInput("An object of at most 300 token ids, each to a number.", field="logit_bias")
        options["logit_bias"] = {str(token): _number(v, "logit_bias", -100, 100) for token, v in bias.items()}
    if "user" in extra:
        if not isinstance(extra["user"], str) or len(extra["user"]) > 256:
            raise InvalidInput("Text of at most 256 characters.", field="user")
        options["user"] = extra["user"]
    if "reasoning" in extra:
        options["reasoning"] = _reasoning(extra["reasoning"])
    if "reasoning_effort" in extra:
        if extra["reasoning_effort"] not in REASONING_EFFORTS:
            raise InvalidInput(f"One of {', '.join(REASONING_EFFORTS)}.", field="reasoning_effort")
        options["reasoning"] = {**options.get("reasoning", {}), "effort": extra["reasoning_effort"]}
    if "models" in extra:
        options["models"] = _strings(extra["models"], "models", 10)
    if "transforms" in extra:
        options["transforms"] = _strings(extra["transforms"], "transforms", 10)
    if "plugins" in extra:
        options["plugins"] = _objects(extra["plugins"], "plugins", 10)
    if "provider" in extra:
        if not isinstance(extra["provider"], dict):
            raise InvalidInput("Must be an object (OpenRouter's provider routing).", field="provider")
        options["provider"] = dict(extra["provider"])
    return options


def text_request_validate(
    *,
    model: str,
    prompt: str = "",
    system: str = "",
    max_tokens: int | None = None,
    temperature: float | None = None,
    messages=None,
    top_p=None,
    stop=None,
    seed=None,
    extra: dict | None = None,
    user=None,
) -> TextRequest:
    """Check a text request (prompt, model, bounds) without calling the provider. With
    ``messages`` (a conversation) the prompt is its last user message and the system
    text its system messages."""
    if messages is not None:
        messages = clean_messages(messages)
        prompt = _prompt_of(messages[-1])
        system = "\n\n".join(m["content"] for m in messages if m["role"] == "system")
    options = clean_options(top_p=top_p, stop=stop, seed=seed) | clean_extra_options(extra or {})
    prompt = clean_prompt(prompt, field="messages" if messages else "prompt")
    system = clean_prompt(system, field="messages" if messages else "system", required=False)
    if max_tokens is not None:
        limit = settings.GENERATION_MAX_TOKENS_LIMIT
        if isinstance(max_tokens, bool) or not isinstance(max_tokens, int) or not 1 <= max_tokens <= limit:
            raise InvalidInput(f"Must be a whole number from 1 to {limit}.", field="max_tokens")
    if temperature is not None:
        if isinstance(temperature, bool) or not isinstance(temperature, (int, float)) or not 0 <= temperature <= 2:
            raise InvalidInput("Must be a number from 0 to 2.", field="temperature")
        temperature = float(temperature)
    entry = catalogue_entry(model_id=model, kind="text", user=user)
    messages, images = check_message_images(messages or (), entry=entry)
    return TextRequest(
        model=entry,
        prompt=prompt,
        system=system,
        max_tokens=max_tokens,
        temperature=temperature,
        messages=messages,
        options=options,
        images=images,
    )


def clean_choices(n) -> int:
    """How many answers one request asks for (the /v1/ API's ``n``): each holds an
    in-flight slot, so at most GENERATION_MAX_IN_FLIGHT (one is always asked; the slot
    itself may then be refused, 429)."""
    if n is None:
        return 1
    limit = max(1, settings.GENERATION_MAX_IN_FLIGHT)
    if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= limit:
        raise InvalidInput(
            f"Must be a whole number from 1 to {limit} (the generations you may have running at once).", field="n"
        )
    return n


@dataclass(frozen=True)
class ImageRequest:
    model: ProviderModel
    prompt: str
    n: int
    size: str | None
    aspect_ratio: str | None
    image_size: str | None
    # An edit: the owner's stored image to start from, and its bytes as a data: URL; or an
    # image the request sent (an https URL, or a checked data: URL) in source_url alone.
    source: GeneratedImage | None = None
    source_url: str | None = field(default=None, repr=False)
    # What the history records of a sent image: the https URL, or the data URL's type and size.
    source_note: dict = field(default_factory=dict)
    # A data URL's image, to be kept as the user's own (an upload) and linked as the source.
    upload: DecodedImage | None = field(default=None, repr=False)
    # An edit's further images (the provider's references) and its mask, as checked URLs.
    reference_urls: tuple[str, ...] = field(default=(), repr=False)
    mask_url: str | None = field(default=None, repr=False)

    @property
    def params(self) -> dict:
        values = (
            ("n", self.n),
            ("size", self.size),
            ("aspect_ratio", self.aspect_ratio),
            ("image_size", self.image_size),
            ("source_image_id", self.source.pk if self.source else None),
        )
        return {key: value for key, value in values if value is not None} | self.source_note


MAX_SOURCE_URL_LENGTH = 2048


def _check_editor(entry: ProviderModel) -> None:
    """An edit needs a model that takes image input and answers with images (on the chat
    route the image goes as an image_url part, on the images route as an input reference)."""
    if "image" not in (entry.input_modalities or []) or entry.image_route not in ("chat", "images"):
        raise InvalidInput(
            f"{entry.pk} cannot edit images: choose a model that takes an image and answers with one.", field="model"
        )


def checked_image_url(value, *, field: str) -> tuple[str, dict, DecodedImage | None]:
    """An image a request sends: a data: URL within GENERATION_SOURCE_IMAGE_MAX_BYTES
    (decoded, checked and re-encoded with its real type) or an https URL, given to the
    provider as it is. Returns the URL for the provider, what the history records
    (``{"data": "image/png, 123 bytes"}`` or ``{"url": ...}``) and the decoded image of a
    data URL (None for an https URL)."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput("Must be an https:// URL or a data:image/... URL.", field=field)
    value = value.strip()
    if value.startswith("data:"):
        decoded = (decoded_ahead.get() or {}).get((value, field))
        if decoded is None:
            decoded = _decoded_data_url(value, field)
        if isinstance(decoded, InvalidInput):
            raise decoded
        return decoded
    if len(value) > MAX_SOURCE_URL_LENGTH:
        raise InvalidInput(f"The image URL is too long ({MAX_SOURCE_URL_LENGTH} characters at most).", field=field)
    try:
        URLValidator(schemes=["https"])(value)
    except ValidationError:
        raise InvalidInput("Must be an https:// URL or a data:image/... URL.", field=field) from None
    return value, {"url": value}, None


def _decoded_data_url(value: str, field: str):
    """A data URL's image decoded, checked and re-encoded (see checked_image_url), or the
    InvalidInput that refuses it."""
    try:
        image = decode_image_data_url(value, field=field, max_bytes=settings.GENERATION_SOURCE_IMAGE_MAX_BYTES)
    except InvalidInput as exc:
        return exc
    url = f"data:{image.media_type};base64,{base64.b64encode(image.data).decode('ascii')}"
    return url, {"data": f"{image.media_type}, {len(image.data)} bytes"}, image


# Data URLs a request sends, decoded before its database step (decode_data_urls_ahead):
# {(url, field): the checked image or the InvalidInput}. Set by the services around the step.
decoded_ahead: contextvars.ContextVar[dict | None] = contextvars.ContextVar("decoded_ahead", default=None)


def _data_urls(fields: dict):
    """The (data URL, field) pairs of a request's fields: image parts of ``messages``,
    ``source_image_url`` and a conversation message's ``images``."""
    messages = fields.get("messages")
    for message in messages if isinstance(messages, (list, tuple)) else ():
        content = message.get("content") if isinstance(message, dict) else None
        for part in content if isinstance(content, list) else ():
            image = part.get("image_url") if isinstance(part, dict) else None
            url = image.get("url") if isinstance(image, dict) else image
            if isinstance(url, str) and url.strip().startswith("data:"):
                yield url.strip(), "messages"
    url = fields.get("source_image_url")
    if isinstance(url, str) and url.strip().startswith("data:"):
        yield url.strip(), "source_image_url"
    images = fields.get("images")  # a conversation's message
    for url in images if isinstance(images, (list, tuple)) else ():
        if isinstance(url, str) and url.strip().startswith("data:"):
            yield url.strip(), "images"
    references = fields.get("reference_image_urls")
    for url in references if isinstance(references, (list, tuple)) else ():
        if isinstance(url, str) and url.strip().startswith("data:"):
            yield url.strip(), "reference_image_urls"
    url = fields.get("mask_url")
    if isinstance(url, str) and url.strip().startswith("data:"):
        yield url.strip(), "mask_url"


def sends_data_urls(fields: dict) -> bool:
    return next(_data_urls(fields), None) is not None


def decode_data_urls_ahead(fields: dict) -> dict:
    """Decode the data URLs of a request's fields, for :data:`decoded_ahead`: base64 and
    image checks are CPU work, done on a thread of its own rather than in the request's
    database step (validation then takes them from there, refusing them in its order)."""
    decoded: dict = {}
    for pair in _data_urls(fields):
        if len(decoded) > MAX_MESSAGE_IMAGES:
            break
        if pair not in decoded:
            decoded[pair] = _decoded_data_url(*pair)
    return decoded


def _sent_source_image(value, *, entry: ProviderModel) -> tuple[str, dict, DecodedImage | None]:
    """An image sent with the request to edit (:func:`checked_image_url`), for a model
    that can edit. Returns the URL for the provider, what the history records and the
    decoded image of a data URL (kept as the user's upload, so the edit shows its source)."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput("Must be an https:// URL or a data:image/... URL.", field="source_image_url")
    _check_editor(entry)
    url, note, image = checked_image_url(value, field="source_image_url")
    return url, ({"source_image_data": note["data"]} if "data" in note else {"source_image_url": note["url"]}), image


MAX_EDIT_IMAGES = 8


def _edit_extras(
    reference_image_urls, mask_url, *, edited: DecodedImage | None, editing: bool
) -> tuple[tuple[str, ...], str | None, dict]:
    """An edit's further images and mask, checked; what the history records of them."""
    if reference_image_urls in (None, []) and mask_url in (None, ""):
        return (), None, {}
    if not editing:
        field_name = "mask_url" if reference_image_urls in (None, []) else "reference_image_urls"
        raise InvalidInput("Further images and a mask go with an image to edit.", field=field_name)
    references: list[str] = []
    notes: list[str] = []
    if reference_image_urls not in (None, []):
        if not isinstance(reference_image_urls, (list, tuple)) or len(reference_image_urls) > MAX_EDIT_IMAGES - 1:
            raise InvalidInput(
                f"At most {MAX_EDIT_IMAGES} images per edit (the one to edit and {MAX_EDIT_IMAGES - 1} more).",
                field="reference_image_urls",
            )
        for value in reference_image_urls:
            url, note, _image = checked_image_url(value, field="reference_image_urls")
            references.append(url)
            notes.append(note.get("data") or note["url"])
    extra: dict[str, Any] = {"reference_images": notes} if notes else {}
    mask = None
    if mask_url not in (None, ""):
        mask, note, image = checked_image_url(mask_url, field="mask_url")
        if image is None or image.media_type != "image/png":
            raise InvalidInput("The mask must be a PNG image sent with the request.", field="mask_url")
        if edited is not None and (image.width, image.height) != (edited.width, edited.height):
            raise InvalidInput(
                f"The mask must have the size of the image to edit ({edited.width}x{edited.height}); "
                f"it is {image.width}x{image.height}.",
                field="mask_url",
            )
        extra["mask"] = note["data"]
    return tuple(references), mask, extra


def _source_image(*, owner, source_image_id, entry: ProviderModel) -> tuple[GeneratedImage, str]:
    """The owner's image to edit (someone else's is NotFound) and its data: URL; the model
    must take image input and answer with images on the chat route."""
    if isinstance(source_image_id, bool) or not isinstance(source_image_id, int):
        raise InvalidInput("Must be the id of one of your images.", field="source_image_id")
    try:
        image = user_image(user=owner, image_id=source_image_id)
    except NotFound:
        raise NotFound("Image not found.", field="source_image_id") from None
    _check_editor(entry)
    try:
        return image, image.as_data_url()
    except OSError as exc:
        raise NotFound("The image's file is missing.", field="source_image_id") from exc


def image_request_validate(
    *,
    model: str,
    prompt: str,
    n: int | None = 1,
    size: str | None = None,
    aspect_ratio: str | None = None,
    image_size: str | None = None,
    source_image_id: int | None = None,
    source_image_url: str | None = None,
    reference_image_urls=None,
    mask_url: str | None = None,
    user=None,
) -> ImageRequest:
    """Check an image request against the model's catalogue entry, before any call; with
    ``source_image_id`` an edit of one of ``user``'s images, with ``source_image_url`` an
    edit of the image at that https or data: URL (not both). An edit may bring further
    images (``reference_image_urls``) and a ``mask_url``: a PNG of the edited image's size
    whose transparent pixels say where to change it."""
    if source_image_id is not None and source_image_url not in (None, ""):
        raise InvalidInput("Send either source_image_id or source_image_url, not both.", field="source_image_url")
    prompt = clean_prompt(prompt)
    n = 1 if n is None else n
    limit = settings.GENERATION_MAX_IMAGES
    if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= limit:
        raise InvalidInput(f"Must be a whole number from 1 to {limit}.", field="n")
    size, aspect_ratio, image_size = ((value or "").strip() or None for value in (size, aspect_ratio, image_size))
    if size and aspect_ratio:
        raise InvalidInput("Send either size or aspect_ratio, not both.", field="size")
    entry = catalogue_entry(model_id=model, kind="image", user=user)
    try:
        validate_image_params(
            entry.as_catalogue_model(), n=n, size=size, aspect_ratio=aspect_ratio, image_size=image_size
        )
    except ParameterNotAccepted as exc:
        raise InvalidInput(str(exc), field=exc.field) from exc
    source = source_url = upload = None
    note: dict[str, Any] = {}
    if source_image_id is not None:
        source, source_url = _source_image(owner=user, source_image_id=source_image_id, entry=entry)
    elif source_image_url not in (None, ""):
        source_url, note, upload = _sent_source_image(source_image_url, entry=entry)
    references, mask, more = _edit_extras(reference_image_urls, mask_url, edited=upload, editing=source_url is not None)
    note.update(more)
    return ImageRequest(
        model=entry,
        prompt=prompt,
        n=n,
        size=size,
        aspect_ratio=aspect_ratio,
        image_size=image_size,
        source=source,
        source_url=source_url,
        source_note=note,
        upload=upload,
        reference_urls=references,
        mask_url=mask,
    )


# ------------------------------------------------------------------ embeddings

MAX_EMBEDDING_INPUTS = 2048
EMBEDDING_ENCODINGS = ("float", "base64")
MAX_EMBEDDING_DIMENSIONS = 65536
# The history keeps this much of the inputs' text (the vectors are the caller's, not kept).
EMBEDDING_PROMPT_CHARS = 2000


@dataclass(frozen=True)
class EmbeddingRequest:
    """A validated embeddings request: texts (or token lists) for one embedding model."""

    model: ProviderModel
    inputs: tuple[str | list[int], ...]
    dimensions: int | None = None
    encoding_format: str | None = None

    @property
    def prompt(self) -> str:
        """What the history shows: the first input's text, and how many more there were."""
        first = self.inputs[0]
        text = first if isinstance(first, str) else f"[{len(first)} tokens]"
        more = len(self.inputs) - 1
        text = text[:EMBEDDING_PROMPT_CHARS]
        return f"{text}\n\n(and {more} more input{'s' if more != 1 else ''})" if more else text

    @property
    def text_for_pricing(self) -> list[str]:
        return [item for item in self.inputs if isinstance(item, str)]

    @property
    def token_inputs(self) -> int:
        """Tokens sent already counted (token-list inputs)."""
        return sum(len(item) for item in self.inputs if not isinstance(item, str))

    @property
    def params(self) -> dict:
        params: dict[str, Any] = {"inputs": len(self.inputs)}
        if self.dimensions is not None:
            params["dimensions"] = self.dimensions
        if self.encoding_format is not None:
            params["encoding_format"] = self.encoding_format
        return params


def embedding_request_validate(*, model: str, input, dimensions=None, encoding_format=None, user=None):
    """Check an embeddings request: ``input`` a non-empty text or a list of them (or of
    token lists, as OpenAI's API takes), each within GENERATION_PROMPT_MAX_CHARS;
    ``dimensions`` a positive whole number; ``encoding_format`` float or base64; the
    model one of the catalogue's embedding models this person may use."""
    inputs = _embedding_inputs(input)
    if dimensions is not None and (
        isinstance(dimensions, bool)
        or not isinstance(dimensions, int)
        or not 1 <= dimensions <= MAX_EMBEDDING_DIMENSIONS
    ):
        raise InvalidInput(f"Must be a whole number from 1 to {MAX_EMBEDDING_DIMENSIONS}.", field="dimensions")
    if encoding_format is not None and encoding_format not in EMBEDDING_ENCODINGS:
        raise InvalidInput(f"Must be one of {', '.join(EMBEDDING_ENCODINGS)}.", field="encoding_format")
    entry = catalogue_entry(model_id=model, kind="embedding", user=user)
    return EmbeddingRequest(model=entry, inputs=inputs, dimensions=dimensions, encoding_format=encoding_format)


def _is_tokens(value) -> bool:
    return (
        isinstance(value, list)
        and bool(value)
        and all(isinstance(t, int) and not isinstance(t, bool) and t >= 0 for t in value)
    )


def _embedding_inputs(value) -> tuple[str | list[int], ...]:
    if isinstance(value, str) or _is_tokens(value):
        value = [value]
    if not isinstance(value, list) or not value:
        raise InvalidInput("Must be a non-empty text or a non-empty list of texts.", field="input")
    if len(value) > MAX_EMBEDDING_INPUTS:
        raise InvalidInput(f"At most {MAX_EMBEDDING_INPUTS} inputs (this has {len(value)}).", field="input")
    limit = settings.GENERATION_PROMPT_MAX_CHARS
    for index, item in enumerate(value):
        if isinstance(item, str):
            if not item.strip():
                raise InvalidInput(f"input[{index}] is empty.", field="input")
            if len(item) > limit:
                raise InvalidInput(f"input[{index}]: at most {limit} characters (this has {len(item)}).", field="input")
        elif _is_tokens(item):
            if len(item) > limit:
                raise InvalidInput(f"input[{index}]: at most {limit} tokens (this has {len(item)}).", field="input")
        else:
            raise InvalidInput(f"input[{index}] must be a text or a list of token numbers.", field="input")
    return tuple(value)
