"""DATA_DIR is private to the user running Studio, also when it existed before with a
looser mode, and every process (manage.py, the ASGI app, the Celery app) writes its files
with a 077 umask: the database, media and broker messages are readable by nobody else."""

import os
import stat
import subprocess
import sys

import pytest

from tests.conftest import ROOT, SUBPROCESS_ENV, run_manage

WRITE_FILES = """
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection
with connection.cursor() as cursor:
    cursor.execute("CREATE TABLE written (x INTEGER)")
default_storage.save("generations/1/image.png", ContentFile(b"png"))
"""


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture
def loose_data_dir(tmp_path):
    """A DATA_DIR made beforehand with 0755 folders, as `mkdir -p` would under umask 022."""
    data = tmp_path / "data"
    for folder in (data, data / "broker", data / "broker" / "queue", data / "media"):
        folder.mkdir(mode=0o755, parents=True, exist_ok=True)
        folder.chmod(0o755)
    return data


def test_manage_py_makes_an_existing_data_dir_private_and_writes_private_files(loose_data_dir):
    result = run_manage(
        "shell",
        "-c",
        WRITE_FILES,
        env={"DATA_DIR": str(loose_data_dir), "DATABASE_URL": f"duckdb:///{loose_data_dir / 'studio.duckdb'}"},
    )
    assert result.returncode == 0, result.stderr
    for folder in (loose_data_dir, loose_data_dir / "broker", loose_data_dir / "broker" / "queue"):
        assert mode(folder) == 0o700, folder
    written = [loose_data_dir / "media" / "generations" / "1" / "image.png", loose_data_dir / "studio.duckdb"]
    for path in written:
        assert mode(path) & 0o077 == 0, (path, oct(mode(path)))
    assert mode(loose_data_dir / "media" / "generations") == 0o700


@pytest.mark.parametrize("entry", ["core.asgi", "config.celery", "config.wsgi"])
def test_every_process_entry_point_sets_a_077_umask_and_a_private_data_dir(loose_data_dir, entry):
    script = f"import os, {entry}; previous = os.umask(0); print(oct(previous))"
    env = {**os.environ, **SUBPROCESS_ENV, "DATA_DIR": str(loose_data_dir), "SECRET_KEY": "x" * 50}
    env["DATABASE_URL"] = f"duckdb:///{loose_data_dir / 'studio.duckdb'}"
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "0o77"
    assert mode(loose_data_dir) == 0o700 and mode(loose_data_dir / "broker") == 0o700
