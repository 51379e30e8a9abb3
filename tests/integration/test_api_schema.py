"""Schemathesis against Studio as it runs (uvicorn, ASGI) on the test database: every
operation of /api/schema/ with generated and fuzzed input, then stateful sequences that
follow the schema's links, once with a normal user's JWT and once anonymous. All of
schemathesis' checks apply (responses match their documented status codes, content types
and bodies; no 5xx; ...). The provider is the offline double, with the catalogue synced
from it; video jobs are only queued (no worker runs), which is all a 202 needs.

The run is bounded (EXAMPLES cases per operation and phase) and prints its counts
(pytest -s shows them).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.factories import DEFAULT_PASSWORD, UserFactory
from tests.support.provider import catalogue, fake_openrouter  # noqa: F401

pytestmark = pytest.mark.integration

EXAMPLES = 20
PHASES = "coverage,fuzzing,stateful"
SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")
# Where positive (schema-valid) data may still be refused: the schema cannot say which
# model ids the catalogue holds, which passwords the validators accept, or which ids are
# yours, so such requests get the documented 400 (or 404).
CONFIG = """
[checks.positive_data_acceptance]
expected-statuses = ["2xx", "400", "401", "403", "404", "409", "429"]
"""


@pytest.fixture
def raised_limits(settings):
    """Throttles and in-flight caps out of the way of a run of hundreds of requests."""
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {scope: "100000/min" for scope in settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]},
    }
    settings.GENERATION_MAX_IN_FLIGHT = 1000
    settings.VIDEO_MAX_JOBS_IN_FLIGHT = 100000


@pytest.fixture
def api(asgi_server, catalogue, raised_limits):  # noqa: F811
    return asgi_server.url


def _access_token(base_url: str) -> str:
    user = UserFactory()
    response = httpx.post(
        f"{base_url}/api/auth/login", json={"email": user.email, "password": DEFAULT_PASSWORD}, timeout=30
    )
    response.raise_for_status()
    return response.json()["access"]


def _run_schemathesis(base_url: str, tmp_path: Path, label: str, headers: dict[str, str]) -> dict:
    config = tmp_path / "schemathesis.toml"
    config.write_text(CONFIG)
    report = tmp_path / f"{label}.json"
    command = [
        str(SCHEMATHESIS),
        "--no-color",
        "--config-file",
        str(config),
        "run",
        f"{base_url}/api/schema/?format=json",
        "--phases",
        PHASES,
        "--max-examples",
        str(EXAMPLES),
        "--seed",
        "20260",
        "--workers",
        "2",
        "--request-timeout",
        "30",
        "--report",
        "json",
        "--report-json-path",
        str(report),
        "--suppress-health-check",
        "all",
        "--warnings",
        "off",
    ]
    for name, value in headers.items():
        command += ["--header", f"{name}: {value}"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=600, cwd=tmp_path)
    output = result.stdout + result.stderr
    print(f"\n--- schemathesis ({label}) ---\n" + output[-2500:])
    assert result.returncode == 0, output[-20000:]
    return json.loads(report.read_text())


@pytest.mark.parametrize("who", ["user", "anonymous"])
def test_api_conforms_to_its_schema(api, tmp_path, who):
    headers = {"Authorization": f"Bearer {_access_token(api)}"} if who == "user" else {}
    report = _run_schemathesis(api, tmp_path, who, headers)
    cases = report["test_cases"]
    print(
        f"schemathesis {who}: {cases['generated']} cases, {cases['with_failures']} with failures, "
        f"{cases['errored']} errored, phases {[name for name, p in report['phases'].items() if p['status'] == 'success']}"
        f", {report['running_time']:.0f} s"
    )
    assert report["complete"] and not report["failures"] and not report["errors"]
    assert {name for name, phase in report["phases"].items() if phase["status"] == "success"} == set(PHASES.split(","))
    assert cases["generated"] > 500 and cases["with_failures"] == 0 and cases["errored"] == 0
