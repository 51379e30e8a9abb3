"""The Redis cache's connections: one pool per process, whatever asks.

Django keeps a cache object per async context, so under ASGI every request built its
own RedisCache with its own connection pool, and opened a new connection (a TCP
handshake, HELLO, CLIENT SETINFO, and redis-py reading its own version from the
installed metadata) for each of its throttle, in-flight count and change counter
calls: most of a short request's CPU on PostgreSQL + Redis (bench/request_cpu.py).
With this pool class (settings.CACHES' ``pool_class``) the cache objects of every
request share the process's pool and its open connections.
"""

from __future__ import annotations

import os
import threading

import redis


class ProcessConnectionPool(redis.ConnectionPool):
    """``from_url`` hands out one pool per URL and options in each process."""

    _shared: dict[tuple, redis.ConnectionPool] = {}
    _shared_lock = threading.Lock()

    @classmethod
    def from_url(cls, url: str, **options):
        key = (os.getpid(), url, tuple(sorted((name, repr(value)) for name, value in options.items())))
        with cls._shared_lock:
            pool = cls._shared.get(key)
            if pool is None:
                pool = cls._shared[key] = super().from_url(url, **options)
            return pool
