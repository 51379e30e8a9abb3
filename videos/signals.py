"""Stored files follow their rows: when a job is deleted (by the sweep's clean-up, or with
its owner), its video and uploaded source image go once the transaction commits, so a
rolled-back delete keeps them."""

import functools

from django.db import transaction
from django.db.models.signals import post_delete
from django.dispatch import receiver

from core.files import delete_stored_file
from videos.models import VideoJob


@receiver(post_delete, sender=VideoJob, dispatch_uid="videos-job-file-cleanup")
def _delete_job_files(sender, instance: VideoJob, **kwargs) -> None:
    for field in (instance.video_file, instance.source_image_file):
        if field.name:
            transaction.on_commit(functools.partial(delete_stored_file, field.storage, field.name))
