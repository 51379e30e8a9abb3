"""Serving stored media (generated images, videos) to the people allowed to see them.

Files live in Django's storage (MEDIA_ROOT under DATA_DIR by default) and are never
mounted publicly: a view checks ownership first, then answers with this helper.
"""
from __future__ import annotations

from django.db.models.fields.files import FieldFile
from django.http import FileResponse

from config.exceptions import NotFound


def stored_file_response(file: FieldFile, *, media_type: str, filename: str | None = None,
                         as_attachment: bool = False) -> FileResponse:
    """A streamed, private, non-sniffable answer with a stored file's bytes.

    ``as_attachment`` makes browsers download it (named ``filename``). A file missing
    from storage is NotFound, not a server error.
    """
    name = filename or file.name.rsplit("/", 1)[-1]
    try:
        handle = file.storage.open(file.name, "rb")
    except (FileNotFoundError, OSError) as exc:
        raise NotFound("File not found.") from exc
    response = FileResponse(handle, content_type=media_type, as_attachment=as_attachment, filename=name)
    response["Cache-Control"] = "private, max-age=3600"
    response["X-Content-Type-Options"] = "nosniff"
    # An image opened on its own must not run anything (SVG and the like).
    response["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; media-src 'self'; style-src 'unsafe-inline'"
    return response
