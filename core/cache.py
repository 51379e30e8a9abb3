"""The Redis cache's connections and clients: one pool per process, whatever asks, and one
client per pool.

Django keeps a cache object per async context, so under ASGI every request built its
own RedisCache with its own connection pool, and opened a new connection (a TCP
handshake, HELLO, CLIENT SETINFO, and redis-py reading its own version from the
installed metadata) for each of its throttle, in-flight count and change counter
calls: most of a short request's CPU on PostgreSQL + Redis (bench/request_cpu.py).
With this pool class (settings.CACHES' ``pool_class``) the cache objects of every
request share the process's pool and its open connections.

Django's Redis cache also builds a new ``redis.Redis`` around the pool for every call
(about 70 µs of CPU, as much as the round trip itself); :class:`RedisCache` builds one per
pool and keeps it (a client holds no connection of its own: it takes one from the pool
for each command, so threads share it safely).
"""

from __future__ import annotations

import os
import threading
import weakref
from typing import ClassVar

import redis
from django.core.cache.backends import redis as django_redis


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


class ProcessRedisCacheClient(django_redis.RedisCacheClient):
    """Django's Redis cache client, with the ``redis.Redis`` of each pool built once."""

    _clients: ClassVar[weakref.WeakKeyDictionary[redis.ConnectionPool, redis.Redis]] = weakref.WeakKeyDictionary()
    _clients_lock: ClassVar[threading.Lock] = threading.Lock()

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(pool)
        if client is None:
            with self._clients_lock:
                client = self._clients.setdefault(pool, self._client(connection_pool=pool))
        return client


class RedisCache(django_redis.RedisCache):
    """settings.CACHES' backend when CACHE_URL is Redis (with ``pool_class`` above)."""

    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = ProcessRedisCacheClient
