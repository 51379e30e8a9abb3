"""The async client's connections: several small pools instead of one large one.

httpcore's connection pool walks every one of its connections each time a request
starts and each time a response is closed, so with hundreds of streams in flight each
of those costs hundreds of checks on the event loop. Requests are dealt round-robin
to ``shards`` pools of their own, each ``1/shards`` of the limits: the same number of
connections in all, and each walk ``shards`` times shorter.
"""

from __future__ import annotations

import itertools
import math
import urllib.request

import httpx

# Enough connections for hundreds of concurrent streams from one async client.
POOL_LIMITS = httpx.Limits(max_connections=1024, max_keepalive_connections=64)
POOL_SHARDS = 16


def shard_limits(limits: httpx.Limits, shards: int) -> httpx.Limits:
    """Each shard's part of ``limits`` (rounded up, at least one connection)."""

    def part(total: int | None) -> int | None:
        return None if total is None else max(1, math.ceil(total / shards))

    return httpx.Limits(
        max_connections=part(limits.max_connections),
        max_keepalive_connections=part(limits.max_keepalive_connections),
        keepalive_expiry=limits.keepalive_expiry,
    )


class ShardedAsyncTransport(httpx.AsyncBaseTransport):
    """An httpx transport dealing requests round-robin over ``shards`` connection pools."""

    def __init__(self, *, limits: httpx.Limits = POOL_LIMITS, shards: int = POOL_SHARDS) -> None:
        if shards < 1:
            raise ValueError("shards must be at least 1")
        # One TLS context for all: building one loads the CA bundle (tens of milliseconds).
        tls = httpx.create_ssl_context()
        self.pools = [httpx.AsyncHTTPTransport(verify=tls, limits=shard_limits(limits, shards)) for _ in range(shards)]
        self._turn = itertools.cycle(self.pools)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await next(self._turn).handle_async_request(request)

    async def aclose(self) -> None:
        for pool in self.pools:
            await pool.aclose()


def async_http_client() -> httpx.AsyncClient:
    """The async client's httpx client: the sharded pools, or, when the environment names
    a proxy (HTTPS_PROXY and the like), httpx's own pool, which is what honours it."""
    if urllib.request.getproxies():
        return httpx.AsyncClient(limits=POOL_LIMITS)
    return httpx.AsyncClient(transport=ShardedAsyncTransport())
