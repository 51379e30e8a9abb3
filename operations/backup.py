"""Backups that restore: a consistent snapshot of the database and the media folder, taken
while web, worker and beat keep running, checked without restoring, and put back into an
empty installation.

A backup is a folder ``<BACKUP_DIR>/studio-<UTC time>-<random>/`` with

    manifest.json     when, which version and migrations, the database file's hash, the rows
                      of every table, and every media file with its size and SHA-256
    studio.duckdb     DuckDB: the database file itself, copied whole after a CHECKPOINT
    database.dump     PostgreSQL: pg_dump's custom format (one consistent snapshot)
    media/            the media files

It is written into ``.tmp-<name>`` beside its final place and renamed into place once
complete, so a backup killed midway leaves only a temporary folder (removed by the next
backup) and never touches an earlier backup or the live data.

DuckDB: the backup takes the database backend's lease on the file (django_duckdb's
registry), so the other processes wait for their turn as they do for any unit of work; with
the lease held it checkpoints (the WAL goes into the file) and copies the file in a child
process. Not in this process: closing any descriptor of the file here would drop the POSIX
lock DuckDB holds on it, and another process could open it mid-copy.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from django.conf import settings
from django.db import connection

log = logging.getLogger(__name__)

FORMAT = 1
MANIFEST = "manifest.json"
DUCKDB_FILE = "studio.duckdb"
PG_DUMP_FILE = "database.dump"
MEDIA = "media"
PREFIX = "studio-"
TMP_PREFIX = ".tmp-"
_NAME = re.compile(r"^studio-\d{8}T\d{6}Z-[0-9a-f]{6}$")


class BackupError(Exception):
    """A backup could not be written, checked or restored; the message says why."""


@dataclass
class Verification:
    path: Path
    problems: list[str] = field(default_factory=list)
    tables: dict[str, int] = field(default_factory=dict)
    files: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems


# ------------------------------------------------------------------ helpers


def store() -> str:
    return "duckdb" if connection.vendor == "duckdb" else "postgresql"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _copy_hashing(src: Path, dest: Path) -> tuple[int, str]:
    digest, size = hashlib.sha256(), 0
    with open(src, "rb") as source, open(dest, "wb") as target:
        for block in iter(lambda: source.read(1 << 20), b""):
            digest.update(block)
            size += len(block)
            target.write(block)
        target.flush()
        os.fsync(target.fileno())
    shutil.copystat(src, dest)
    return size, digest.hexdigest()


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _version() -> str:
    try:
        result = subprocess.run(
            ["git", "describe", "--always", "--dirty", "--tags"],
            cwd=settings.BASE_DIR,
            capture_output=True,
            text=True,
            timeout=10,
        )
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    return result.stdout.strip() if result.returncode == 0 and result.stdout.strip() else "unknown"


def _media_files(root: Path) -> Iterator[Path]:
    if not root.exists():
        return
    for folder, _dirs, files in os.walk(root):
        for name in sorted(files):
            yield Path(folder) / name


def _pg_env() -> tuple[list[str], dict]:
    db = settings.DATABASES["default"]
    args = ["--host", db.get("HOST") or "127.0.0.1", "--port", str(db.get("PORT") or 5432)]
    if db.get("USER"):
        args += ["--username", db["USER"]]
    env = {**os.environ}
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = db["PASSWORD"]  # never on the command line, which others can read
    return args, env


def _run(args: list[str], env: dict | None = None, **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run(args, capture_output=True, text=True, env=env, **kwargs)
    if result.returncode != 0:
        raise BackupError(f"{args[0]} failed: {result.stderr.strip()[:2000]}")
    return result


# ------------------------------------------------------------------ reading a snapshot


def duckdb_tables(path: Path) -> dict[str, int]:
    """Rows of every table in a DuckDB file (opened read-only; never the live file)."""
    import duckdb

    conn = duckdb.connect(str(path), read_only=True)
    try:
        names = [
            row[0]
            for row in conn.execute(
                "SELECT table_name FROM information_schema.tables "
                "WHERE table_schema = 'main' AND table_type = 'BASE TABLE' ORDER BY table_name"
            ).fetchall()
        ]
        return {name: _one(conn.execute(f'SELECT count(*) FROM "{name}"').fetchone()) for name in names}
    finally:
        conn.close()


def _one(row) -> int:
    assert row is not None  # count(*) always answers a row
    return int(row[0])


def duckdb_migrations(path: Path) -> dict[str, str]:
    import duckdb

    conn = duckdb.connect(str(path), read_only=True)
    try:
        rows = conn.execute("SELECT app, max(name) FROM django_migrations GROUP BY app ORDER BY app").fetchall()
    finally:
        conn.close()
    return dict(rows)


_COPY = re.compile(r'^COPY (?:"?(?P<schema>[^".]+)"?\.)?"?(?P<table>[^" ]+)"? \((?P<columns>[^)]*)\) FROM stdin;$')


def pg_dump_tables(path: Path) -> tuple[dict[str, int], dict[str, str]]:
    """Rows of every table in a pg_dump archive, and the latest migration of each app, read
    from the archive's data (pg_restore to a script, no server involved). COPY's text format
    writes one line per row (newlines inside values are escaped)."""
    process = subprocess.Popen(
        ["pg_restore", "--data-only", "--file", "-", str(path)], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    tables: dict[str, int] = {}
    migrations: dict[str, str] = {}
    current, columns = None, []
    assert process.stdout is not None
    for raw in process.stdout:
        line = raw.decode("utf-8", "replace").rstrip("\n")
        if current is None:
            match = _COPY.match(line)
            if match:
                current = match["table"]
                columns = [c.strip().strip('"') for c in match["columns"].split(",")]
                tables[current] = 0
            continue
        if line == "\\.":
            current = None
            continue
        tables[current] += 1
        if current == "django_migrations":
            row = dict(zip(columns, line.split("\t"), strict=False))
            app, name = row.get("app"), row.get("name")
            if app and name and name > migrations.get(app, ""):
                migrations[app] = name
    _, stderr = process.communicate()
    if process.returncode != 0:
        raise BackupError(f"pg_restore could not read {path.name}: {stderr.decode(errors='replace')[:2000]}")
    return dict(sorted(tables.items())), dict(sorted(migrations.items()))


def _pg_live_tables() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name"
        )
        return [row[0] for row in cursor.fetchall()]


# ------------------------------------------------------------------ writing one


def _snapshot_duckdb(folder: Path) -> None:
    """Copy the live DuckDB file into ``folder`` under the backend's lease."""
    connection.ensure_connection()
    instance = connection.connection.instance
    session = instance.acquire()
    try:
        session.conn.execute("CHECKPOINT")
        _run(
            [
                sys.executable,
                "-c",
                "import shutil, sys, os; shutil.copyfile(sys.argv[1], sys.argv[2]); "
                "f = os.open(sys.argv[2], os.O_RDONLY); os.fsync(f)",
                instance.path,
                str(folder / DUCKDB_FILE),
            ],
        )
    finally:
        instance.release(session)
        connection.close()


