"""What of a thread the provider gets: the system prompt and the newest turns that fit
the model's context length.

Counting is an estimate, the same for every model (no tokenizer): a message costs
``ceil(len(content) / 4)`` tokens (about 4 characters per token in English text) plus
4 tokens of per-message framing. The answer needs room too: the budget for the prompt
is the context length minus ``CONVERSATION_ANSWER_TOKENS`` (at most a quarter of the
context). A turn is a user message with the answers that follow it; turns are dropped
whole, oldest first. The system prompt and the newest turn (the message being answered)
are always sent: when they alone do not fit, the request is refused (400).
"""

from __future__ import annotations

import math

from django.conf import settings

from core.errors import InvalidInput

CHARS_PER_TOKEN = 4
MESSAGE_OVERHEAD_TOKENS = 4
DEFAULT_CONTEXT_LENGTH = 8192  # a catalogue entry that does not say


def estimate_tokens(content: str) -> int:
    return math.ceil(len(content or "") / CHARS_PER_TOKEN) + MESSAGE_OVERHEAD_TOKENS


def answer_headroom(context_length: int) -> int:
    return min(getattr(settings, "CONVERSATION_ANSWER_TOKENS", 1024), context_length // 4)


def prompt_budget(context_length: int | None) -> int:
    context_length = context_length or DEFAULT_CONTEXT_LENGTH
    return context_length - answer_headroom(context_length)


def _turns(messages: list[dict]) -> list[list[dict]]:
    turns: list[list[dict]] = []
    for message in messages:
        if message["role"] == "user" or not turns:
            turns.append([])
        turns[-1].append(message)
    return turns


def fit_thread(*, system: str, messages: list[dict], context_length: int | None, model: str = "") -> list[dict]:
    """``messages`` (oldest first, ``{"role", "content"}``, the last one the user message
    being answered) trimmed from the oldest turns to fit, after the system prompt."""
    budget = prompt_budget(context_length)
    head = [{"role": "system", "content": system}] if system else []
    used = sum(estimate_tokens(m["content"]) for m in head)
    turns = _turns(messages)
    kept: list[list[dict]] = []
    for index, turn in enumerate(reversed(turns)):
        cost = sum(estimate_tokens(m["content"]) for m in turn)
        if used + cost > budget:
            if index == 0:
                raise InvalidInput(
                    f"This message (with the system prompt) is too long for {model or 'the model'}: about "
                    f"{used + cost} tokens, and at most {budget} fit its context. Shorten it or choose a model "
                    "with a longer context.",
                    field="content",
                )
            break
        used += cost
        kept.append(turn)
    return head + [message for turn in reversed(kept) for message in turn]
