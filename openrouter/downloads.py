"""Limits on fetching provider-hosted files: a size cap and an overall deadline.

Per-read timeouts alone let a server that trickles a byte at a time hold a worker
for hours; the deadline bounds the whole download. Both clients feed a
:class:`DownloadMeter` each chunk they read.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import IO

from .errors import ProviderMalformedResponse, ProviderTimeout


class DownloadMeter:
    """Checks one download against ``max_bytes`` and ``deadline`` seconds from creation."""

    def __init__(self, what: str, max_bytes: int, deadline: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.what = what
        self.max_bytes = max_bytes
        self.deadline = deadline
        self.clock = clock
        self.started = clock()
        self.received = 0

    @property
    def remaining(self) -> float:
        """Seconds left before the deadline (never negative)."""
        return max(0.0, self.deadline - (self.clock() - self.started))

    def check_headers(self, headers: Mapping[str, str]) -> None:
        """Refuse at once a body whose declared length is over the cap."""
        declared = headers.get("Content-Length")
        if declared and declared.isdigit() and int(declared) > self.max_bytes:
            raise self.too_large()

    def add(self, chunk: bytes) -> None:
        """Count a chunk just read; raise when over the cap or past the deadline."""
        self.received += len(chunk)
        if self.received > self.max_bytes:
            raise self.too_large()
        if self.clock() - self.started > self.deadline:
            raise self.too_slow()

    def too_large(self) -> ProviderMalformedResponse:
        return ProviderMalformedResponse(f"The {self.what} is larger than the {self.max_bytes}-byte limit.")

    def too_slow(self) -> ProviderTimeout:
        return ProviderTimeout(f"Downloading the {self.what} took longer than {self.deadline:g} s.")


class CountingWriter:
    """Wraps a binary file so the download loop can count what it wrote."""

    def __init__(self, dest: IO[bytes]) -> None:
        self.dest = dest
        self.written = 0

    def write(self, data: bytes) -> int:
        self.dest.write(data)
        self.written += len(data)
        return len(data)


class MemoryWriter(bytearray):
    """A download target in memory (an image); ``bytes(writer)`` is what was written."""

    def write(self, data: bytes) -> int:
        self.extend(data)
        return len(data)
