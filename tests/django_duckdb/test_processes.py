"""Real processes sharing one DuckDB file: migrations, turn-taking, timeouts."""

import json
import subprocess
import sys
import time

import pytest

from .conftest import ROOT, run_standalone, standalone_env


@pytest.fixture
def migrated_file(tmp_path):
    db_path = tmp_path / "shared.duckdb"
    result = run_standalone(["-m", "django", "migrate", "--noinput", "-v", "0"], db_path)
    assert result.returncode == 0, result.stderr
    return db_path


def test_migrate_from_an_empty_file_and_no_missing_migrations(migrated_file):
    """contrib apps, simplejwt's token_blacklist and a custom user model."""
    result = run_standalone(["-m", "django", "makemigrations", "--check", "--dry-run"], migrated_file)
    assert result.returncode == 0, result.stdout + result.stderr
    result = run_standalone(["-m", "django", "showmigrations", "--plan"], migrated_file)
    assert "[ ]" not in result.stdout
    assert "token_blacklist.0013" in result.stdout


def _spawn(db_path, *args, **env):
    return subprocess.Popen(
        [sys.executable, "-m", "tests.django_duckdb.procs", *args],
        cwd=ROOT,
        env=standalone_env(db_path, **env),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _result(proc, timeout=240):
    out, err = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, err
    return json.loads(out.strip().splitlines()[-1])


def test_two_processes_write_the_same_file_without_errors_or_lost_rows(migrated_file):
    web = _spawn(migrated_file, "write", "150", "web")
    worker = _spawn(migrated_file, "write", "150", "worker", "0.002")
    results = [_result(web), _result(worker)]
    for result in results:
        assert result["errors"] == []
    counts = _result(_spawn(migrated_file, "count"))
    assert counts == {"jobs": 300, "done": 300, "by_worker": {"web": 150, "worker": 150}}


def test_waiting_too_long_names_the_holding_process(migrated_file):
    holder = _spawn(migrated_file, "hold", "6")
    line = holder.stdout.readline()
    assert json.loads(line)["holding"]
    holder_pid = holder.pid
    started = time.monotonic()
    result = run_standalone(["-m", "tests.django_duckdb.procs", "count"], migrated_file, DUCKDB_LOCK_TIMEOUT=1)
    waited = time.monotonic() - started
    holder.communicate(timeout=60)
    assert result.returncode != 0
    assert "OperationalError" in result.stderr
    assert f"PID {holder_pid}" in result.stderr
    assert "lock_timeout" in result.stderr
    assert waited < 6  # gave up after its own timeout, not the holder's


def test_a_waiting_process_gets_in_when_the_holder_finishes(migrated_file):
    holder = _spawn(migrated_file, "hold", "1.5")
    assert json.loads(holder.stdout.readline())["holding"]
    result = run_standalone(["-m", "tests.django_duckdb.procs", "count"], migrated_file)
    holder.communicate(timeout=60)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["jobs"] == 0


def test_busy_web_process_lets_a_worker_in_and_nothing_is_lost(migrated_file):
    """
    A web-like process keeps the file busy from several threads; a
    worker-like process writes every 50 ms meanwhile. The web process must
    hand the file over whenever the worker waits: no errors on either side
    (nobody runs out of lock_timeout) and every write is there.
    """
    web = _spawn(migrated_file, "serve", "6", "4")
    worker = _spawn(migrated_file, "write", "60", "worker", "0.05")
    served, written = _result(web), _result(worker)
    assert served["errors"] == [] and served["requests"] > 0
    assert written["errors"] == []
    counts = _result(_spawn(migrated_file, "count"))
    # Each request inserts one job; the worker inserted 60.
    assert counts["by_worker"] == {"web": served["requests"], "worker": 60}
    assert counts["done"] == counts["jobs"]


def test_an_idle_process_gives_the_file_back(migrated_file):
    """A process that stopped using the database doesn't keep the file."""
    idle = _spawn(migrated_file, "idle", "20")
    assert json.loads(idle.stdout.readline())["queried"]
    try:
        result = run_standalone(
            ["-m", "tests.django_duckdb.procs", "count"],
            migrated_file,
            DUCKDB_LOCK_TIMEOUT=15,
        )
        assert result.returncode == 0, result.stderr
    finally:
        idle.kill()
        idle.communicate()
