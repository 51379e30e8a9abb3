"""Each HTTP exchange with the provider, seen from outside: one log line (logger
``openrouter.calls``, at INFO) and a call to every listener, with the endpoint (a short
name, never the URL, which may carry ids), the outcome ("ok" or the error class's kind)
and the duration. Both clients send every attempt through ``exchange``/``aexchange``;
listeners (the metrics) register with ``add_listener``. Imports no app."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from .errors import ProviderError

log = logging.getLogger("openrouter.calls")
R = TypeVar("R")
Listener = Callable[[str, str, float], None]
_listeners: list[Listener] = []

_ENDPOINTS = (
    (re.compile(r"/chat/completions$"), "chat"),
    (re.compile(r"/images(/|$)"), "images"),
    (re.compile(r"/videos/[^/]+/content$"), "video_content"),
    (re.compile(r"/videos/[^/]+$"), "video_poll"),
    (re.compile(r"/videos$"), "video_submit"),
    (re.compile(r"/models(/|$)"), "models"),
    (re.compile(r"/key$"), "key"),
    (re.compile(r"/embeddings$"), "embeddings"),
    (re.compile(r"/responses$"), "responses"),
)


def add_listener(listener: Listener) -> None:
    if listener not in _listeners:
        _listeners.append(listener)


def endpoint_of(url: str) -> str:
    path = url.split("?", 1)[0].rstrip("/")
    for pattern, name in _ENDPOINTS:
        if pattern.search(path):
            return name
    return "download"  # a provider-hosted file (image, video) outside the API


def outcome_of(exc: BaseException) -> str:
    if isinstance(exc, ProviderError):
        return type(exc).__name__.removeprefix("Provider").lower() or "error"
    return (
        "cancelled"
        if isinstance(exc, (KeyboardInterrupt, GeneratorExit)) or "Cancelled" in type(exc).__name__
        else "error"
    )


def _seen(method: str, url: str, started: float, outcome: str, status: Any = None) -> None:
    seconds = time.monotonic() - started
    endpoint = endpoint_of(url)
    log.info(
        "provider %s %s %s %.1fms",
        method,
        endpoint,
        outcome,
        seconds * 1000,
        extra={
            "event": "provider_call",
            "endpoint": endpoint,
            "method": method,
            "outcome": outcome,
            "status": status,
            "duration_ms": round(seconds * 1000, 1),
        },
    )
    for listener in list(_listeners):
        try:
            listener(endpoint, outcome, seconds)
        except Exception:  # noqa: BLE001 - watching must never break a call
            log.exception("provider call listener failed")


def exchange(send: Callable[..., R], method: str, url: str, *args: Any) -> R:
    started = time.monotonic()
    try:
        response = send(method, url, *args)
    except BaseException as exc:
        _seen(method, url, started, outcome_of(exc), getattr(exc, "status", None))
        raise
    _seen(method, url, started, "ok", getattr(response, "status_code", None))
    return response


async def aexchange(send: Callable[..., Awaitable[R]], method: str, url: str, *args: Any) -> R:
    started = time.monotonic()
    try:
        response = await send(method, url, *args)
    except BaseException as exc:
        _seen(method, url, started, outcome_of(exc), getattr(exc, "status", None))
        raise
    _seen(method, url, started, "ok", getattr(response, "status_code", None))
    return response
