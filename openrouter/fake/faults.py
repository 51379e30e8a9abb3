"""The double's faults and per-request options: which exist, and how a request picks them
(the ``X-Fake-*`` headers or markers in the model name; see the package docstring)."""

from __future__ import annotations

import re
from typing import Any

REQUEST_FAULTS = {
    "rate_limit": (429, "Rate limit exceeded: too many requests."),
    "server_error": (500, "Internal server error at the upstream provider."),
    "bad_gateway": (502, "The upstream provider returned an invalid response."),
    "unavailable": (503, "No provider is available for this model right now."),
    "request_timeout": (408, "The upstream provider timed out."),
    "bad_request": (400, "Invalid request parameters."),
    "auth": (401, "User not found."),
    "out_of_credits": (402, "Insufficient credits. Add more using https://openrouter.ai/credits"),
    "moderation": (403, "Your input was flagged by content moderation."),
    "not_found": (404, "Not found."),
}
BEHAVIOUR_FAULTS = {"slow", "malformed", "disconnect", "drop_stream", "truncated", "stream_error", "chunked", "trickle"}
JOB_FAULTS = {"fail", "never_finish", "expire", "no_urls"}
ALL_FAULTS = set(REQUEST_FAULTS) | BEHAVIOUR_FAULTS | JOB_FAULTS
# Chunks a dropped stream sends before the connection goes (keep-alive + two pieces).
DROP_AFTER_CHUNKS = 3
# Streams get a mid-stream error after this many pieces.
STREAM_ERROR_AFTER = 3
# A trickled body goes out in pieces this large.
TRICKLE_CHUNK = 4096
MODERATION_METADATA = {
    "reasons": ["violence", "harassment"],
    "flagged_input": "…",
    "provider_name": "fake",
    "model_slug": "fake/moderation",
}

# ":fault=rate_limit*2", ":pieces=500", ":interval=0.02" after a model id.
_MODEL_OPTION = re.compile(r":(fault|pieces|interval)=([A-Za-z0-9_.*]+)")
FAULT_MODEL_PREFIX = "fake/fault-"


def model_options(model: Any) -> dict[str, str]:
    """The options marked in a model id (``fault`` also from ``fake/fault-<name>``)."""
    if not isinstance(model, str):
        return {}
    options = dict(_MODEL_OPTION.findall(model))
    clean = strip_options(model)
    if clean.startswith(FAULT_MODEL_PREFIX):
        options["fault"] = clean[len(FAULT_MODEL_PREFIX) :]
    return options


def strip_options(model: str) -> str:
    """The model id without its option markers."""
    return _MODEL_OPTION.sub("", model)


def body_model_options(body: Any) -> dict[str, str]:
    return model_options(body.get("model") if isinstance(body, dict) else None)


def seconds_text(seconds: float) -> str:
    """Retry-After value: whole seconds when whole, else a short decimal."""
    if seconds == int(seconds):
        return str(int(seconds))
    return f"{seconds:.3f}".rstrip("0").rstrip(".")
