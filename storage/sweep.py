"""The orphan sweep: media files that no row owns, removed once they are old enough.

A process killed between writing a file and committing the row that names it (an image
stored, a video downloaded, an upload kept) leaves a file nobody can see, delete or be
charged for; a process killed mid-write leaves a ``.part`` file (core/storage.py). The
beat runs this every STORAGE_SWEEP_INTERVAL: under the folders the app writes
(``generations/``, ``videos/``), every file older than STORAGE_ORPHAN_GRACE that no
GeneratedImage, video or job source image names is deleted. The grace keeps files being
written now (their row commits after the write) out of reach.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.core.files.storage import default_storage
from django.utils import timezone

from core.db import release_db_connection
from core.files import delete_stored_file
from generation.models import GeneratedImage
from videos.models import VideoJob

log = logging.getLogger(__name__)

FOLDERS = ("generations", "videos")
BATCH = 500


def _files(storage, folder: str):
    """(name, modified time) of every file under ``folder``, recursively."""
    try:
        directories, files = storage.listdir(folder)
    except (FileNotFoundError, NotADirectoryError):
        return
    for name in files:
        path = f"{folder}/{name}"
        try:
            yield path, storage.get_modified_time(path)
        except FileNotFoundError:
            continue  # deleted meanwhile
    for directory in directories:
        yield from _files(storage, f"{folder}/{directory}")


def _owned(names: list[str]) -> set[str]:
    owned: set[str] = set()
    for start in range(0, len(names), BATCH):
        batch = names[start : start + BATCH]
        owned.update(GeneratedImage.objects.filter(file__in=batch).values_list("file", flat=True))
        owned.update(VideoJob.objects.filter(video_file__in=batch).values_list("video_file", flat=True))
        owned.update(VideoJob.objects.filter(source_image_file__in=batch).values_list("source_image_file", flat=True))
    return owned


def orphans_remove(*, now: datetime | None = None, grace: float | None = None, storage=None) -> list[str]:
    """Delete the media files no row owns that were last written more than ``grace``
    seconds (STORAGE_ORPHAN_GRACE) before ``now``; the names deleted."""
    storage = storage or default_storage
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=settings.STORAGE_ORPHAN_GRACE if grace is None else grace)
    old = [name for folder in FOLDERS for name, modified in _files(storage, folder) if modified < cutoff]
    try:
        owned = _owned(old)
    finally:
        release_db_connection()
    removed = [name for name in old if name not in owned]
    for name in removed:
        delete_stored_file(storage, name)
    if removed:
        log.warning("Removed %s media files no row owned (older than %s): %s", len(removed), cutoff, removed[:20])
    return removed
