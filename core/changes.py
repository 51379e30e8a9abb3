"""What every request reads and almost never changes, kept in each process, and forgotten
by every process of the installation the moment it changes.

An API key's owner, a user's budget limits and a model's catalogue entry are read by
every generation request; reading them each time was most of the database statements of
a short request. Each process keeps what it read in a :class:`Kept` store, stamped with
the installation's *change counter*; a change to any of them (a revoked key, a
deactivated user, a lowered budget, a group's budget or members, a disabled model) moves
the counter, and every process finds its kept values stale at its next read.

On one machine (no Redis cache) the counter is eight bytes in a file under DATA_DIR
(``changes``), memory-mapped by every process: reading it is a memory read, no system call,
no database or cache round trip; every process of one installation shares DATA_DIR (its
media live there). With a Redis cache (CACHE_URL), which is how web processes on several
machines share state, the counter is a Redis key (CHANGES_KEY): one GET per read, and a
change on any machine is seen by the next request on every other. A change moves it twice: at once (this process, and a test
inside one transaction, see it) and again once the transaction commits, so that a process
that read the old rows between the two cannot keep them under the new count.

A request reads the counter once (:func:`request_began`), however many kept values it
uses: with Redis each reading is a round trip, and a request used two or three. A change
applies from the next request on, as before; a request that makes a change reads the
counter afresh after it.
"""

from __future__ import annotations

import fcntl
import mmap
import os
import struct
import threading
from collections.abc import Callable, Hashable
from contextvars import ContextVar, Token
from pathlib import Path
from typing import Generic, TypeVar, overload

from django.conf import settings
from django.db import transaction
from django.db.models import Model
from django.db.models.base import ModelState

COUNTER_FILE = "changes"
_FORMAT = struct.Struct("<Q")

T = TypeVar("T")


class SharedCounter:
    """A number shared by the processes that map ``path``: read without a system call,
    moved under an exclusive file lock."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(self._fd, fcntl.LOCK_EX)
        try:
            if os.fstat(self._fd).st_size < _FORMAT.size:
                os.ftruncate(self._fd, _FORMAT.size)
        finally:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
        self._map = mmap.mmap(self._fd, _FORMAT.size, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)

    def value(self) -> int:
        return _FORMAT.unpack_from(self._map, 0)[0]

    def move(self) -> int:
        fcntl.flock(self._fd, fcntl.LOCK_EX)
        try:
            value = _FORMAT.unpack_from(self._map, 0)[0] + 1
            _FORMAT.pack_into(self._map, 0, value)
            return value
        finally:
            fcntl.flock(self._fd, fcntl.LOCK_UN)


class RedisCounter:
    """The counter as a Redis key: shared by the processes of every machine that uses the
    Redis server of CACHE_URL."""

    def __init__(self, url: str, key: str) -> None:
        import redis

        self.key = key
        self._client = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)

    def value(self) -> int:
        return int(self._client.get(self.key) or 0)

    def move(self) -> int:
        return int(self._client.incr(self.key))


Counter = SharedCounter | RedisCounter


def counter_at(*, data_dir: str | Path, cache_url: str, key: str) -> Counter:
    """The installation's counter: in Redis when the cache is Redis, else DATA_DIR's file."""
    if cache_url.partition(":")[0] in ("redis", "rediss", "unix"):
        return RedisCounter(cache_url, key)
    return SharedCounter(Path(data_dir) / COUNTER_FILE)


_counter: Counter | None = None
_counter_source: tuple[str, str, str] | None = None
_counter_lock = threading.Lock()


def counter() -> Counter:
    """This process's handle on the installation's counter (settings may change in tests)."""
    global _counter, _counter_source
    source = (str(settings.DATA_DIR), settings.CACHE_URL, settings.CHANGES_KEY)
    if _counter is None or _counter_source != source:
        with _counter_lock:
            if _counter is None or _counter_source != source:
                _counter = counter_at(data_dir=source[0], cache_url=source[1], key=source[2])
                _counter_source = source
    return _counter


# The counter as the current request read it: empty until its first kept read. The list
# is shared by the request's threads (each step runs in a copy of the request's context).
_request_reading: ContextVar[list[int] | None] = ContextVar("changes_request_reading", default=None)


def request_began() -> Token:
    """A request begins (core.handler): its kept reads read the counter once, at the
    first of them. ``request_ended(token)`` when it ends."""
    return _request_reading.set([])


def request_ended(token: Token) -> None:
    _request_reading.reset(token)


def counter_reading() -> int:
    """The installation's counter, as the current request first read it."""
    reading = _request_reading.get()
    if reading is None:  # outside a request (a task, a command): read every time
        return counter().value()
    if not reading:
        reading.append(counter().value())
    return reading[0]


def _move(shared: Counter) -> None:
    shared.move()
    reading = _request_reading.get()
    if reading:  # this request's later reads see its own change
        reading.clear()


def changed(**_signal) -> None:
    """Something kept may have changed: every process forgets what it kept, now and, inside
    a transaction, again when it commits. Also a signal receiver."""
    shared = counter()
    _move(shared)
    if transaction.get_connection().in_atomic_block:
        transaction.on_commit(lambda: _move(shared))


M = TypeVar("M", bound=Model)


@overload
def own_copy(instance: M) -> M: ...
@overload
def own_copy(instance: None) -> None: ...


def own_copy(instance: M | None) -> M | None:
    """A copy of a kept model instance for one request, as ``copy.copy`` makes it (its own
    attributes and ``_state``, and its own cache of related objects; None stays None),
    without the pickling protocol's round trip: about a sixth of its cost, paid by every
    request for each kept row it uses."""
    if instance is None:
        return None
    clone = instance.__class__.__new__(instance.__class__)
    clone.__dict__.update(instance.__dict__)
    state = clone._state = ModelState.__new__(ModelState)
    state.__dict__.update(instance._state.__dict__)
    state.fields_cache = instance._state.fields_cache.copy()
    return clone


class Kept(Generic[T]):
    """Values this process read, each valid while the installation's counter stays where
    it was when the read began. At most ``size`` values (then it starts afresh)."""

    def __init__(self, size: int = 10_000) -> None:
        self.size = size
        self._values: dict[Hashable, tuple[int, T]] = {}

    def stamp(self) -> int:
        """The counter before a read: store the value read under this stamp."""
        return counter_reading()

    def get(self, key: Hashable) -> T | None:
        kept = self._values.get(key)
        if kept is None or not settings.KEEP_READS:
            return None
        if kept[0] != counter_reading():
            self._values.pop(key, None)
            return None
        return kept[1]

    def put(self, key: Hashable, value: T, stamp: int) -> None:
        if not settings.KEEP_READS:
            return
        if len(self._values) >= self.size:
            self._values.clear()
        self._values[key] = (stamp, value)

    def read(self, key: Hashable, read: Callable[[], T]) -> T:
        """The kept value of ``key``, or ``read()`` kept."""
        found = self.get(key)
        if found is not None:
            return found
        stamp = self.stamp()
        value = read()
        self.put(key, value, stamp)
        return value

    def clear(self) -> None:
        self._values.clear()
