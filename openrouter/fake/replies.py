"""Answers of the double and the request checks the endpoints share."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from . import catalogue
from .catalogue import FakeModel
from .faults import FAULT_MODEL_PREFIX, strip_options


@dataclass
class Reply:
    """One answer: status, body (bytes, or chunks to stream), content type, headers."""

    status: int
    body: bytes | Iterable[bytes] = b""
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)


class BadRequest(Exception):
    """Raised inside endpoints to answer 400 with the provider's error shape."""

    status = 400


class NoEndpoints(BadRequest):
    """No provider of the model can serve the request as asked (e.g. tools for a model
    without tool use): OpenRouter answers 404."""

    status = 404


def json_reply(status: int, payload: Any, headers: dict[str, str] | None = None) -> Reply:
    return Reply(status, json.dumps(payload).encode("utf-8"), headers=headers or {})


def error_reply(status: int, message: str, metadata: dict | None = None, headers: dict | None = None) -> Reply:
    error: dict[str, Any] = {"code": status, "message": message}
    if metadata:
        error["metadata"] = metadata
    return json_reply(status, {"error": error}, headers)


def parse_json(raw: bytes) -> tuple[Any, bool]:
    """(parsed body or None, whether the body was invalid JSON)."""
    if not raw:
        return None, False
    try:
        return json.loads(raw), False
    except ValueError:
        return None, True


def lookup(model_id: Any, kind: str) -> tuple[str, FakeModel]:
    """(clean id, model) for a request's model; markers stripped; 400 when unknown."""
    if not isinstance(model_id, str) or not model_id:
        raise BadRequest("model is required.")
    clean = strip_options(model_id)
    if clean.startswith(FAULT_MODEL_PREFIX):
        return clean, catalogue.PERMISSIVE[kind]
    model = catalogue.BY_ID.get(clean)
    if model is None:
        raise BadRequest(f"{clean} is not a valid model ID")
    return clean, model


def require_object(body: Any) -> dict:
    if not isinstance(body, dict):
        raise BadRequest("The request body must be a JSON object.")
    return body


def check_listed(model_id: str, name: str, value: Any, accepted: tuple, *, refuse_unlisted: bool = False) -> None:
    if value is None:
        return
    if accepted and value not in accepted:
        listed = ", ".join(str(a) for a in accepted)
        raise BadRequest(f"{name} {value!r} is not supported by {model_id}. Supported: {listed}")
    if not accepted and refuse_unlisted:
        raise BadRequest(f"{name} is not supported by {model_id}.")


def check_frame(model_id: str, model: FakeModel, frame: Any) -> None:
    if not isinstance(frame, dict) or frame.get("type") != "image_url":
        raise BadRequest("frame_images items must be {type: image_url, frame_type, image_url: {url}}.")
    frame_type = frame.get("frame_type")
    if frame_type not in model.frame_images:
        raise BadRequest(f"frame_type {frame_type!r} is not supported by {model_id}.")
    url = (frame.get("image_url") or {}).get("url") if isinstance(frame.get("image_url"), dict) else None
    if not isinstance(url, str) or not url.startswith(("http://", "https://", "data:image/")):
        raise BadRequest("frame_images image_url.url must be an http(s) or data:image URL.")


def data_url_bytes(url: str) -> bytes:
    """The bytes of a ``data:image/...;base64,`` URL (the only kind the double reads)."""
    head, _, data = url.partition(",")
    if not (head.startswith("data:image/") and head.endswith(";base64")):
        raise BadRequest("image_url.url must be a data:image/...;base64 URL (the double fetches nothing).")
    try:
        return base64.b64decode(data, validate=True)
    except ValueError as exc:
        raise BadRequest("image_url.url is not valid base64.") from exc
