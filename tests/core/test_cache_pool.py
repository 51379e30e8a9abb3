"""core.cache.ProcessConnectionPool: every cache object of a process shares its Redis connections."""

from __future__ import annotations

import asyncio
import os
import uuid

from django.conf import settings
from django.core.cache.backends.redis import RedisCache

REDIS = os.environ.get("CACHE_URL") or "redis://127.0.0.1:6379/11"


# Options of this test's own, so its pool is not the one the rest of the run has used.
OWN = f"pool-test-{uuid.uuid4().hex[:8]}"


def _cache() -> RedisCache:
    return RedisCache(REDIS, {"OPTIONS": {"pool_class": "core.cache.ProcessConnectionPool", "client_name": OWN}})


def test_cache_objects_of_concurrent_requests_share_one_pool_and_its_connections():
    async def request(number: int):
        # Django makes a cache object per async context: one per request.
        cache = _cache()
        await asyncio.to_thread(cache.set, f"pool-test-{number}", number)
        return cache._cache.get_client(write=True).connection_pool

    async def many():
        return await asyncio.gather(*(request(number) for number in range(8)))

    pools = asyncio.run(many())
    assert all(pool is pools[0] for pool in pools)
    # Connections are reused: no more than the requests that ran at once, however many came.
    assert 1 <= len(pools[0]._available_connections) + len(pools[0]._in_use_connections) <= 8
    for _ in range(20):
        assert _cache().get("pool-test-3") == 3
    assert len(pools[0]._available_connections) + len(pools[0]._in_use_connections) <= 8


def test_the_settings_use_it_for_a_redis_cache():
    if not settings.CACHE_URL:
        assert settings.CACHES["default"]["BACKEND"].endswith("LocMemCache")
        return
    assert settings.CACHES["default"]["OPTIONS"]["pool_class"] == "core.cache.ProcessConnectionPool"
