"""Reading whole stores (a DuckDB file or a PostgreSQL database, by DATABASE_URL) and media
folders from the test process, to compare a restored installation with the live one."""

from __future__ import annotations

import hashlib
from pathlib import Path


def _duckdb_path(url: str) -> str:
    return url.split(":///", 1)[1]


def table_rows(url: str) -> dict[str, list[tuple]]:
    """Every row of every table, each table's rows sorted (by their text)."""
    if url.startswith("duckdb:"):
        import duckdb

        conn = duckdb.connect(_duckdb_path(url), read_only=True)
        try:
            names = [
                r[0]
                for r in conn.execute(
                    "SELECT table_name FROM information_schema.tables "
                    "WHERE table_schema = 'main' AND table_type = 'BASE TABLE'"
                ).fetchall()
            ]
            return {name: sorted(conn.execute(f'SELECT * FROM "{name}"').fetchall(), key=repr) for name in names}
        finally:
            conn.close()
    import psycopg

    with psycopg.connect(url.replace("postgres://", "postgresql://", 1)) as pg:
        names = [
            r[0]
            for r in pg.execute(
                "SELECT table_name FROM information_schema.tables "
                "WHERE table_schema = 'public' AND table_type = 'BASE TABLE'"
            ).fetchall()
        ]
        return {name: sorted(pg.execute(f'SELECT * FROM "{name}"').fetchall(), key=repr) for name in names}


def columns(url: str, table: str) -> list[str]:
    if url.startswith("duckdb:"):
        import duckdb

        conn = duckdb.connect(_duckdb_path(url), read_only=True)
        try:
            return [d[0] for d in conn.execute(f'SELECT * FROM "{table}" LIMIT 0').description]
        finally:
            conn.close()
    import psycopg

    with psycopg.connect(url.replace("postgres://", "postgresql://", 1)) as pg:
        return [d[0] for d in pg.execute(f'SELECT * FROM "{table}" LIMIT 0').description or ()]


def media_files(root: Path) -> dict[str, str]:
    """Relative path -> SHA-256 of every file under ``root``."""
    root = Path(root)
    if not root.exists():
        return {}
    return {
        path.relative_to(root).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }
