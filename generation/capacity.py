"""Fair use of the web process's capacity: a cap on each person's generations in flight,
and a deadline on every generation request, streaming included.

The in-flight count lives in the cache (one process's memory on the embedded setup,
Redis when several web processes share it: one round trip to take a slot, one to give it
back). It expires on its own a while after the
deadline, so a process killed mid-request cannot leave anyone locked out.
"""

from __future__ import annotations

import asyncio
import math
from contextlib import asynccontextmanager

from django.conf import settings
from django.core.cache import cache, caches
from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache

from core.errors import DomainError, ErrorKind, TooManyRequests

# How long after the deadline a count nobody released (a killed process) still counts.
COUNT_EXPIRY_MARGIN = 60


class TooManyInFlight(TooManyRequests):
    default_message = "You have too many generations running at once."


def _key(user_id: int) -> str:
    return f"generation-in-flight:{user_id}"


def _redis_client():
    """The Redis client under the default cache when it is Redis, else None."""
    backend = caches["default"]
    return backend._cache.get_client(write=True) if isinstance(backend, RedisCache) else None


def _acquire(user_id: int) -> int | None:
    """Take one of the user's slots; the count now held, or None when all are taken."""
    key, expiry = _key(user_id), settings.GENERATION_DEADLINE + COUNT_EXPIRY_MARGIN
    client = _redis_client()
    if client is not None:
        # One round trip, atomic: the count (made at 1 if it had expired) and its expiry.
        stored = cache.make_and_validate_key(key)
        with client.pipeline(transaction=True) as pipe:
            held, _ = pipe.incr(stored).expire(stored, math.ceil(expiry)).execute()
    else:
        held = _count_up(key, expiry)
    if held > settings.GENERATION_MAX_IN_FLIGHT:
        _release(user_id)
        return None
    return held


def _count_up(key: str, expiry: int) -> int:
    cache.add(key, 0, expiry)
    try:
        held = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.add(key, 0, expiry)
        held = cache.incr(key)
    cache.touch(key, expiry)
    return held


def _release(user_id: int) -> None:
    key = _key(user_id)
    client = _redis_client()
    if client is not None:
        if client.decr(cache.make_and_validate_key(key)) < 0:  # expired and came back: never below zero
            cache.set(key, 0, settings.GENERATION_DEADLINE + COUNT_EXPIRY_MARGIN)
        return
    try:
        if cache.decr(key) < 0:  # the count expired and came back: never below zero
            cache.set(key, 0, settings.GENERATION_DEADLINE + COUNT_EXPIRY_MARGIN)
    except ValueError:  # already expired
        pass


def try_acquire_slot(user_id: int) -> None:
    """Take a slot or refuse with 429 and a message a person can act on."""
    if _acquire(user_id) is None:
        cap = settings.GENERATION_MAX_IN_FLIGHT
        raise TooManyInFlight(
            f"You already have {cap} generation{'s' if cap != 1 else ''} running, the most allowed at once. "
            "Wait for one to finish (or stop one), then try again.",
            retry_after=5,
        )


release_slot = _release


def counts_in_memory() -> bool:
    """The counts live in this process's memory (the embedded setup's LocMemCache): no
    I/O to wait on, so async code may take and release slots without a thread."""
    return isinstance(caches["default"], LocMemCache)


class DeadlineExceeded(DomainError):
    """The whole request took longer than GENERATION_DEADLINE (504, like a provider timeout)."""

    kind = ErrorKind.PROVIDER_TIMEOUT


def deadline_reached() -> DeadlineExceeded:
    seconds = settings.GENERATION_DEADLINE
    return DeadlineExceeded(
        f"The generation did not finish within {seconds:g} seconds, the most one may take "
        "(GENERATION_DEADLINE); try again, or ask for a shorter answer."
    )


@asynccontextmanager
async def within_deadline(seconds: float | None = None):
    """Bound the body by GENERATION_DEADLINE: past it, DeadlineExceeded (504), whatever the
    provider does."""
    try:
        async with asyncio.timeout(seconds if seconds is not None else settings.GENERATION_DEADLINE):
            yield
    except TimeoutError:
        raise deadline_reached() from None
