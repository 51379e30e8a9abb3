import json
import logging

import pytest

from config.celery import app as celery_app
from tests.conftest import run_manage

pytestmark = pytest.mark.django_db


def test_healthz_reports_database_broker_and_storage_ok(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "checks": {"database": {"ok": True}, "broker": {"ok": True}, "storage": {"ok": True}},
        "failing": [],
    }


def test_healthz_names_an_unreachable_broker_and_logs_why(client, monkeypatch, caplog):
    # A real broker URL with nothing listening behind it.
    # Celery prefers the CELERY_BROKER_URL variable (set on CI's Redis pass) to its config.
    monkeypatch.setenv("CELERY_BROKER_URL", "redis://127.0.0.1:1/0")
    monkeypatch.setattr(celery_app.conf, "broker_url", "redis://127.0.0.1:1/0")
    monkeypatch.setitem(celery_app.conf, "broker_transport", None)  # the embedded setup names its own
    with caplog.at_level(logging.WARNING, logger="core.health"):
        response = client.get("/healthz")
    assert response.status_code == 503
    # Only which part failed: the reason stays in the log, not in an answer anyone can read.
    assert response.json() == {
        "status": "unavailable",
        "checks": {"database": {"ok": True}, "broker": {"ok": False}, "storage": {"ok": True}},
        "failing": ["broker"],
    }
    warnings = [r for r in caplog.records if r.name == "core.health" and r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "broker" in warnings[0].getMessage()
    assert "Error" in warnings[0].getMessage()  # the exception, named and with its text


def test_healthz_names_an_unreachable_database_but_not_its_host_or_user(tmp_path):
    # A separate process whose database is a PostgreSQL port nobody listens on.
    script = (
        "import json; from django.test import Client; from django.test.utils import setup_test_environment;"
        "setup_test_environment(); r = Client().get('/healthz');"
        "print(json.dumps({'status': r.status_code, 'body': r.content.decode()}))"
    )
    result = run_manage(
        "shell",
        "-c",
        script,
        env={
            "DATA_DIR": str(tmp_path),
            "DATABASE_URL": "postgres://nobodyuser@127.0.0.1:1/nonedb",
            "LOG_LEVEL": "INFO",
        },
    )
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout.strip().splitlines()[-1])
    assert out["status"] == 503
    body = json.loads(out["body"])
    assert body["failing"] == ["database"]
    assert body["checks"]["database"] == {"ok": False}
    for secret in ("nobodyuser", "127.0.0.1", "nonedb", "postgres", "Error"):
        assert secret not in out["body"], f"the answer names {secret!r}"
    # The operator still learns why, from the log (on stderr).
    assert "database unreachable" in result.stderr and "127.0.0.1" in result.stderr


def test_healthz_refuses_other_methods(client):
    assert client.post("/healthz").status_code == 405
