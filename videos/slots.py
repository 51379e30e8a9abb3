"""In-flight slots: each active job holds one of its owner's numbered slots
(1..VIDEO_MAX_JOBS_IN_FLIGHT), unique per owner in the database, so even racing requests
cannot put an owner over the cap."""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import TypeVar

from django.conf import settings
from django.db import IntegrityError, OperationalError, connection

from core.db import is_unique_clash
from videos.errors import TooManyJobsInFlight
from videos.models import VideoJob

T = TypeVar("T")

# Tries at a free in-flight slot when concurrent requests of one user take the one chosen.
SLOT_ATTEMPTS = 6
# The slot column is a small integer: a cap above this is as good as no cap.
MAX_SLOT = 32767


def with_free_slot(*, owner, take: Callable[[int], T]) -> T:
    """``take(slot)`` with a slot of the owner's that is free; when a concurrent request
    took that slot first (a unique clash), again with another. TooManyJobsInFlight (429)
    when none is free."""
    cap = settings.VIDEO_MAX_JOBS_IN_FLIGHT
    for _ in range(SLOT_ATTEMPTS):
        slot = free_slot(owner=owner, cap=cap)
        try:
            return take(slot)
        except (IntegrityError, OperationalError) as exc:
            # Look again, but not inside an outer transaction: the failed statement has
            # spoilt it on DuckDB.
            if connection.in_atomic_block or not is_unique_clash(exc):
                raise
    raise too_many(cap)


def free_slot(*, owner, cap: int) -> int:
    """A free in-flight slot of the owner's, at random, so that concurrent requests rarely
    pick the same one; TooManyJobsInFlight when none is free."""
    taken = set(
        VideoJob.objects.filter(owner=owner, in_flight_slot__isnull=False).values_list("in_flight_slot", flat=True)
    )
    slots = min(cap, MAX_SLOT)
    if len(taken) < slots // 2:  # mostly free (a large cap): draw until a free one comes up
        while (slot := random.randint(1, slots)) in taken:
            pass
        return slot
    free = [slot for slot in range(1, slots + 1) if slot not in taken]
    if not free:
        raise too_many(cap)
    return random.choice(free)


def too_many(cap: int) -> TooManyJobsInFlight:
    return TooManyJobsInFlight(
        f"You already have {cap} video job{'s' if cap != 1 else ''} in progress, the most allowed at once. "
        "Wait for one to finish or cancel one, then try again.",
        retry_after=int(settings.VIDEO_POLL_INTERVAL),
    )
