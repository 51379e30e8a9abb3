"""Kombu's filesystem transport, with messages that appear in the queue whole.

The stock transport creates a message file, then writes into it; a consumer listing the
folder at that moment moves and reads an empty or half-written file, and the worker stops
with "Unrecoverable error: JSONDecodeError" (celery/kombu#1551, open). A video worker
publishes a poll task after every poll while consuming others, so it meets that race
within minutes at a few dozen jobs a second.

Here each message is written under a name the consumer ignores (a leading dot), then
renamed into place, which is atomic within a folder. A file that still cannot be read
(written by a stock transport elsewhere) is dropped with a warning instead of stopping
the worker; the video sweep re-sends whatever such a message carried.

Selected by settings for ``filesystem://`` broker URLs (kombu's alias for that scheme);
Redis and other brokers are untouched. Knows nothing of Django.
"""

from __future__ import annotations

import logging
import os
import uuid
from time import monotonic

from kombu.transport import filesystem
from kombu.utils.encoding import str_to_bytes
from kombu.utils.json import dumps

log = logging.getLogger(__name__)


class Channel(filesystem.Channel):
    def _put(self, queue, payload, **kwargs):
        name = f"{int(round(monotonic() * 1000))}_{uuid.uuid4()}.{queue}.msg"
        final = os.path.join(self.data_folder_out, name)
        staging = os.path.join(self.data_folder_out, f".{name}.part")
        try:
            with open(staging, "wb", buffering=0) as handle:
                handle.write(str_to_bytes(dumps(payload)))
            os.replace(staging, final)
        except OSError as exc:
            raise filesystem.ChannelError(f"Cannot add file {final!r} to directory") from exc

    def _get(self, queue):
        while True:
            try:
                return super()._get(queue)
            except ValueError as exc:  # JSONDecodeError: a message file that was not whole
                log.warning("dropped an unreadable message from queue %s: %s", queue, exc)


class Transport(filesystem.Transport):
    Channel = Channel
