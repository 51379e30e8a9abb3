"""Calls to the provider about usage: the API key's own usage and limit (``GET /key``)."""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.core.cache import cache

from core.errors import describe_failure
from openrouter.client import OpenRouterClient
from openrouter.config import client_settings
from openrouter.errors import ProviderError

log = logging.getLogger(__name__)

KEY_CACHE = "usage:provider-key"
KEY_CACHE_SECONDS = 60
# The admin page waits for this answer: no retries, short timeouts.
KEY_TIMEOUTS: dict[str, Any] = {"connect_timeout": 3.0, "read_timeout": 5.0, "max_retries": 0}


def provider_key_stats() -> dict:
    """The admin stats' "provider_key" section: what the provider reports for the
    configured key (``label``, ``usage``, ``limit``, ``limit_remaining`` in USD credits,
    ``is_free_tier``), or ``{"error": message}`` when the provider cannot say. Demo
    mode asks the offline double, which answers /key too. A good answer is cached for
    KEY_CACHE_SECONDS; a failure is asked again next time."""
    cached = cache.get(KEY_CACHE)
    if cached is not None:
        return cached
    client = OpenRouterClient(client_settings(settings), **KEY_TIMEOUTS)
    try:
        info = client.key_info()
    except ProviderError as exc:
        log.warning("GET /key failed: %s", exc)
        return {"error": f"The provider did not report the key's usage: {describe_failure(exc).message}"}
    finally:
        client.close()
    stats = {**info.as_dict(), "demo_mode": bool(getattr(settings, "DEMO_MODE", False))}
    cache.set(KEY_CACHE, stats, KEY_CACHE_SECONDS)
    return stats
