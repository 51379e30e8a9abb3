"""Sending the video tasks, by name: services enqueue work without importing the tasks
module (which imports the services)."""

from __future__ import annotations

import logging

from celery import current_app

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
        current_app.tasks[task_name].apply_async(
            (job_id,),
            countdown=countdown if countdown and countdown > 0 else None,
            retry=True,
            retry_policy=RETRY_POLICY,
        )
    except Exception:  # noqa: BLE001 - any broker failure; the sweep is the safety net
        log.warning("video job %s: could not send %s; the sweep will pick it up", job_id, task_name, exc_info=True)
