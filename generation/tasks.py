"""Celery tasks of generations (the web serves generations themselves, not the worker)."""

from celery import shared_task

from generation import services


@shared_task(ignore_result=True, time_limit=120, soft_time_limit=100)
def fail_stale_generations() -> int:
    """Every GENERATION_SWEEP_INTERVAL (CELERY_BEAT_SCHEDULE): fail the generations a killed
    web process left pending. Idempotent: a second run finds nothing left to fail."""
    return services.generation_fail_stale()
