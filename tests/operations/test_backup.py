"""manage.py backup / restore / backup --verify on the store under test, each in its own
process as an operator runs them: the round trip, refusals, damage found by --verify, a
backup killed midway, pruning, and the audit entries."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from tests.conftest import ROOT, SUBPROCESS_ENV, run_manage
from tests.operations.stores import media_files, table_rows
from tests.support.stack import fresh_store

pytestmark = pytest.mark.integration

FILL = """
from tests.factories import *
from audit.models import AuditEntry
for i in range({n}):
    user = UserFactory()
    GenerationFactory(owner=user)
    GeneratedImageFactory()
"""


def manage(env, *args, check=True, timeout=300):
    result = run_manage(*args, env=env, timeout=timeout)
    if check:
        assert result.returncode == 0, result.stdout + result.stderr
    return result


@pytest.fixture(scope="module")
def seed(tmp_path_factory):
    """Migrated once per module (migrations take a while on DuckDB), with 5 users of their
    own, 5 generations, and 5 stored images (each with its generation and owner)."""
    data = tmp_path_factory.mktemp("seed")
    with fresh_store(data) as store_env:
        env = {"DATA_DIR": str(data), **store_env, "SECRET_KEY": "x" * 60}
        manage(env, "migrate", "--noinput", "-v", "0")
        manage(env, "shell", "-c", FILL.format(n=5))
        yield env


@pytest.fixture
def live(seed, tmp_path):
    """A copy of the seed installation: its DuckDB file (or a database made from it as a
    template) and its media folder."""
    data = tmp_path / "live"
    shutil.copytree(seed["DATA_DIR"], data)
    url = seed["DATABASE_URL"]
    if url.startswith("duckdb:"):
        yield {**seed, "DATA_DIR": str(data), "DATABASE_URL": f"duckdb:///{data / 'studio.duckdb'}"}
        return
    import psycopg

    parts = urlsplit(url)
    name = f"{parts.path.lstrip('/')}_{uuid.uuid4().hex[:6]}"
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{parts.path.lstrip("/")}"')
    try:
        yield {**seed, "DATA_DIR": str(data), "DATABASE_URL": urlunsplit(parts._replace(path=f"/{name}"))}
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def fresh(tmp_path):
    data = tmp_path / "fresh"
    with fresh_store(data) as store_env:
        yield {"DATA_DIR": str(data), **store_env, "SECRET_KEY": "y" * 60}


def media_of(env) -> Path:
    return Path(env["DATA_DIR"]) / "media"


def test_a_backup_restores_every_row_and_file_into_an_empty_installation(live, fresh, tmp_path):
    backups = tmp_path / "backups"
    path = Path(manage(live, "backup", str(backups)).stdout.strip().splitlines()[-1])
    manifest = json.loads((path / "manifest.json").read_text())
    assert manifest["tables"]["users"] == 10 and manifest["tables"]["generated_images"] == 5
    assert len(manifest["media"]) == 5 and all(len(m["sha256"]) == 64 for m in manifest["media"])
    from django.db.migrations.loader import MigrationLoader

    [(_, audit_leaf)] = [node for node in MigrationLoader(None).graph.leaf_nodes() if node[0] == "audit"]
    assert manifest["migrations"]["audit"] == audit_leaf
    assert "verifies: " in manage(live, "backup", "--verify", str(path)).stdout

    restored = manage(fresh, "restore", str(backups))  # a folder of backups: its newest
    assert "Restored " + path.name in restored.stdout
    before, after = table_rows(live["DATABASE_URL"]), table_rows(fresh["DATABASE_URL"])
    # The restore adds its own audit entry (and the backup one) after the snapshot.
    audit_before, audit_after = before.pop("audit_auditentry"), after.pop("audit_auditentry")
    assert after == before
    assert [r for r in audit_after if "backup.restored" in r] and len(audit_after) == len(audit_before)
    assert media_files(media_of(fresh)) == media_files(media_of(live)) != {}
    # The restored installation works: Django reads it.
    manage(fresh, "shell", "-c", "from accounts.models import User; assert User.objects.count() == 10")


def test_restore_refuses_data_that_is_there_unless_forced(live, fresh, tmp_path):
    path = manage(live, "backup", str(tmp_path / "b")).stdout.strip()
    refused = manage(live, "restore", path, check=False)
    assert refused.returncode != 0 and "Refusing to restore over existing data" in refused.stderr
    manage(fresh, "migrate", "--noinput", "-v", "0")
    refused = manage(fresh, "restore", path, check=False)
    assert refused.returncode != 0 and "tables" in refused.stderr
    manage(fresh, "shell", "-c", FILL.format(n=2))
    manage(fresh, "restore", path, "--force")
    manage(fresh, "shell", "-c", "from accounts.models import User; assert User.objects.count() == 10")
    assert media_files(media_of(fresh)) == media_files(media_of(live))


def test_verify_finds_a_changed_database_a_changed_file_and_a_missing_one(live, tmp_path):
    path = Path(manage(live, "backup", str(tmp_path / "b")).stdout.strip())
    manifest = json.loads((path / "manifest.json").read_text())
    first, second = manifest["media"][0]["path"], manifest["media"][1]["path"]
    (path / "media" / first).write_bytes(b"not the image")
    (path / "media" / second).unlink()
    result = manage(live, "backup", "--verify", str(path), check=False)
    assert result.returncode != 0
    assert f"media file {first}: size or SHA-256 differs" in result.stderr
    assert f"media file {second} missing" in result.stderr

    database = path / manifest["database"]["file"]
    with open(database, "r+b") as f:
        f.seek(database.stat().st_size // 2)
        f.write(os.urandom(4096))
    result = manage(live, "backup", "--verify", str(path), check=False)
    assert result.returncode != 0 and "SHA-256 differs from the manifest" in result.stderr
    refused = manage(live, "restore", str(path), "--force", check=False)
    assert refused.returncode != 0 and "does not verify" in refused.stderr


def test_tables_are_counted_from_the_snapshot_itself(live, tmp_path):
    """A manifest that lies about a table is caught: the rows are counted in the file."""
    path = Path(manage(live, "backup", str(tmp_path / "b")).stdout.strip())
    manifest = json.loads((path / "manifest.json").read_text())
    manifest["tables"]["users"] += 1
    (path / "manifest.json").write_text(json.dumps(manifest))
    result = manage(live, "backup", "--verify", str(path), check=False)
    assert "table users: 10 rows, the manifest says 11" in result.stderr


@pytest.mark.parametrize("when", ["at once", "while copying media"])
def test_a_backup_killed_midway_leaves_the_previous_backup_and_the_live_data_intact(live, tmp_path, when):
    backups = tmp_path / "backups"
    previous = Path(manage(live, "backup", str(backups)).stdout.strip())
    # Enough media that copying it takes a while.
    big = media_of(live) / "bulk"
    big.mkdir(parents=True)
    for i in range(120):
        (big / f"{i}.bin").write_bytes(os.urandom(1 << 20))
    live_rows = table_rows(live["DATABASE_URL"])
    live_media = media_files(media_of(live))

    process = subprocess.Popen(
        [sys.executable, str(ROOT / "manage.py"), "backup", str(backups)],
        cwd=ROOT,
        env={**os.environ, **SUBPROCESS_ENV, **live},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 60
    while True:
        temporary = [p for p in backups.glob(".tmp-*")]
        if temporary and (when == "at once" or (temporary[0] / "media" / "bulk").exists()):
            break
        assert time.monotonic() < deadline and process.poll() is None, process.communicate()
        time.sleep(0.005)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)

    assert [p.name for p in backups.iterdir() if not p.name.startswith(".")] == [previous.name]
    assert "verifies" in manage(live, "backup", "--verify", str(previous)).stdout
    assert table_rows(live["DATABASE_URL"]) == live_rows
    assert media_files(media_of(live)) == live_media
    # The next backup clears what the killed one left and completes.
    newest = Path(manage(live, "backup", str(backups)).stdout.strip())
    assert not list(backups.glob(".tmp-*"))
    assert len(json.loads((newest / "manifest.json").read_text())["media"]) == 125


def test_keep_prunes_the_oldest_backups_and_each_backup_is_audited(live, tmp_path):
    backups = tmp_path / "b"
    made = [manage(live, "backup", str(backups), "--keep", "2").stdout.strip() for _ in range(3)]
    assert sorted(p.name for p in backups.iterdir()) == sorted(Path(p).name for p in made[1:])
    script = (
        "from audit.models import AuditEntry as A; "
        "print([(e.action, e.target_id, e.actor_id, e.after['tables'] > 10) for e in A.objects.order_by('id')])"
    )
    entries = manage(live, "shell", "-c", script).stdout.strip().splitlines()[-1]
    expected = [("backup.created", Path(p).name, None, True) for p in made]
    assert entries == str(expected)
