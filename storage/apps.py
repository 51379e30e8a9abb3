from django.apps import AppConfig


class StorageConfig(AppConfig):
    """Stored media as a whole: each person's storage quota, the orphan sweep."""

    name = "storage"
