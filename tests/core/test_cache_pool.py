"""core.cache: every cache object of a process shares its Redis connections (ProcessConnectionPool)
and one client per pool (RedisCache)."""

from __future__ import annotations

import asyncio
import os
import uuid

from django.conf import settings

from core.cache import RedisCache

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
    assert settings.CACHES["default"]["BACKEND"] == "core.cache.RedisCache"
    assert settings.CACHES["default"]["OPTIONS"]["pool_class"] == "core.cache.ProcessConnectionPool"


def test_cache_objects_share_one_client_per_pool_and_it_answers_from_threads():
    async def request(number: int):
        cache = _cache()
        await asyncio.to_thread(cache.set, f"client-test-{number}", number)
        assert await asyncio.to_thread(cache.get, f"client-test-{number}") == number
        return cache._cache.get_client(write=True)

    async def many():
        return await asyncio.gather(*(request(number) for number in range(8)))

    clients = asyncio.run(many())
    assert all(client is clients[0] for client in clients)
    assert clients[0].connection_pool is _cache()._cache.get_client(write=True).connection_pool
