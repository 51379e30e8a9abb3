"""The served application's start-up (the lifespan protocol's startup message, which
uvicorn sends before it takes requests): the garbage collector settled for a server."""

from __future__ import annotations

import asyncio
import gc

from core import asgi


async def _start_up() -> list[dict]:
    """Send lifespan.startup, wait for the answer, and leave (no shutdown: that would
    close this process's database-step pool)."""
    inbox: asyncio.Queue = asyncio.Queue()
    sent: list[dict] = []
    answered = asyncio.Event()

    async def send(message: dict) -> None:
        sent.append(message)
        answered.set()

    await inbox.put({"type": "lifespan.startup"})
    task = asyncio.create_task(asgi.application({"type": "lifespan", "asgi": {"version": "3.0"}}, inbox.get, send))
    try:
        await asyncio.wait_for(answered.wait(), 60)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    return sent


def test_start_up_sets_aside_what_starting_made_and_collects_young_objects_less_often():
    threshold = gc.get_threshold()
    gc.unfreeze()
    gc.set_threshold(700, *threshold[1:])
    try:
        sent = asyncio.run(_start_up())

        assert sent == [{"type": "lifespan.startup.complete"}]
        # The objects alive once the app and its URLconf are loaded are out of the
        # collector's sight: its full collections no longer walk them.
        assert gc.get_freeze_count() > 10_000
        assert gc.get_threshold()[0] == asgi.YOUNG_OBJECTS_BEFORE_COLLECTION
        assert gc.get_threshold()[1:] == threshold[1:]
    finally:
        gc.unfreeze()
        gc.set_threshold(*threshold)
