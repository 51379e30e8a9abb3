"""Celery tasks for video jobs: thin wrappers around videos.worker and videos.sweep.

Each is idempotent (the service takes the job with a conditional UPDATE first, so a
task delivered twice does nothing the second time) and acknowledged late. Time limits
stop a stuck task before its lease on the job runs out (prefork pool; the threads pool
cannot interrupt a thread, and there the provider client's own timeouts bound a call).
"""

from celery import shared_task
from celery.signals import worker_ready
from django.conf import settings

from openrouter.client import get_client
from videos import sweep, worker

# Stop before the lease ends, so no second worker acts on the job while this one still does.
HARD_LIMIT = max(30, settings.VIDEO_TASK_LEASE - 10)
SOFT_LIMIT = max(20, HARD_LIMIT - 20)


@shared_task(acks_late=True, ignore_result=True, time_limit=HARD_LIMIT, soft_time_limit=SOFT_LIMIT)
def submit_video_job(job_id: int) -> None:
    worker.video_job_submit(job_id=job_id)


@shared_task(acks_late=True, ignore_result=True, time_limit=HARD_LIMIT, soft_time_limit=SOFT_LIMIT)
def poll_video_job(job_id: int) -> None:
    worker.video_job_poll(job_id=job_id)


@shared_task(acks_late=True, ignore_result=True, time_limit=120, soft_time_limit=100)
def sweep_video_jobs() -> None:
    sweep.video_jobs_sweep()


@worker_ready.connect(dispatch_uid="videos-provider-client-ready")
def build_provider_client(**_signal) -> None:
    """Build the provider client as the worker starts: the first job after a start then
    goes to the provider at once instead of waiting while it is built (its TLS context
    alone takes a few hundred milliseconds on a busy machine)."""
    get_client()
