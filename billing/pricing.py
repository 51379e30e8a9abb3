"""The largest likely cost of a request, from its model's catalogue prices (OpenRouter's
``pricing``: USD strings per prompt/completion token, per request, per image, and per
second of video in a video model's ``pricing_skus``).

Estimates are upper bounds: a prompt is counted as one token per UTF-8 byte (byte-level
tokenizers never make more tokens than bytes) plus a few per message. A price that is
missing, unreadable or negative (OpenRouter's "-1": variable pricing) is unknown, and
an unknown price is refused under a budget (PriceUnknown), never guessed as zero.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal, InvalidOperation

PLACES = Decimal("0.00000001")
ZERO = Decimal("0")
# Tokens a chat request adds around each message (role markers and the like).
TOKENS_PER_MESSAGE = 8
# Completion tokens a chat-route image answer may take besides the image price (the
# images themselves are billed as output tokens by some models).
IMAGE_COMPLETION_TOKENS = 1500
# Prompt tokens an image sent to a vision model may take (models bill a large image at
# about 1,600 or fewer); its bytes are no bound, as they are for text.
IMAGE_INPUT_TOKENS = 2000
# A video request without a duration, for a model that lists none: assume this many seconds.
VIDEO_ASSUMED_SECONDS = 10


class PriceUnknown(Exception):
    """The model's catalogue entry does not say what the request costs."""

    def __init__(self, model: str, what: str):
        super().__init__(f"{model}: {what}")
        self.model = model
        self.what = what


def usd(value: Decimal) -> Decimal:
    """An amount rounded up to the ledger's 8 places."""
    return Decimal(value).quantize(PLACES, rounding=ROUND_CEILING)


def price(pricing: dict, key: str, *, model: str, required: bool = True) -> Decimal:
    """The price under ``key``; ZERO when absent and not required; PriceUnknown otherwise."""
    value = (pricing or {}).get(key)
    if value is None or value == "":
        if required:
            raise PriceUnknown(model, f"no {key!r} price")
        return ZERO
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise PriceUnknown(model, f"unreadable {key!r} price {value!r}") from None
    if not amount.is_finite() or amount < 0:
        raise PriceUnknown(model, f"variable or unreadable {key!r} price {value!r}")
    return amount


def prompt_tokens_upper(*texts: str) -> int:
    parts = [text for text in texts if text]
    return sum(len(text.encode("utf-8")) for text in parts) + TOKENS_PER_MESSAGE * max(1, len(parts))


@dataclass(frozen=True)
class TextPrice:
    """A text request's cost: ``fixed`` (prompt and request) plus ``per_token`` for each
    completion token."""

    fixed: Decimal
    per_token: Decimal
    prompt_tokens: int
    prices: dict

    def cost(self, completion_tokens: int) -> Decimal:
        return usd(self.fixed + self.per_token * completion_tokens)

    def affordable_tokens(self, left: Decimal) -> int | None:
        """Completion tokens ``left`` pays for after the fixed part (None: no limit)."""
        if self.per_token == 0:
            return None
        return max(0, math.floor((left - self.fixed) / self.per_token))


def text_price(entry, *, prompt: str, system: str, images: int = 0) -> TextPrice:
    pricing = entry.pricing or {}
    prompt_price = price(pricing, "prompt", model=entry.id)
    completion = price(pricing, "completion", model=entry.id)
    request = price(pricing, "request", model=entry.id, required=False)
    tokens = prompt_tokens_upper(prompt, system) + IMAGE_INPUT_TOKENS * images
    return TextPrice(
        fixed=prompt_price * tokens + request,
        per_token=completion,
        prompt_tokens=tokens,
        prices={"prompt": str(prompt_price), "completion": str(completion), "request": str(request)},
    )


def priced_usage(prices: dict, *, prompt_tokens: int, completion_tokens: int) -> Decimal | None:
    """What reported token counts cost at the prices a reservation noted (None if it
    noted none)."""
    try:
        prompt, completion = Decimal(prices["prompt"]), Decimal(prices["completion"])
        request = Decimal(prices.get("request") or "0")
    except (KeyError, InvalidOperation, TypeError):
        return None
    return usd(prompt * prompt_tokens + completion * completion_tokens + request)


def embedding_cost(entry, *, texts: list[str], tokens: int = 0) -> tuple[Decimal, dict]:
    """Embeddings of ``texts`` (each counted as an upper bound of its tokens) and of
    ``tokens`` sent as token numbers: prompt tokens only, there is no completion."""
    pricing = entry.pricing or {}
    prompt_price = price(pricing, "prompt", model=entry.id)
    request = price(pricing, "request", model=entry.id, required=False)
    upper = sum(prompt_tokens_upper(text) for text in texts) + tokens
    prices = {"prompt": str(prompt_price), "completion": "0", "request": str(request)}
    return usd(prompt_price * upper + request), {**prices, "prompt_tokens": upper}


def image_cost(entry, *, prompt: str, n: int) -> tuple[Decimal, dict]:
    """n images: each the image price plus (on the chat route, one call per image) the
    prompt and the completion tokens an image answer may take."""
    pricing = entry.pricing or {}
    chat = (entry.image_route or "images") == "chat"
    request = price(pricing, "request", model=entry.id, required=False)
    if chat:
        prompt_price = price(pricing, "prompt", model=entry.id)
        completion = price(pricing, "completion", model=entry.id)
        image = price(pricing, "image", model=entry.id, required=False)
        each = image + prompt_price * prompt_tokens_upper(prompt) + completion * IMAGE_COMPLETION_TOKENS + request
    else:
        image = price(pricing, "image", model=entry.id)
        prompt_price = price(pricing, "prompt", model=entry.id, required=False)
        each = image + request
    total = usd(each * n + (ZERO if chat else prompt_price * prompt_tokens_upper(prompt)))
    return total, {"image": str(image), "n": n}


def video_cost(entry, *, duration: int | None, resolution: str | None) -> tuple[Decimal, dict]:
    """Price per second x duration (the longest the model lists when none is asked).
    A per-resolution price (``..._per_second_<resolution>``) is used when the catalogue
    has one; otherwise the highest per-second price it lists."""
    pricing = entry.pricing or {}
    keys = [key for key in pricing if "per_second" in key]
    if not keys:
        raise PriceUnknown(entry.id, "no per-second video price")
    chosen = [key for key in keys if resolution and key.endswith(f"_{resolution}")] or keys
    per_second = max(price(pricing, key, model=entry.id) for key in chosen)
    seconds = duration or max([int(d) for d in entry.durations or []], default=VIDEO_ASSUMED_SECONDS)
    return usd(per_second * seconds), {"per_second": str(per_second), "seconds": seconds}
