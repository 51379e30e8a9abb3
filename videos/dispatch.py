"""Sending the video tasks, by name (Celery's ``send_task``): any process can send them
without importing the tasks module. The web process never imports it (only a worker
loads the tasks it runs), and the services it would import import these functions."""

from __future__ import annotations

import logging

from config.celery import app

log = logging.getLogger(__name__)

SUBMIT_TASK = "videos.tasks.submit_video_job"
POLL_TASK = "videos.tasks.poll_video_job"
RETRY_POLICY = {"max_retries": 2, "interval_start": 0.2, "interval_step": 0.5}


def enqueue_submit(*, job_id: int, countdown: float | None = None) -> None:
    """Send the submit task. A broker that is down only delays the job: the sweep finds it."""
    _send(SUBMIT_TASK, job_id, countdown)


def enqueue_poll(*, job_id: int, countdown: float | None = None) -> None:
    _send(POLL_TASK, job_id, countdown)


def _send(task_name: str, job_id: int, countdown: float | None) -> None:
    try:
        app.send_task(
            task_name,
            args=(job_id,),
            countdown=countdown if countdown and countdown > 0 else None,
            retry=True,
            retry_policy=RETRY_POLICY,
        )
    except Exception:  # noqa: BLE001 - any broker failure; the sweep is the safety net
        log.warning("video job %s: could not send %s; the sweep will pick it up", job_id, task_name, exc_info=True)
