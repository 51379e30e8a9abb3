"""``python manage.py run_fake_openrouter``: serve the offline OpenRouter double."""

from __future__ import annotations

import logging
import signal
import threading

from django.core.management.base import BaseCommand

from openrouter.fake import FakeOpenRouter


class Command(BaseCommand):
    help = (
        "Serve the offline OpenRouter double (demo mode and manual testing). "
        "Point OPENROUTER_BASE_URL at the printed base URL."
    )

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1", help="Interface to bind (default 127.0.0.1).")
        parser.add_argument("--port", type=int, default=8765, help="Port (default 8765; 0 picks a free one).")
        parser.add_argument(
            "--video-seconds",
            type=float,
            default=6.0,
            help="Seconds a video job takes from pending to completed (default 6).",
        )
        parser.add_argument(
            "--no-auth",
            action="store_true",
            help="Accept requests without an Authorization header.",
        )
        parser.add_argument("--quiet", action="store_true", help="Do not log each request.")

    def handle(self, *args, **options):
        if not options["quiet"]:
            logging.basicConfig(level=logging.INFO, format="%(asctime)s fake-openrouter %(message)s")
        fake = FakeOpenRouter(
            host=options["host"],
            port=options["port"],
            api_key_required=not options["no_auth"],
            video_duration=options["video_seconds"],
        )
        fake.start()
        if threading.current_thread() is threading.main_thread():
            # Process managers (honcho, systemd) stop us with SIGTERM: shut down cleanly.
            signal.signal(signal.SIGTERM, _raise_keyboard_interrupt)
        # The first line is machine-readable: scripts read the base URL from it.
        self.stdout.write(f"OPENROUTER_BASE_URL={fake.base_url}")
        self.stdout.flush()
        try:
            fake.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            fake.stop()
            self.stdout.write("Fake OpenRouter stopped.")


def _raise_keyboard_interrupt(signum, frame):
    raise KeyboardInterrupt
