"""Finding 17 as the reviewer saw it: the web process as `make run` starts it, its media
and (on DuckDB) its database on a small filesystem filled to the last byte. Text and
images answer 503 saying storage is full, /healthz fails its storage check, nothing is
kept half; once space is freed both work again and nothing stored before is lost."""

from __future__ import annotations

import json
import os
import subprocess
import uuid

import httpx
import pytest

from openrouter.fake import FakeOpenRouter
from tests.support.stack import Stack

pytestmark = pytest.mark.integration

EMAIL, PASSWORD = "disk@example.com", "correct-horse-battery-staple"


@pytest.fixture
def small_disk(tmp_path):
    small = tmp_path / f"small-{uuid.uuid4().hex[:6]}"
    small.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", str(small)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here ({mounted.stderr.decode().strip()}); needs root")
    try:
        yield small
    finally:
        subprocess.run(["umount", "-l", str(small)], check=False)


def fill(folder) -> None:
    with open(folder / ".filler", "ab", buffering=0) as handle:
        try:
            while True:
                handle.write(b"\0" * 65536)
        except OSError:
            pass
        try:
            while True:
                handle.write(b"\0" * 512)
        except OSError:
            pass


@pytest.fixture
def stack(tmp_path, small_disk):
    data = tmp_path / "data"
    (small_disk / "media").mkdir()
    data.mkdir()
    os.symlink(small_disk / "media", data / "media")  # MEDIA_ROOT (DATA_DIR/media) on the small disk
    store_env = None
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        store_env = {"DATABASE_URL": f"duckdb:///{small_disk / 'studio.duckdb'}"}  # the database too
    with (
        FakeOpenRouter(port=0) as fake,
        Stack(data, fake=fake, store_env=store_env, env={"STORAGE_MIN_FREE_MB": "1"}) as stack,
    ):
        stack.prepare(users=[(EMAIL, PASSWORD)])
        stack.start_web_only()
        yield stack


def rows(stack) -> list[dict]:
    script = (
        "import json; from generation.models import Generation; "
        "print(json.dumps([dict(id=g.id, kind=g.kind, status=g.status, images=[i.file.name for i in g.images.all()]) "
        "for g in Generation.objects.order_by('id')]))"
    )
    return json.loads(stack.manage("shell", "-c", script).stdout.strip().splitlines()[-1])


def test_text_and_images_answer_503_while_the_disk_is_full_and_work_again_once_freed(stack, small_disk):
    client = httpx.Client(base_url=stack.url(""), timeout=60)
    token = client.post("/api/auth/login", json={"email": EMAIL, "password": PASSWORD}).json()["access"]
    auth = {"Authorization": f"Bearer {token}"}
    text = {"model": "openai/gpt-4o-mini", "prompt": "hello"}
    image = {"model": "openai/gpt-image-1", "prompt": "a fox", "n": 2}
    before = client.post("/api/generate/image", json=image, headers=auth)
    assert before.status_code == 201, before.text

    fill(small_disk)
    full_text = client.post("/api/generate/text", json=text, headers=auth)
    full_image = client.post("/api/generate/image", json=image, headers=auth)
    health = client.get("/healthz")

    # Text writes no file: it fails only when the database is on the full disk (DuckDB here);
    # a PostgreSQL server elsewhere still has room, and the answer comes.
    database_on_the_small_disk = not os.environ.get("DATABASE_URL", "").startswith("postgres")
    for response in (full_text, full_image) if database_on_the_small_disk else (full_image,):
        assert response.status_code == 503, response.text
        assert "storage is full" in response.json()["detail"]
    if not database_on_the_small_disk:
        assert full_text.status_code == 200, full_text.text
    assert health.status_code == 503 and "storage" in health.json()["failing"]
    assert "Storage is full" in stack.log_tail("web")

    (small_disk / ".filler").unlink()
    assert client.post("/api/generate/text", json=text, headers=auth).status_code == 200
    assert client.post("/api/generate/image", json=image, headers=auth).status_code == 201
    assert client.get("/healthz").status_code == 200

    stored = rows(stack)
    media = small_disk / "media"
    for row in stored:
        if row["status"] == "completed" and row["kind"] == "image":
            assert len(row["images"]) == 2 and all((media / name).is_file() for name in row["images"])
        else:
            assert row["images"] == []
    assert stored[0]["status"] == "completed", "what was stored before the disk filled is still there"
    on_disk = {str(p.relative_to(media)) for p in media.rglob("*") if p.is_file()}
    assert on_disk == {name for row in stored for name in row["images"]}, "no orphan, no partial file"
