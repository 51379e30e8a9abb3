"""
Tests of the django_duckdb backend.

In-process tests use the project's default database when it is DuckDB (they
are skipped on other stores) and create their own tables, inside the test's
transaction (DuckDB DDL is transactional). Tests with several processes run
`tests.django_duckdb.settings_standalone` in subprocesses on a temporary file,
whatever the project's store.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]

duckdb_only = pytest.mark.skipif(connection.vendor != "duckdb", reason="the default database is not DuckDB")


def standalone_env(db_path, **extra):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.django_duckdb.settings_standalone",
        "DUCKDB_TEST_NAME": str(db_path),
        "PYTHONPATH": str(ROOT),
    }
    env.update({k: str(v) for k, v in extra.items()})
    return env


def run_standalone(args, db_path, timeout=180, **extra):
    """Run `python <args>` with the standalone settings on db_path."""
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env=standalone_env(db_path, **extra),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture
def duck_tables(db):
    """Create the dynamic test models' tables for this test (rolled back after)."""
    from .dynamic_models import ALL_MODELS

    with connection.schema_editor() as editor:
        for model in ALL_MODELS:
            editor.create_model(model)
    return ALL_MODELS


@pytest.fixture
def duck_tables_transactional(transactional_db):
    """The dynamic models' tables outside any test transaction; dropped after."""
    from . import dynamic_models

    with connection.schema_editor() as editor:
        for model in dynamic_models.ALL_MODELS:
            editor.create_model(model)
    try:
        yield dynamic_models
    finally:
        with connection.schema_editor() as editor:
            for model in reversed(dynamic_models.ALL_MODELS):
                editor.delete_model(model)
