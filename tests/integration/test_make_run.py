"""`make run` as a person runs it: every process starts, /healthz answers, Ctrl-C stops all."""

import json
import os
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import SUBPROCESS_ENV, run_manage

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.integration


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get_json(url: str):
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.status, json.loads(response.read())


def test_make_run_serves_healthz_and_stops_on_ctrl_c(tmp_path, fresh_store_env):
    port = free_port()
    fake_port = free_port()
    env = {
        **os.environ,
        **SUBPROCESS_ENV,
        **fresh_store_env,
        "PORT": str(port),
        "FAKE_OPENROUTER_PORT": str(fake_port),
        "OPENROUTER_API_KEY": "",
    }
    env.pop("OPENROUTER_BASE_URL", None)
    # A process group of its own, so Ctrl-C reaches make and honcho as a terminal would send it.
    proc = subprocess.Popen(
        ["make", "run"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 90
        status, body = None, None
        while time.monotonic() < deadline:
            try:
                status, body = get_json(f"http://127.0.0.1:{port}/healthz")
                break
            except OSError:
                assert proc.poll() is None, proc.stdout.read()
                time.sleep(0.5)
        assert status == 200, body
        assert body["checks"]["database"]["ok"] and body["checks"]["broker"]["ok"]
        # Demo mode: the offline double answers on its own port and pages say so.
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=5) as page:
            assert "Demo mode" in page.read().decode()
        # A fresh install fills its model catalogue from the provider once the worker is up.
        count_models = "from catalogue.models import ProviderModel; print(ProviderModel.objects.count())"
        models = 0
        while time.monotonic() < deadline + 30 and not models:
            result = run_manage("shell", "-c", count_models, env=fresh_store_env)
            assert result.returncode == 0, result.stderr
            models = int(result.stdout.strip().splitlines()[-1])
            time.sleep(0.5)
        assert models > 0
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        try:
            output, _ = proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            output, _ = proc.communicate()
    assert proc.returncode is not None
    # Nothing keeps listening once make run has stopped.
    for p in (port, fake_port):
        with socket.socket() as s:
            assert s.connect_ex(("127.0.0.1", p)) != 0, f"port {p} still open:\n{output[-3000:]}"
