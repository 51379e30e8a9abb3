"""core.sse.relay_text: pieces that arrived together go out in one write; a piece is
never held back waiting for the next."""

from __future__ import annotations

import asyncio

from core.sse import relay_text


class ArrivingPieces:
    """A text stream whose pieces arrive in bursts: each burst is there at once (the next
    piece of a burst is ready), and the next burst comes when ``arrive`` is set."""

    def __init__(self, bursts: list[list[str]]) -> None:
        self.bursts = bursts
        self.ready: list[str] = []
        self.arrive = asyncio.Event()
        self.closed = False

    async def pieces(self):
        for number, burst in enumerate(self.bursts):
            if number:
                await self.arrive.wait()
                self.arrive.clear()
            self.ready = list(burst)
            while self.ready:
                yield self.ready.pop(0)

    def piece_ready(self) -> bool:
        return bool(self.ready)

    async def aclose(self) -> None:
        self.closed = True


def relay(stream: ArrivingPieces):
    return relay_text(
        stream,
        opening=["open;"],
        piece=lambda text: f"{text};",
        failure=lambda exc: None,
        closing=lambda: ["done;"],
    )


def test_pieces_that_arrived_together_go_out_as_one_write():
    async def run():
        stream = ArrivingPieces([["a", "b", "c"], ["d"], ["e", "f"]])
        writes = []
        async for write in relay(stream):
            writes.append(write)
            stream.arrive.set()
        return writes, stream.closed

    writes, closed = asyncio.run(run())
    assert writes == ["open;", "a;b;c;", "d;", "e;f;", "done;"]
    assert closed


def test_a_piece_is_sent_before_the_next_one_arrives():
    async def run():
        stream = ArrivingPieces([["a"], ["b"]])
        events = relay(stream)
        assert await anext(events) == "open;"
        # "b" has not arrived: "a" must not wait for it.
        assert await asyncio.wait_for(anext(events), timeout=5) == "a;"
        stream.arrive.set()
        assert [write async for write in events] == ["b;", "done;"]

    asyncio.run(run())
