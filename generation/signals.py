"""Stored files follow their rows: when a GeneratedImage row is deleted (its generation
deleted, or its owner deleted by an admin), its file is deleted once the transaction
commits, so a rolled-back delete keeps the file."""

from django.db import transaction
from django.db.models.signals import post_delete
from django.dispatch import receiver

from core.files import delete_stored_file
from generation.models import GeneratedImage


@receiver(post_delete, sender=GeneratedImage, dispatch_uid="generation-image-file-cleanup")
def _delete_image_file(sender, instance: GeneratedImage, **kwargs) -> None:
    storage, name = instance.file.storage, instance.file.name
    if name:
        transaction.on_commit(lambda: delete_stored_file(storage, name))
