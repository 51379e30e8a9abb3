"""Scheduled backups (BACKUP_SCHEDULE_HOURS, from beat), and the request id that travels
with every task a web request sends."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings

from operations import backup


@shared_task(ignore_result=True, acks_late=False)
def scheduled_backup() -> str:
    """Not acks_late: a backup killed midway is not worth running twice; the next one comes."""
    return str(backup.backup_create(dest_dir=settings.BACKUP_DIR, keep=settings.BACKUP_KEEP))
