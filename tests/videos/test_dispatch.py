"""Video tasks are sent by name from the web process, which never imports the tasks module:
a fresh interpreter that loads what uvicorn loads (core.asgi and the URLconf) sends both
tasks, and they are on the broker the settings select, as a worker would receive them."""

import json
import os
import subprocess
import sys
import uuid

from tests.conftest import ROOT, SUBPROCESS_ENV

WEB_PROCESS_SENDS = """
import json, sys
from core.asgi import application  # what the Procfile's uvicorn loads
from django.urls import get_resolver
get_resolver().url_patterns  # every view module, as the first request imports them
from config.celery import app
from videos import dispatch
dispatch.enqueue_submit(job_id=4242)
dispatch.enqueue_poll(job_id=4343, countdown=30)
received = []
with app.connection_for_read() as conn:
    queue = app.amqp.queues[app.conf.task_default_queue](conn.default_channel)
    while (message := queue.get(accept=["json"], no_ack=True)) is not None:
        args, kwargs, _ = message.payload
        received.append([message.headers["task"], args, message.headers["eta"] is not None])
    queue.declare()  # known to this connection, its bindings go too
    queue.delete()
print(json.dumps({"received": received, "tasks_imported": "videos.tasks" in sys.modules}))
"""


def test_the_web_process_sends_video_tasks_without_importing_them(tmp_path):
    env = {
        **os.environ,
        **SUBPROCESS_ENV,
        "DATA_DIR": str(tmp_path),
        "DATABASE_URL": f"duckdb:///{tmp_path / 'unused.duckdb'}",  # nothing here reads it
        "CELERY_TASK_DEFAULT_QUEUE": f"dispatch-test-{uuid.uuid4().hex[:8]}",
    }
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    result = subprocess.run(
        [sys.executable, "-c", WEB_PROCESS_SENDS], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout.strip().splitlines()[-1])
    assert out["tasks_imported"] is False
    assert sorted(out["received"]) == [
        ["videos.tasks.poll_video_job", [4343], True],
        ["videos.tasks.submit_video_job", [4242], False],
    ], result.stderr