def _snapshot_postgres(folder: Path) -> None:
    args, env = _pg_env()
    db = settings.DATABASES["default"]
    _run(["pg_dump", *args, "--format=custom", "--no-owner", "--file", str(folder / PG_DUMP_FILE), db["NAME"]], env=env)


def _copy_media(src: Path, dest: Path) -> list[dict]:
    listed = []
    for path in _media_files(src):
        relative = path.relative_to(src)
        target = dest / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            size, digest = _copy_hashing(path, target)
        except FileNotFoundError:
            continue  # deleted while we copied: it is not part of the snapshot either
        listed.append({"path": relative.as_posix(), "size": size, "sha256": digest})
    return listed


def _clean_leftovers(dest_dir: Path) -> None:
    """Remove temporary folders of backups whose process is gone (killed midway)."""
    for folder in dest_dir.glob(TMP_PREFIX + "*"):
        try:
            pid = int((folder / ".pid").read_text())
            os.kill(pid, 0)
            continue  # still being written
        except ProcessLookupError:
            pass
        except (OSError, ValueError):
            pass
        shutil.rmtree(folder, ignore_errors=True)


def backup_create(*, dest_dir: Path, keep: int | None = None, record: bool = True) -> Path:
    """Write a backup under ``dest_dir`` and return its folder; keep the newest ``keep``."""
    dest_dir = Path(dest_dir)
    dest_dir.mkdir(parents=True, exist_ok=True)
    _clean_leftovers(dest_dir)
    now = datetime.now(UTC)
    name = f"{PREFIX}{now:%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"
    work = Path(tempfile.mkdtemp(prefix=TMP_PREFIX + name + "-", dir=dest_dir))
    (work / ".pid").write_text(str(os.getpid()))
    try:
        kind = store()
        # The database first: every file a row in the snapshot names was written before
        # that row committed, so it is in the media folder when we copy it next.
        if kind == "duckdb":
            _snapshot_duckdb(work)
            database = work / DUCKDB_FILE
            tables, migrations = duckdb_tables(database), duckdb_migrations(database)
        else:
            _snapshot_postgres(work)
            database = work / PG_DUMP_FILE
            tables, migrations = pg_dump_tables(database)
        media = _copy_media(Path(settings.MEDIA_ROOT), work / MEDIA)
        manifest = {
            "format": FORMAT,
            "name": name,
            "created_at": now.isoformat(),
            "store": kind,
            "version": _version(),
            "migrations": migrations,
            "database": {"file": database.name, "size": database.stat().st_size, "sha256": _sha256(database)},
            "tables": tables,
            "media": media,
        }
        with open(work / MANIFEST, "w") as f:
            json.dump(manifest, f, indent=1, sort_keys=True)
            f.flush()
            os.fsync(f.fileno())
        (work / ".pid").unlink()
        final = dest_dir / name
        os.rename(work, final)
        _fsync_dir(dest_dir)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    log.info("Backup written: %s (%d tables, %d media files)", final, len(tables), len(media))
    if record:
        _record("backup.created", final, manifest)
    if keep:
        backup_prune(dest_dir=dest_dir, keep=keep)
    return final


