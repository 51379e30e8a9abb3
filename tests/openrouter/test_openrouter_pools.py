"""The async client's connections: requests dealt round-robin over small pools."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from openrouter.aclient import AsyncOpenRouterClient
from openrouter.pools import POOL_LIMITS, ShardedAsyncTransport, async_http_client, shard_limits


def test_each_shard_holds_its_part_of_the_limits():
    part = shard_limits(POOL_LIMITS, 16)
    assert (part.max_connections, part.max_keepalive_connections) == (64, 4)
    assert shard_limits(httpx.Limits(max_connections=3, max_keepalive_connections=1), 4).max_connections == 1
    with pytest.raises(ValueError):
        ShardedAsyncTransport(shards=0)


def test_concurrent_requests_are_spread_over_every_pool_and_all_answered(fake):
    transport = ShardedAsyncTransport(shards=4)

    async def main():
        async with httpx.AsyncClient(transport=transport) as http:
            client = AsyncOpenRouterClient(http=http, base_url=fake.base_url, api_key="test-key", max_retries=0)
            results = await asyncio.gather(
                *(
                    client.chat(model="fake/echo", messages=[{"role": "user", "content": f"hello {i}"}])
                    for i in range(8)
                )
            )
            connections = [len(pool._pool.connections) for pool in transport.pools]
            return [result.text for result in results], connections

    texts, connections = asyncio.run(main())
    assert texts == [f"hello {i}" for i in range(8)]
    # Eight requests at once over four pools: two connections in each.
    assert connections == [2, 2, 2, 2]


def test_a_proxy_in_the_environment_keeps_httpx_own_pool(monkeypatch):
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    assert not isinstance(async_http_client()._transport, ShardedAsyncTransport)
    monkeypatch.delenv("HTTPS_PROXY")
    for name in ("HTTP_PROXY", "ALL_PROXY", "https_proxy", "http_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    assert isinstance(async_http_client()._transport, ShardedAsyncTransport)
