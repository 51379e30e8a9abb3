"""The request id of whatever sends a task travels in the task's headers (a Celery
before_task_publish handler), and the worker's log lines for that task, and for the tasks it
sends in turn, repeat it: real web, worker and beat processes, JSON logs."""

from __future__ import annotations

import json
import time

import pytest

from openrouter.fake import FakeOpenRouter
from tests.conftest import SUBPROCESS_ENV
from tests.support.stack import Stack

pytestmark = pytest.mark.integration

EMAIL, PASSWORD = "trace@example.com", "correct-horse-battery-staple"


def json_lines(text: str) -> list[dict]:
    lines = []
    for raw in text.splitlines():
        try:
            line = json.loads(raw)
        except ValueError:
            continue
        if isinstance(line, dict):
            lines.append(line)
    return lines


def test_the_workers_lines_for_a_task_repeat_the_senders_request_id(tmp_path):
    env = {
        **SUBPROCESS_ENV,
        "LOG_FORMAT": "json",
        # Only the web process's own send moves the job: no periodic sweep.
        "VIDEO_SWEEP_INTERVAL": "3600",
        "VIDEO_SWEEP_GRACE": "0",
    }
    with FakeOpenRouter(video_duration=2) as fake, Stack(tmp_path, fake=fake, env=env) as stack:
        stack.prepare(users=[(EMAIL, PASSWORD)])
        stack.start()
        api = stack.api(EMAIL, PASSWORD)
        response = api.post(
            stack.url("/api/generate/video"),
            json={"model": "google/veo-3.1", "prompt": "traced", "duration": 4},
            headers={"X-Request-ID": "trace-create-0001"},
            timeout=30,
        )
        assert response.status_code == 202 and response.headers["X-Request-ID"] == "trace-create-0001"
        deadline = time.monotonic() + 60
        while True:
            worker = json_lines((stack.logs / "worker.log").read_text())
            traced = [line for line in worker if line.get("request_id") == "trace-create-0001"]
            if any(line.get("endpoint") == "video_submit" for line in traced):
                break
            assert time.monotonic() < deadline, stack.log_tail("worker")
            time.sleep(0.3)
        web = json_lines((stack.logs / "web.log").read_text())
        worker_text = (stack.logs / "worker.log").read_text()
    created = [line for line in web if line.get("request_id") == "trace-create-0001" and line.get("event") == "request"]
    assert [line["route"] for line in created] == ["videos-api:create"]
    # The submit task the web process sent ran under the request's id, and so did the
    # poll tasks it sent in turn.
    assert [line["endpoint"] for line in traced if line.get("event") == "provider_call"][:1] == ["video_submit"]
    assert stack.env["SECRET_KEY"] not in worker_text and "stack-test-key" not in worker_text
