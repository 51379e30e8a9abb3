"""The ASGI application the web server serves: Django behind a bound on request bodies
(core/bodylimit.py, so no body past MAX_REQUEST_BODY_BYTES is read before authentication),
plus the lifespan protocol: at start-up the garbage collector is settled for a server's
heap (:func:`settle_garbage_collector`), and when the server stops, work still in flight
(streamed answers cut by the grace period) is saved before the process exits
(core/shutdown.py)."""

import asyncio
import gc
import os

from config import startup

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
startup.prepare()

import django  # noqa: E402  (after the start-up step)

from core.bodylimit import RequestBodyLimit  # noqa: E402
from core.db import close_step_pool  # noqa: E402
from core.handler import PooledThreadsAsgiHandler  # noqa: E402
from core.shutdown import server_stopping  # noqa: E402

django.setup(set_prefix=False)  # as django.core.asgi.get_asgi_application does
django_application = RequestBodyLimit(PooledThreadsAsgiHandler())

# Container objects made (less those freed) before the collector looks at the youngest
# ones; Python's default is 700. A request makes and drops thousands, nearly all freed at
# once by reference counting, so at 700 the collector ran dozens of times a second during
# a burst of streams, every tenth run also walking the objects that had lived on (the
# open streams'), and its full collections everything.
YOUNG_OBJECTS_BEFORE_COLLECTION = 10_000


def settle_garbage_collector() -> None:
    """Set aside what starting made (modules, settings, the URLconf and every view it
    imports: some 150,000 objects that live as long as the process) so that no collection
    walks it again, and let the collector look less often. During a burst of 1,000 streams
    the collector's pauses, which stop every request, fell from 2.2 s in all (full
    collections of up to a quarter-second) to about 0.5 s (docs/PERFORMANCE.md)."""
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018 - imports the views now, not at the first request
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG_OBJECTS_BEFORE_COLLECTION, *gc.get_threshold()[1:])


async def application(scope, receive, send):
    if scope["type"] != "lifespan":
        await django_application(scope, receive, send)
        return
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            settle_garbage_collector()
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await server_stopping()
            await asyncio.to_thread(close_step_pool)
            await send({"type": "lifespan.shutdown.complete"})
            return
