"""Work to finish when the web server stops: apps register coroutine functions, and the
served ASGI application (core/asgi.py) runs them on the lifespan protocol's shutdown,
after the server's grace period and before the process exits."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)

_hooks: list[Callable[[], Awaitable[None]]] = []


def on_server_stop(hook: Callable[[], Awaitable[None]]) -> None:
    """Run ``await hook()`` when the web server stops (registered once per hook)."""
    if hook not in _hooks:
        _hooks.append(hook)


async def server_stopping() -> None:
    """Run every hook; one that fails is logged and does not stop the others."""
    results = await asyncio.gather(*(hook() for hook in _hooks), return_exceptions=True)
    for hook, result in zip(_hooks, results):
        if isinstance(result, BaseException):
            log.error("Shutdown hook %s failed", getattr(hook, "__qualname__", hook), exc_info=result)
