"""The served application's start-up (the lifespan protocol's startup message, which
uvicorn sends before it takes requests): the garbage collector settled for a server."""

from __future__ import annotations

import asyncio
import gc

from core import asgi
from tests.support.asgi import start_up


def test_start_up_sets_aside_what_starting_made_and_collects_young_objects_less_often():
    threshold = gc.get_threshold()
    gc.unfreeze()
    gc.set_threshold(700, *threshold[1:])
    try:
        sent = asyncio.run(start_up(asgi.application))

        assert sent == [{"type": "lifespan.startup.complete"}]
        # The objects alive once the app and its URLconf are loaded are out of the
        # collector's sight: its full collections no longer walk them.
        assert gc.get_freeze_count() > 10_000
        assert gc.get_threshold()[0] == asgi.YOUNG_OBJECTS_BEFORE_COLLECTION
        assert gc.get_threshold()[1:] == threshold[1:]
    finally:
        gc.unfreeze()
        gc.set_threshold(*threshold)
