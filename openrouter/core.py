"""What a client instance holds, sync or async: its configuration, retry policy and URL
guard, how it builds a request, and the settings-keyed cache that hands out one client
per process (or loop)."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any, Generic, TypeVar

import httpx

from . import transport
from .config import ClientConfig, client_settings
from .urlguard import AddressRule, Resolver, Target, UrlGuard, is_public, system_resolve


class ClientCore:
    """Configuration and policy shared by :class:`OpenRouterClient` and
    :class:`AsyncOpenRouterClient`. ``clock``, ``rand``, ``resolve`` and ``allow`` exist
    for tests: to observe backoff without waiting, and to drive the URL guard without DNS
    or against their own servers on 127.0.0.1 (see :class:`UrlGuard`)."""

    def __init__(
        self,
        config: ClientConfig | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        rand: Callable[[], float] = random.random,
        resolve: Resolver = system_resolve,
        allow: AddressRule = is_public,
        **options: Any,
    ) -> None:
        self.config = replace(config or ClientConfig(), **options)
        self.retry_policy = transport.RetryPolicy.from_config(self.config, clock=clock, rand=rand)
        self.guard = UrlGuard(self.config, resolve=resolve, allow=allow)
        self._clock = clock

    @property
    def base_url(self) -> str:
        return self.config.base_url

    @property
    def images_path(self) -> str:
        return self.config.images_path

    @property
    def video_max_bytes(self) -> int:
        return self.config.video_max_bytes

    def _url(self, path_or_url: str) -> str:
        return transport.resolve_url(self.config, path_or_url)

    def _request_parts(self, target: Target) -> tuple[str | httpx.URL, dict[str, str], dict[str, Any]]:
        """The one place either client decides what a request carries: the address the
        guard checked, the headers for the URL's origin, and (when pinned to an address)
        the name TLS checks."""
        pinned = target.request_args()
        headers = {**transport.headers_for(self.config, target.url), **pinned["headers"]}
        return pinned["url"], headers, pinned["extensions"]


C = TypeVar("C", bound=ClientCore)


class ClientCache(Generic[C]):
    """One client per key (the process, or an event loop), rebuilt when the OPENROUTER_*
    settings change, e.g. under ``override_settings`` in tests."""

    def __init__(
        self, factory: Callable[[ClientConfig], C], on_replace: Callable[[C], None] | None = None, store: Any = None
    ) -> None:
        self._factory = factory
        self._on_replace = on_replace
        self._store = {} if store is None else store
        self._lock = threading.Lock()

    def get(self, key: Any = None) -> C:
        from django.conf import settings

        config = client_settings(settings)
        with self._lock:
            client = self._store.get(key)
            if client is None or client.config != config:
                if client is not None and self._on_replace is not None:
                    self._on_replace(client)
                client = self._factory(config)
                self._store[key] = client
            return client
