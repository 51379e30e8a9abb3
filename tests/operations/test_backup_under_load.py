"""Backups of a running installation: web, worker and beat as real processes (as `make run`
starts them) on the store under test, users generating text and images over HTTP and a
video job rendering while `manage.py backup` runs, and beat's scheduled backups on top.
Each backup verifies and restores into a fresh installation with nothing lost."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from openrouter.fake import FakeOpenRouter
from tests.conftest import ROOT, SUBPROCESS_ENV
from tests.operations.stores import columns, media_files, table_rows
from tests.support.stack import Stack, fresh_store

pytestmark = pytest.mark.integration

EMAIL, PASSWORD = "load@example.com", "correct-horse-battery-staple"
# Rows that never change once they are in a terminal state: in a backup taken under load
# they must be exactly what the live store holds at the end.
TERMINAL = {"generations": ("completed", "failed", "partial"), "generated_videos": ("completed", "failed", "cancelled")}


def restore_into_fresh(stack, backup: Path, data: Path):
    """Restore ``backup`` into a new installation (its own DATA_DIR and empty store)."""
    cm = fresh_store(data)
    store_env = cm.__enter__()
    env = {**stack.env, "DATA_DIR": str(data), **store_env}
    result = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "restore", str(backup)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return cm, env


# Real processes and a dozen manage.py runs (each a Django start-up): minutes on a busy machine.
@pytest.mark.timeout(900)
def test_backups_taken_under_load_restore_with_nothing_lost(tmp_path):
    backups, scheduled = tmp_path / "backups", tmp_path / "scheduled"
    with (
        FakeOpenRouter(video_duration=4) as fake,
        Stack(
            tmp_path / "live",
            fake=fake,
            env={
                **SUBPROCESS_ENV,
                # Beat's scheduled backups every ~5 s, keeping the newest two.
                "BACKUP_SCHEDULE_HOURS": str(5 / 3600),
                "BACKUP_DIR": str(scheduled),
                "BACKUP_KEEP": "2",
            },
        ) as stack,
    ):
        stack.prepare(users=[(EMAIL, PASSWORD)])
        stack.start()
        api = stack.api(EMAIL, PASSWORD)
        video = api.post(
            stack.url("/api/generate/video"),
            json={"model": "google/veo-3.1", "prompt": "a lighthouse under load", "duration": 4},
            timeout=30,
        )
        assert video.status_code == 202, video.text

        stop, made, errors = threading.Event(), [], []

        def load(n: int) -> None:
            session = stack.api(EMAIL, PASSWORD)
            i = 0
            while not stop.is_set():
                i += 1
                if i % 4 == 0:
                    path, body = (
                        "/api/generate/image",
                        {"model": "google/gemini-2.5-flash-image", "prompt": f"p{n}-{i}"},
                    )
                else:
                    path, body = "/api/generate/text", {"model": "openai/gpt-4o-mini", "prompt": f"hello {n}-{i}"}
                try:
                    response = session.post(stack.url(path), json=body, timeout=60)
                except Exception as exc:  # noqa: BLE001 - counted, reported below
                    errors.append(repr(exc))
                    continue
                (made if response.status_code in (200, 201) else errors).append(response.status_code)

        threads = [threading.Thread(target=load, args=(n,)) for n in range(4)]
        for thread in threads:
            thread.start()
        try:
            while len(made) < 10:
                assert not errors, errors
                time.sleep(0.1)
            under_load = []
            for _ in range(2):
                before = len(made)
                under_load.append(Path(stack.manage("backup", str(backups)).stdout.strip().splitlines()[-1]))
                assert len(made) > before, "the load kept running during the backup"
        finally:
            stop.set()
            for thread in threads:
                thread.join(timeout=120)
        assert not errors, errors[:5]
        stack.wait_for_status(api, video.json()["id"], "completed", timeout=120)
        deadline = time.monotonic() + 60
        while len(list(scheduled.glob("studio-*"))) < 2:  # beat's backups, made by the worker
            assert time.monotonic() < deadline, stack.log_tail()
            time.sleep(0.5)
        final = Path(stack.manage("backup", str(backups)).stdout.strip().splitlines()[-1])
        for name in ("beat", "worker", "web"):
            stack.stop(name)
        live_url, live_media = stack.env["DATABASE_URL"], Path(stack.env["DATA_DIR"]) / "media"
        live = table_rows(live_url)

        for path in [*under_load, final, *sorted(scheduled.glob("studio-*"))]:
            assert "verifies" in stack.manage("backup", "--verify", str(path)).stdout

        # The quiet backup: every table and file exactly as live (less the audit entries
        # written after it: its own, and the restore's).
        cm, env = restore_into_fresh(stack, final, tmp_path / "restored-final")
        try:
            restored = table_rows(env["DATABASE_URL"])
            for table in live:
                if table != "audit_auditentry":
                    assert restored[table] == live[table], table
            assert len(live["generations"]) >= len(made) and len(live["generated_videos"]) == 1
            assert media_files(Path(env["DATA_DIR"]) / "media") == media_files(live_media)
        finally:
            cm.__exit__(None, None, None)

        # Backups taken under load: what they hold is a consistent moment, nothing half.
        for i, path in enumerate(under_load):
            manifest = json.loads((path / "manifest.json").read_text())
            cm, env = restore_into_fresh(stack, path, tmp_path / f"restored-{i}")
            try:
                restored = table_rows(env["DATABASE_URL"])
                counts = {t: len(rows) for t, rows in restored.items() if t != "audit_auditentry"}
                assert counts == {t: n for t, n in manifest["tables"].items() if t != "audit_auditentry"}
                assert 0 < counts["generations"] < len(live["generations"])
                for table, done in TERMINAL.items():
                    names = columns(env["DATABASE_URL"], table)
                    status = names.index("status")
                    live_rows = {repr(row) for row in live[table]}  # rows may hold dicts (JSON)
                    for row in restored[table]:
                        if row[status] in done:
                            assert repr(row) in live_rows, (table, row)
                # Every stored file a restored row names is there, byte for byte as live.
                restored_media = media_files(Path(env["DATA_DIR"]) / "media")
                live_files = media_files(live_media)
                file_column = columns(env["DATABASE_URL"], "generated_images").index("file")
                for row in restored["generated_images"]:
                    assert restored_media[row[file_column]] == live_files[row[file_column]]
            finally:
                cm.__exit__(None, None, None)
        assert len(list(scheduled.glob("studio-*"))) == 2  # BACKUP_KEEP
        assert os.path.isdir(scheduled)