def backup_list(dest_dir: Path) -> list[Path]:
    """Complete backups under ``dest_dir``, oldest first."""
    dest_dir = Path(dest_dir)
    if not dest_dir.is_dir():
        return []
    return sorted(p for p in dest_dir.iterdir() if p.is_dir() and _NAME.match(p.name) and (p / MANIFEST).exists())


def backup_prune(*, dest_dir: Path, keep: int) -> list[Path]:
    """Delete all but the newest ``keep`` backups; return those deleted."""
    backups = backup_list(dest_dir)
    doomed = backups[: max(len(backups) - max(keep, 1), 0)]
    for path in doomed:
        shutil.rmtree(path)
    return doomed


def resolve_backup(path: Path) -> Path:
    """A backup folder, or a folder of backups (its newest)."""
    path = Path(path)
    if (path / MANIFEST).exists():
        return path
    backups = backup_list(path)
    if backups:
        return backups[-1]
    raise BackupError(f"No backup at {path} (no {MANIFEST}, and no backups in it).")


# ------------------------------------------------------------------ checking one


def backup_verify(*, path: Path) -> Verification:
    """Check a backup without restoring it: the manifest, the database file's hash, the rows
    of every table (read from the snapshot itself) and every media file's size and hash."""
    path = resolve_backup(path)
    report = Verification(path)
    try:
        manifest = json.loads((path / MANIFEST).read_text())
    except (OSError, ValueError) as exc:
        report.problems.append(f"manifest unreadable: {exc}")
        return report
    if manifest.get("format") != FORMAT:
        report.problems.append(f"unknown backup format {manifest.get('format')!r}")
        return report
    database = path / manifest["database"]["file"]
    if not database.exists():
        report.problems.append(f"database file {database.name} missing")
        return report
    if _sha256(database) != manifest["database"]["sha256"]:
        report.problems.append(f"database file {database.name}: SHA-256 differs from the manifest")
    try:
        if manifest["store"] == "duckdb":
            report.tables = duckdb_tables(database)
        else:
            report.tables, _ = pg_dump_tables(database)
    except Exception as exc:  # a damaged file: say so, whatever the library raised
        report.problems.append(f"database file {database.name} cannot be read: {exc}")
    else:
        for table in sorted(set(manifest["tables"]) | set(report.tables)):
            expected, found = manifest["tables"].get(table), report.tables.get(table)
            if expected != found:
                report.problems.append(f"table {table}: {found} rows, the manifest says {expected}")
    media_root = path / MEDIA
    listed = set()
    for entry in manifest["media"]:
        listed.add(entry["path"])
        file = media_root / entry["path"]
        if not file.is_file():
            report.problems.append(f"media file {entry['path']} missing")
        elif file.stat().st_size != entry["size"] or _sha256(file) != entry["sha256"]:
            report.problems.append(f"media file {entry['path']}: size or SHA-256 differs from the manifest")
        else:
            report.files += 1
    for file in _media_files(media_root):
        if file.relative_to(media_root).as_posix() not in listed:
            report.problems.append(f"media file {file.relative_to(media_root).as_posix()} not in the manifest")
    return report


