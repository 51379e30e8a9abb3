"""Finding 16: media files no row owns (a process killed between writing a file and
committing its row, or mid-write) are removed by the beat's sweep once older than
STORAGE_ORPHAN_GRACE; files being written now, and every owned file, are kept. Media
writes are whole or nothing (core/storage.py)."""

from __future__ import annotations

import os
import time

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from storage import sweep
from storage.tasks import sweep_orphan_media
from tests.factories import GeneratedImageFactory, VideoJobFactory
from videos.models import VideoJob

pytestmark = pytest.mark.django_db

HOUR = 3600


def write(name: str, *, age: float = 0.0) -> str:
    """A file in media storage, last written ``age`` seconds ago."""
    path = default_storage.path(name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as handle:
        handle.write(b"bytes")
    then = time.time() - age
    os.utime(path, (then, then))
    return name


def age(name: str, seconds: float) -> None:
    then = time.time() - seconds
    os.utime(default_storage.path(name), (then, then))


def test_old_orphans_go_fresh_and_owned_files_stay(user, settings, stored_files):
    settings.STORAGE_ORPHAN_GRACE = HOUR
    image = GeneratedImageFactory(generation__owner=user)
    age(image.file.name, 2 * HOUR)
    job = VideoJobFactory(owner=user, status=VideoJob.Status.COMPLETED)
    job.video_file.save("video.mp4", ContentFile(b"mp4"), save=False)
    job.source_image_file.save("source.png", ContentFile(b"png"), save=False)
    job.save()
    for name in (job.video_file.name, job.source_image_file.name):
        age(name, 2 * HOUR)
    orphans = [
        write(f"generations/{user.pk}/999/0-deadbeef.png", age=2 * HOUR),  # row never committed
        write(f"videos/{user.pk}/77-abcdef.mp4", age=2 * HOUR),
        write(f"videos/{user.pk}/.55-abcdef.mp4.0123456789ab.part", age=2 * HOUR),  # killed mid-write
    ]
    fresh = write(f"generations/{user.pk}/1000/0-cafebabe.png", age=60)  # being written now
    outside = write("somewhere-else/keep.txt", age=10 * HOUR)  # not a folder the app writes

    removed = sweep.orphans_remove()

    assert sorted(removed) == sorted(orphans)
    left = stored_files()
    assert not set(orphans) & set(left)
    for kept in (image.file.name, job.video_file.name, job.source_image_file.name, fresh, outside):
        assert kept in left
    assert sweep.orphans_remove() == [], "a second run finds nothing"


def test_the_beat_runs_the_sweep(settings, user, stored_files):
    assert settings.CELERY_BEAT_SCHEDULE["sweep-orphan-media"]["task"] == "storage.tasks.sweep_orphan_media"
    settings.STORAGE_ORPHAN_GRACE = HOUR
    orphan = write(f"generations/{user.pk}/5/0-0badf00d.png", age=2 * HOUR)
    sweep_orphan_media()  # the task as the worker runs it
    assert orphan not in stored_files()


def test_a_write_that_fails_part_way_leaves_no_file(media_root, stored_files):
    class Broken:
        def chunks(self):
            yield b"first half"
            raise OSError(28, "No space left on device")

        size = 20

    from core.storage import MediaStorage

    with pytest.raises(OSError):
        MediaStorage(location=media_root).save("generations/1/2/0-x.png", Broken())
    assert stored_files() == []


def test_a_whole_write_lands_under_its_own_name(media_root):
    from core.storage import MediaStorage

    storage = MediaStorage(location=media_root)
    first = storage.save("generations/1/2/a.png", ContentFile(b"one"))
    second = storage.save("generations/1/2/a.png", ContentFile(b"two"))
    assert first == "generations/1/2/a.png" and second != first
    assert storage.open(first).read() == b"one" and storage.open(second).read() == b"two"
    assert sorted(os.listdir(media_root / "generations/1/2")) == sorted(
        [first.rsplit("/", 1)[1], second.rsplit("/", 1)[1]]
    )
