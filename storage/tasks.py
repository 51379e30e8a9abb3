"""Celery tasks for stored media: thin wrappers around storage services."""

from celery import shared_task

from storage import sweep


@shared_task(acks_late=True, ignore_result=True, time_limit=600, soft_time_limit=540)
def sweep_orphan_media() -> None:
    sweep.orphans_remove()  # idempotent: a second run finds nothing left to remove
