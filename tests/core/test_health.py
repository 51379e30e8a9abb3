import json

import pytest

from config.celery import app as celery_app
from tests.conftest import run_manage

pytestmark = pytest.mark.django_db


def test_healthz_reports_database_and_broker_reachable(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["broker"]["ok"] is True


def test_healthz_names_an_unreachable_broker(client, monkeypatch):
    # A real broker URL with nothing listening behind it.
    # Celery prefers the CELERY_BROKER_URL variable (set on CI's Redis pass) to its config.
    monkeypatch.setenv("CELERY_BROKER_URL", "redis://127.0.0.1:1/0")
    monkeypatch.setattr(celery_app.conf, "broker_url", "redis://127.0.0.1:1/0")
    monkeypatch.setitem(celery_app.conf, "broker_transport", None)  # the embedded setup names its own
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["failing"] == ["broker"]
    assert body["checks"]["database"]["ok"] is True


def test_healthz_names_an_unreachable_database(tmp_path):
    # A separate process whose database is a PostgreSQL port nobody listens on.
    script = (
        "import json; from django.test import Client; from django.test.utils import setup_test_environment;"
        "setup_test_environment(); r = Client().get('/healthz');"
        "print(json.dumps({'status': r.status_code, 'body': r.json()}))"
    )
    result = run_manage("shell", "-c", script, env={
        "DATA_DIR": str(tmp_path), "DATABASE_URL": "postgres://nobody@127.0.0.1:1/none",
    })
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout.strip().splitlines()[-1])
    assert out["status"] == 503
    assert out["body"]["failing"] == ["database"]


def test_healthz_refuses_other_methods(client):
    assert client.post("/healthz").status_code == 405
