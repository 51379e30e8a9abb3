"""A full disk, told apart from other failures, answered the same way on every path.

Media files (MEDIA_ROOT) and, on DuckDB, the database live under DATA_DIR: when that
filesystem fills up, a file write fails with ENOSPC and a database write with the
driver's own error (DuckDB's IOException naming "No space left on device", PostgreSQL's
SQLSTATE class 53, insufficient resources). :func:`is_storage_full` recognises them
anywhere in an exception's chain; core.http then answers :class:`StorageFull` (503,
saying so) instead of a 500 or a vague message, and :func:`report` tells administrators
in the log (at most once a minute per process, not once per request). ``/healthz``
fails its ``storage`` check while free space is below STORAGE_MIN_FREE_MB.
"""

from __future__ import annotations

import errno
import logging
import shutil
import threading
import time

from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.template.loader import render_to_string

from core.errors import Unavailable

log = logging.getLogger(__name__)

NO_SPACE_ERRNOS = {errno.ENOSPC, errno.EDQUOT}
NO_SPACE_TEXT = ("no space left on device", "disk quota exceeded", "could not extend file")
REPORT_EVERY = 60.0  # seconds between log lines about the same full disk

_last_report = 0.0
_report_lock = threading.Lock()


class StorageFull(Unavailable):
    default_message = (
        "The server's storage is full, so nothing was saved. An administrator has been told; try again later."
    )


def _chain(exc: BaseException | None):
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        exc = exc.__cause__ or exc.__context__


def is_storage_full(exc: BaseException | None) -> bool:
    """Whether ``exc``, or an exception it came from, says the disk (or quota) is full."""
    for each in _chain(exc):
        if isinstance(each, StorageFull):
            return True
        if isinstance(each, OSError) and each.errno in NO_SPACE_ERRNOS:
            return True
        sqlstate = getattr(each, "sqlstate", None) or getattr(getattr(each, "diag", None), "sqlstate", None)
        if isinstance(sqlstate, str) and sqlstate.startswith("53"):  # PostgreSQL: disk full, out of memory
            return True
        if any(text in str(each).lower() for text in NO_SPACE_TEXT):
            return True
    return False


def report(exc: BaseException, *, what: str) -> None:
    """Tell administrators (the log, as an error) that ``what`` failed for want of space."""
    global _last_report
    with _report_lock:
        now = time.monotonic()
        if now - _last_report < REPORT_EVERY:
            return
        _last_report = now
    log.error(
        "Storage is full: %s failed (%s: %s). Free space under DATA_DIR (%s); /healthz fails its storage check "
        "meanwhile.",
        what,
        type(exc).__name__,
        exc,
        settings.DATA_DIR,
    )


def storage_full_error(exc: BaseException, *, what: str) -> StorageFull:
    """The error to raise instead of ``exc`` (reported to administrators)."""
    report(exc, what=what)
    return StorageFull()


def free_bytes() -> int | None:
    """Free space of the filesystem that holds MEDIA_ROOT (None if it cannot be read)."""
    try:
        return shutil.disk_usage(settings.MEDIA_ROOT).free
    except OSError:
        try:
            return shutil.disk_usage(settings.DATA_DIR).free
        except OSError:
            return None


def has_room() -> bool:
    """The /healthz storage check: free space at or above STORAGE_MIN_FREE_MB."""
    free = free_bytes()
    minimum = settings.STORAGE_MIN_FREE_MB * 1024 * 1024
    if free is None or free < minimum:
        log.warning(
            "Health check: storage under %s has %s bytes free (below STORAGE_MIN_FREE_MB=%s)",
            settings.MEDIA_ROOT,
            free,
            settings.STORAGE_MIN_FREE_MB,
        )
        return False
    return True


class StorageFullMiddleware:
    """The last word for a full disk that reached no other handler (a page, a database
    write outside a service's own): 503 saying storage is full, JSON under /api/ and
    /v1/, a page elsewhere, instead of a 500. Works in both modes without a thread."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response) -> None:
        self.get_response = get_response
        from asgiref.sync import iscoroutinefunction, markcoroutinefunction

        if iscoroutinefunction(get_response):
            markcoroutinefunction(self)
            self._async = True
        else:
            self._async = False

    def __call__(self, request):
        if self._async:
            return self._acall(request)
        return self.get_response(request)

    async def _acall(self, request):
        return await self.get_response(request)

    def process_exception(self, request, exception):
        if not is_storage_full(exception):
            return None
        report(exception, what=f"{request.method} {request.path}")
        if request.path.startswith(("/api/", "/v1/")):
            return JsonResponse({"detail": StorageFull.default_message}, status=503)
        # No request context: its processors may read (or write) the database on the full disk.
        return HttpResponse(render_to_string("503.html", {"message": StorageFull.default_message}), status=503)
