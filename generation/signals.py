"""Stored files follow their rows: when a GeneratedImage row is deleted (its generation
deleted, or its owner deleted by an admin), its file is deleted once the transaction
commits, so a rolled-back delete keeps the file."""
import logging
import os

from django.db import transaction
from django.db.models.signals import post_delete
from django.dispatch import receiver

from generation.models import GeneratedImage

log = logging.getLogger(__name__)


def delete_stored_file(storage, name: str) -> None:
    """Delete a stored file and, on a filesystem storage, its folder once empty."""
    if not name:
        return
    try:
        storage.delete(name)
    except Exception:
        log.exception("Could not delete stored file %s", name)
        return
    try:
        folder = os.path.dirname(storage.path(name))
    except NotImplementedError:  # remote storages have no folders to tidy
        return
    try:
        os.rmdir(folder)
    except OSError:
        pass  # not empty (other images of the generation) or already gone


@receiver(post_delete, sender=GeneratedImage, dispatch_uid="generation-image-file-cleanup")
def _delete_image_file(sender, instance: GeneratedImage, **kwargs) -> None:
    storage, name = instance.file.storage, instance.file.name
    transaction.on_commit(lambda: delete_stored_file(storage, name))
