"""The start-up step every entry point runs before Django loads its settings
(manage.py, the ASGI/WSGI application, the Celery app, the test run).

It makes the data folder private to the user running Studio (0700, an existing one
too) and sets the process's umask to 077, so that the database, media, broker messages
and logs it writes are the user's alone; and, unless SECRET_KEY is set, it generates the
secret key file once. Settings only read what this step made, so importing them has no
side effects.
"""

from __future__ import annotations

import os
import secrets
import sys
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
SECRET_KEY_FILE = "secret_key"
# Folders under DATA_DIR that the processes write to.
DATA_FOLDERS = ("media", "static", "broker/queue", "broker/processed", "broker/control")


def resolve(path: str) -> Path:
    """A path from the environment: relative ones are relative to the project folder."""
    p = Path(path).expanduser()
    return p if p.is_absolute() else BASE_DIR / p


def data_dir() -> Path:
    return resolve(os.environ.get("DATA_DIR") or "var")


# Files and folders this process creates are its user's only (0600 files, 0700 folders).
UMASK = 0o077


def prepare(folder: Path | None = None) -> Path:
    """Make DATA_DIR and its folders (mode 0700, also when they exist already), set the
    process's umask to 077, and make the secret key file (0600) if missing."""
    os.umask(UMASK)
    folder = folder or data_dir()
    for sub in ("", *DATA_FOLDERS):
        path = folder / sub
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
    for path in {
        folder,
        *(folder / sub.split("/")[0] for sub in DATA_FOLDERS),
        *(folder / sub for sub in DATA_FOLDERS),
    }:
        _make_private(path)
    if not os.environ.get("SECRET_KEY"):
        _create_secret_key(folder / SECRET_KEY_FILE)
    _prepare_metrics_dir(folder)
    return folder


def _make_private(path: Path) -> None:
    """Mode 0700 for a folder made earlier with a looser mode (by hand, or by an older
    version); a folder this user does not own is left as it is, with a warning."""
    try:
        if path.stat().st_mode & 0o077:
            path.chmod(0o700)
    except OSError as exc:
        # Logging is not set up yet: settings have not been read.
        print(f"warning: could not make {path} private to this user ({exc})", file=sys.stderr)


def metrics_dir(folder: Path | None = None) -> Path:
    """Where the processes' Prometheus metrics files go (METRICS_DIR, else DATA_DIR/metrics)."""
    configured = os.environ.get("METRICS_DIR")
    return resolve(configured) if configured else (folder or data_dir()) / "metrics"


def _prepare_metrics_dir(folder: Path) -> None:
    """prometheus-client chooses its multiprocess mode when first imported, from
    PROMETHEUS_MULTIPROC_DIR: set it for this process and its children, always from this
    installation's own DATA_DIR (never one inherited from a parent of another installation)."""
    path = metrics_dir(folder)
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(path)


def _create_secret_key(path: Path) -> None:
    """Written once, atomically: of two processes starting together, one creates the
    file with its final mode and content; the other finds it and keeps it."""
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    with os.fdopen(descriptor, "w") as handle:
        handle.write(secrets.token_urlsafe(64))


def read_secret_key(folder: Path) -> str:
    """The generated secret key; empty when the start-up step has not run."""
    try:
        return (folder / SECRET_KEY_FILE).read_text().strip()
    except FileNotFoundError:
        return ""
