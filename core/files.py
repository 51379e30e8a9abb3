"""Stored media (generated images, videos): serving them to the people allowed to see
them, and deleting them with their rows.

Files live in Django's storage (MEDIA_ROOT under DATA_DIR by default) and are never
mounted publicly: a view checks ownership first, then answers with this helper.
"""

from __future__ import annotations

import logging
import os
import re

from django.db.models.fields.files import FieldFile
from django.http import FileResponse, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.utils.http import content_disposition_header

from core.errors import NotFound

log = logging.getLogger(__name__)

CHUNK_SIZE = 64 * 1024
_SINGLE_RANGE_RE = re.compile(r"^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$", re.IGNORECASE)


class RangeNotSatisfiable(Exception):
    pass


def byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The inclusive (first, last) byte a single-range ``Range`` header asks for.

    None means "send the whole file": no header, a malformed one, or several ranges
    (allowed by RFC 9110 to be answered in full). Raises RangeNotSatisfiable for a range
    that starts past the end.
    """
    match = _SINGLE_RANGE_RE.match(header or "")
    if not match or size == 0:
        return None
    first, last = match.groups()
    if not first and not last:
        return None
    if not first:  # "bytes=-N": the last N bytes
        suffix = int(last)
        if suffix == 0:
            raise RangeNotSatisfiable
        return max(size - suffix, 0), size - 1
    first = int(first)
    last = size - 1 if not last else min(int(last), size - 1)
    if first >= size:
        raise RangeNotSatisfiable
    if last < first:
        return None
    return first, last


def _read(handle, first: int, length: int):
    try:
        handle.seek(first)
        while length > 0:
            chunk = handle.read(min(CHUNK_SIZE, length))
            if not chunk:
                break
            length -= len(chunk)
            yield chunk
    finally:
        handle.close()


def _secure(response, media_type: str):
    response["Content-Type"] = media_type
    response["Accept-Ranges"] = "bytes"
    response["Cache-Control"] = "private, max-age=3600"
    response["X-Content-Type-Options"] = "nosniff"
    # An image opened on its own must not run anything (SVG and the like).
    response["Content-Security-Policy"] = (
        "default-src 'none'; img-src 'self'; media-src 'self'; style-src 'unsafe-inline'"
    )
    return response


def stored_file_response(
    file: FieldFile,
    *,
    media_type: str,
    filename: str | None = None,
    as_attachment: bool = False,
    range_header: str | None = None,
):
    """A streamed, private, non-sniffable answer with a stored file's bytes.

    ``as_attachment`` makes browsers download it (named ``filename``). A ``Range``
    header (``range_header``) for one byte range gets a 206 with just those bytes, so
    video players can seek; a range past the end gets a 416. A file missing from
    storage is NotFound, not a server error.
    """
    if not file.name:  # an empty file field: nothing stored to send
        raise NotFound("File not found.")
    name = filename or file.name.rsplit("/", 1)[-1]
    try:
        handle = file.storage.open(file.name, "rb")
        size = file.storage.size(file.name)
    except (FileNotFoundError, OSError) as exc:
        raise NotFound("File not found.") from exc
    response: HttpResponseBase
    try:
        wanted = byte_range(range_header, size)
    except RangeNotSatisfiable:
        handle.close()
        response = HttpResponse(status=416)
        response["Content-Range"] = f"bytes */{size}"
        return _secure(response, media_type)
    if wanted is None:
        response = FileResponse(handle, as_attachment=as_attachment, filename=name)
        return _secure(response, media_type)
    first, last = wanted
    length = last - first + 1
    response = StreamingHttpResponse(_read(handle, first, length), status=206)
    response["Content-Length"] = str(length)
    response["Content-Range"] = f"bytes {first}-{last}/{size}"
    disposition = content_disposition_header(as_attachment, name)
    if disposition is not None:
        response["Content-Disposition"] = disposition
    return _secure(response, media_type)


def delete_stored_file(storage, name: str) -> None:
    """Delete a stored file and, on a filesystem storage, its folder once empty."""
    if not name:
        return
    try:
        storage.delete(name)
    except Exception:
        log.exception("Could not delete stored file %s", name)
        return
    try:
        folder = os.path.dirname(storage.path(name))
    except NotImplementedError:  # remote storages have no folders to tidy
        return
    try:
        os.rmdir(folder)
    except OSError:
        pass  # not empty (other images of the generation) or already gone