# ------------------------------------------------------------------ restoring one


def _live_is_empty() -> tuple[bool, str]:
    """Whether the configured database has no tables and the media folder no files."""
    if store() == "duckdb":
        name = Path(settings.DATABASES["default"]["NAME"])
        if name.exists() and name.stat().st_size > 0:
            tables = connection.introspection.table_names()
            connection.close()
            if tables:
                return False, f"the database {name} has {len(tables)} tables"
    else:
        tables = _pg_live_tables()
        if tables:
            return False, f"the database {settings.DATABASES['default']['NAME']} has {len(tables)} tables"
    media = Path(settings.MEDIA_ROOT)
    if any(True for _ in _media_files(media)):
        return False, f"the media folder {media} has files"
    return True, ""


def backup_restore(*, path: Path, force: bool = False) -> dict:
    """Put a backup back into this installation's database and media folder. Refuses a
    database or media folder that is not empty unless ``force`` (then they are replaced).
    Stop web, worker and beat first. The backup is verified before anything is touched."""
    path = resolve_backup(path)
    report = backup_verify(path=path)
    if not report.ok:
        raise BackupError("The backup does not verify: " + "; ".join(report.problems[:10]))
    manifest = json.loads((path / MANIFEST).read_text())
    if manifest["store"] != store():
        raise BackupError(f"This is a {manifest['store']} backup; this installation runs on {store()}.")
    empty, why = _live_is_empty()
    if not empty and not force:
        raise BackupError(f"Refusing to restore over existing data ({why}); use --force to replace it.")
    if manifest["store"] == "duckdb":
        _restore_duckdb(path / DUCKDB_FILE)
    else:
        _restore_postgres(path / PG_DUMP_FILE, clean=not empty)
    _restore_media(path / MEDIA, Path(settings.MEDIA_ROOT))
    _record("backup.restored", path, manifest)
    log.info("Backup restored: %s", path)
    return manifest


def _restore_duckdb(snapshot: Path) -> None:
    from django_duckdb import registry
    from django_duckdb.filelock import file_lock_holder

    name = Path(settings.DATABASES["default"]["NAME"])
    connection.close()
    registry.close_instance(str(name))
    holder = file_lock_holder(str(name))
    if holder:
        raise BackupError(f"The database file {name} is in use (PID {holder}); stop web, worker and beat first.")
    name.parent.mkdir(parents=True, exist_ok=True)
    staging = name.with_name(name.name + ".restoring")
    shutil.copyfile(snapshot, staging)
    with open(staging, "rb+") as f:
        os.fsync(f.fileno())
    for leftover in (name.with_name(name.name + ".wal"),):
        leftover.unlink(missing_ok=True)
    os.replace(staging, name)
    _fsync_dir(name.parent)


def _restore_postgres(dump: Path, *, clean: bool) -> None:
    args, env = _pg_env()
    db = settings.DATABASES["default"]
    connection.close()
    options = ["--clean", "--if-exists"] if clean else []
    _run(
        [
            "pg_restore",
            *args,
            "--no-owner",
            "--no-privileges",
            "--exit-on-error",
            "--single-transaction",
            *options,
            "--dbname",
            db["NAME"],
            str(dump),
        ],
        env=env,
    )


def _restore_media(src: Path, dest: Path) -> None:
    """Replace the media folder's content with the backup's (staged beside it, then swapped)."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".media-restoring-", dir=dest.parent))
    try:
        if src.exists():
            shutil.copytree(src, staging, dirs_exist_ok=True)
        old = dest.with_name(dest.name + ".replaced-" + secrets.token_hex(3))
        if dest.exists():
            os.rename(dest, old)
        os.rename(staging, dest)
        os.chmod(dest, 0o700)
        shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def _record(action: str, path: Path, manifest: dict) -> None:
    from audit import services as audit

    audit.record(
        action,
        target_type="backup",
        target_id=path.name,
        target_repr=str(path),
        after={
            "path": str(path),
            "store": manifest["store"],
            "version": manifest["version"],
            "tables": len(manifest["tables"]),
            "rows": sum(manifest["tables"].values()),
            "media_files": len(manifest["media"]),
        },
        actor=audit.SYSTEM,
    )
    connection.close()
