"""Asking a served Studio's /v1/ API over real HTTP, as a tool with a personal key does."""

from __future__ import annotations

from typing import Any

import requests

# Priced in the double's catalogue: a budget applies to it.
PRICED_MODEL = "openai/gpt-4o-mini"


def ask_chat(base: str, secret: str, *, stream: bool = False, model: str = PRICED_MODEL) -> requests.Response:
    """A short chat completion (``max_tokens`` 8), whole or streamed, read to its end."""
    body: dict[str, Any] = {
        "model": model,
        "messages": [{"role": "user", "content": "hi"}],
        "max_tokens": 8,
        "stream": stream,
    }
    return requests.post(
        f"{base}/v1/chat/completions", json=body, headers={"Authorization": f"Bearer {secret}"}, timeout=30
    )
