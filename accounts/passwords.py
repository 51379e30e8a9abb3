"""A bound on the password hashes one process computes at once.

Each Argon2 hash takes about 100 MiB for its moment (Django's memory_cost), so hashes
run concurrently by many requests (logins from many addresses, registrations) would take
the process's memory with them. At most ``PASSWORD_CHECKS_MAX_CONCURRENT`` run at once;
a request that finds them all busy waits up to ``PASSWORD_CHECKS_WAIT`` seconds for a
turn, then is refused with 429 and Retry-After instead of growing the process.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings

from core.errors import TooManyRequests

_lock = threading.Lock()
_gate: tuple[int, threading.BoundedSemaphore] | None = None


class PasswordChecksBusy(TooManyRequests):
    default_message = "The server is busy checking other sign-ins; try again in a moment."


def _semaphore() -> threading.BoundedSemaphore:
    global _gate
    size = max(1, int(settings.PASSWORD_CHECKS_MAX_CONCURRENT))
    with _lock:
        if _gate is None or _gate[0] != size:  # a changed setting (tests) takes a new gate
            _gate = (size, threading.BoundedSemaphore(size))
        return _gate[1]


@contextmanager
def password_check_slot() -> Iterator[None]:
    """Hold one of the process's password-hashing slots for the block, or raise
    PasswordChecksBusy (429, Retry-After: 1) when none frees up in time."""
    gate = _semaphore()
    if not gate.acquire(timeout=settings.PASSWORD_CHECKS_WAIT):
        raise PasswordChecksBusy(retry_after=1)
    try:
        yield
    finally:
        gate.release()
