"""A storage backend for tests of failure handling (configured through STORAGES)."""

from django.core.files.storage import FileSystemStorage


class FailingSecondSaveStorage(FileSystemStorage):
    """Saves the first file of each instance, then fails like a full disk."""

    saves = 0

    def _save(self, name, content):
        type(self).saves += 1
        if type(self).saves % 2 == 0:
            raise OSError(28, "No space left on device")
        return super()._save(name, content)
