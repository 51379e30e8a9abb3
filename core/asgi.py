"""The ASGI application the web server serves: Django behind a bound on request bodies
(core/bodylimit.py, so no body past MAX_REQUEST_BODY_BYTES is read before authentication),
plus the lifespan protocol, so that when the server stops, work still in flight (streamed
answers cut by the grace period) is saved before the process exits (core/shutdown.py)."""

import asyncio
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


async def application(scope, receive, send):
    if scope["type"] != "lifespan":
        await django_application(scope, receive, send)
        return
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await server_stopping()
            await asyncio.to_thread(close_step_pool)
            await send({"type": "lifespan.shutdown.complete"})
            return
