"""Finding 17: a full disk, for real. MEDIA_ROOT is a 2 MB tmpfs filled to its last
byte (root mounts it; without the right to mount, these tests skip and say so). Every
path that writes media answers 503 saying storage is full, keeps no row without its
file and no partial file, tells administrators (the log, /healthz), and works again,
with nothing lost, once space is freed."""

from __future__ import annotations

import base64
import logging
import os
import shutil
import subprocess
import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from generation.models import GeneratedImage, Generation
from tests.support.accounts import bearer_client
from videos import services, worker
from videos.models import VideoJob

pytestmark = pytest.mark.django_db

URL = "/api/generate/image"
EDITOR = "google/gemini-2.5-flash-image"


class FullDisk:
    def __init__(self, root) -> None:
        self.root = root
        self.filler = root / ".filler"

    def fill(self) -> None:
        """To the last byte: the double's images are a few KB, smaller than the 16 KB a
        real one left."""
        with open(self.filler, "ab", buffering=0) as handle:
            try:
                while True:
                    handle.write(b"\0" * 4096)
            except OSError as exc:
                assert exc.errno == 28
        assert shutil.disk_usage(self.root).free == 0

    def free_space(self) -> None:
        self.filler.unlink()

    def files(self) -> list[str]:
        """Every file but the filler, names relative to the root (hidden .part files included)."""
        found = []
        for folder, _, names in os.walk(self.root):
            for name in names:
                path = os.path.join(folder, name)
                if path != str(self.filler):
                    found.append(os.path.relpath(path, self.root))
        return sorted(found)


@pytest.fixture
def full_disk(tmp_path, settings):
    root = tmp_path / f"small-{uuid.uuid4().hex[:6]}"
    root.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(root)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here ({mounted.stderr.decode().strip()}); needs root")
    settings.MEDIA_ROOT = root
    settings.STORAGE_MIN_FREE_MB = 1
    disk = FullDisk(root)
    disk.fill()
    try:
        yield disk
    finally:
        subprocess.run(["umount", "-l", str(root)], check=False)


def png_bytes_of(size: int) -> bytes:
    import io

    from PIL import Image

    side = max(8, int((size / 3) ** 0.5))
    image = Image.frombytes("RGB", (side, side), os.urandom(side * side * 3))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def storage_full(response) -> bool:
    return response.status_code == 503 and "storage is full" in response.json()["detail"]


def test_an_image_generation_answers_503_keeps_nothing_half_and_works_once_space_is_freed(
    full_disk, user, catalogue, fake_openrouter, caplog
):
    api = bearer_client(user)
    with caplog.at_level(logging.ERROR, logger="core.diskfull"):
        response = api.post(URL, {"prompt": "Two foxes", "model": "openai/gpt-image-1", "n": 2}, format="json")

    assert storage_full(response), response.content
    row = Generation.objects.get()
    assert row.status == "failed" and "storage is full" in row.error and row.error_kind == "unavailable"
    assert not GeneratedImage.objects.exists()
    assert full_disk.files() == [], "no partial file, no .part file"
    assert any("Storage is full" in record.getMessage() for record in caplog.records), "administrators are told"

    full_disk.free_space()
    again = api.post(URL, {"prompt": "Two foxes", "model": "openai/gpt-image-1", "n": 2}, format="json")
    assert again.status_code == 201
    done = Generation.objects.get(pk=again.json()["id"])
    assert done.status == "completed" and done.images.count() == 2
    assert all(image.read_bytes() for image in done.images.all())


def test_an_edit_with_an_upload_answers_503_and_keeps_no_upload(full_disk, user, catalogue, fake_openrouter):
    sent = "data:image/png;base64," + base64.b64encode(png_bytes_of(40_000)).decode()
    response = bearer_client(user).post(URL, {"prompt": "x", "model": EDITOR, "source_image_url": sent}, format="json")
    assert storage_full(response), response.content
    assert not Generation.objects.filter(route=Generation.UPLOAD_ROUTE).exists()
    assert not GeneratedImage.objects.exists() and full_disk.files() == []

    full_disk.free_space()
    again = bearer_client(user).post(URL, {"prompt": "x", "model": EDITOR, "source_image_url": sent}, format="json")
    assert again.status_code == 201 and Generation.objects.get(pk=again.json()["id"]).source_image is not None


def test_a_video_from_an_uploaded_image_answers_503_and_records_no_job(full_disk, user, catalogue, fake_openrouter):
    sent = "data:image/png;base64," + base64.b64encode(png_bytes_of(40_000)).decode()
    body = {"prompt": "waves", "model": "google/veo-3.1", "image_url": sent}
    response = bearer_client(user).post("/api/generate/video/from-image", body, format="json")
    assert storage_full(response), response.content
    assert not VideoJob.objects.exists() and full_disk.files() == []

    full_disk.free_space()
    assert bearer_client(user).post("/api/generate/video/from-image", body, format="json").status_code == 202


def test_the_workers_video_download_keeps_no_partial_file_and_completes_once_space_is_freed(
    full_disk, user, catalogue, fake_openrouter, django_capture_on_commit_callbacks, monkeypatch, caplog
):
    from videos import dispatch

    monkeypatch.setattr(dispatch, "enqueue_poll", lambda **kwargs: None)
    monkeypatch.setattr(dispatch, "enqueue_submit", lambda **kwargs: None)
    with django_capture_on_commit_callbacks(execute=False):
        job = services.video_job_create(owner=user, model="google/veo-3.1", prompt="waves at dusk")
    now = [1000.0]
    fake_openrouter.clock = lambda: now[0]  # the double's jobs take 10 s of this clock
    fake_openrouter.video_duration = 10.0
    worker.video_job_submit(job_id=job.pk)
    now[0] += 11

    def poll_now():
        VideoJob.objects.filter(pk=job.pk).update(next_action_at=timezone.now() - timedelta(seconds=1))
        return worker.video_job_poll(job_id=job.pk)

    with caplog.at_level(logging.ERROR, logger="core.diskfull"):
        assert poll_now() is True
    job.refresh_from_db()
    assert job.status == VideoJob.Status.PROCESSING and not job.video_file, "still the provider's, tried again later"
    assert job.consecutive_failures == 1 and job.next_action_at > timezone.now()
    assert full_disk.files() == [], "no partial video"
    assert any("Storage is full" in record.getMessage() for record in caplog.records)

    full_disk.free_space()
    assert poll_now() is True
    job.refresh_from_db()
    assert job.status == VideoJob.Status.COMPLETED and job.video_bytes > 0
    assert full_disk.files() == [job.video_file.name]


def test_healthz_fails_its_storage_check_while_the_disk_is_full(full_disk, client):
    full = client.get("/healthz")
    assert full.status_code == 503 and full.json()["failing"] == ["storage"]
    assert full.json()["checks"]["storage"] == {"ok": False}
    full_disk.free_space()
    assert client.get("/healthz").status_code == 200
