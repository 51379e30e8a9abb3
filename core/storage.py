"""The media storage: Django's FileSystemStorage, writing each file whole or not at all.

A file is written under a hidden temporary name in its folder (``.<name>.<random>.part``)
and renamed into place once every byte is on disk. A write that fails part way (a full
disk, a killed process's open file aside) removes what it wrote, so no half file ever
carries a real name; a process killed mid-write leaves only a ``.part`` file, which the
orphan sweep (storage.sweep) removes with the other files no row owns.
"""

from __future__ import annotations

import os
import uuid

from django.core.files.storage import FileSystemStorage

PART_SUFFIX = ".part"


def part_name(name: str) -> str:
    folder, _, base = name.replace("\\", "/").rpartition("/")
    part = f".{base}.{uuid.uuid4().hex[:12]}{PART_SUFFIX}"
    return f"{folder}/{part}" if folder else part


def is_part(name: str) -> bool:
    base = name.rsplit("/", 1)[-1]
    return base.startswith(".") and base.endswith(PART_SUFFIX)


class MediaStorage(FileSystemStorage):
    """FileSystemStorage whose saves are all-or-nothing (see the module docstring)."""

    def _save(self, name, content):
        temporary = part_name(name)
        try:
            written = super()._save(temporary, content)
        except BaseException:
            self._remove(temporary)
            raise
        final = name
        try:
            while self.exists(final):  # taken since get_available_name chose it
                final = self.get_available_name(name)
            os.replace(self.path(written), self.path(final))
        except BaseException:
            self._remove(written)
            raise
        return final.replace("\\", "/")

    def _remove(self, name: str) -> None:
        try:
            os.remove(self.path(name))
        except FileNotFoundError:
            pass
