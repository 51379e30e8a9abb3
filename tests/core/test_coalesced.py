"""core.db.Coalesced: the items of concurrent callers in one database step."""

from __future__ import annotations

import asyncio
import threading

import pytest

from core.db import Coalesced

pytestmark = pytest.mark.django_db(transaction=True)


class Recorder:
    """A batch step that records each batch; the first batch waits for ``release``, so
    that the other callers arrive while it runs."""

    def __init__(self, fail_on=()):
        self.batches: list[list] = []
        self.release = threading.Event()
        self.fail_on = set(fail_on)

    def __call__(self, items):
        if not self.batches:
            self.release.wait(10)
        self.batches.append(list(items))
        bad = self.fail_on.intersection(items)
        if bad:
            raise ValueError(f"bad item {sorted(bad)[0]}")
        return [item * 10 for item in items]


async def _when_queued(batched: Coalesced, count: int) -> None:
    """Wait until ``count`` items wait behind the running batch."""
    for _ in range(1000):
        queue = batched._queues.get(asyncio.get_running_loop())
        if queue is not None and len(queue.items) >= count:
            return
        await asyncio.sleep(0.005)
    raise AssertionError(f"{count} items never queued")


def test_a_lone_item_runs_at_once_in_a_batch_of_its_own():
    recorder = Recorder()
    recorder.release.set()
    batched = Coalesced(recorder)

    async def main():
        return await batched(7)

    assert asyncio.run(main()) == 70
    assert recorder.batches == [[7]]


def test_items_that_arrive_while_a_batch_runs_go_together_and_each_caller_gets_its_result():
    recorder = Recorder()
    batched = Coalesced(recorder)

    async def main():
        first = asyncio.create_task(batched(0))
        await asyncio.sleep(0.05)
        rest = [asyncio.create_task(batched(i)) for i in range(1, 11)]
        await _when_queued(batched, 10)
        recorder.release.set()
        return await first, await asyncio.gather(*rest)

    first, rest = asyncio.run(main())
    assert first == 0 and rest == [i * 10 for i in range(1, 11)]
    assert recorder.batches == [[0], list(range(1, 11))]


def test_a_batch_is_at_most_max_batch_items():
    recorder = Recorder()
    batched = Coalesced(recorder, max_batch=4)

    async def main():
        first = asyncio.create_task(batched(0))
        await asyncio.sleep(0.05)
        rest = [asyncio.create_task(batched(i)) for i in range(1, 10)]
        await _when_queued(batched, 9)
        recorder.release.set()
        await asyncio.gather(first, *rest)

    asyncio.run(main())
    assert recorder.batches == [[0], [1, 2, 3, 4], [5, 6, 7, 8], [9]]


def test_a_bad_item_fails_alone_and_the_others_of_its_batch_succeed():
    recorder = Recorder(fail_on={3})
    batched = Coalesced(recorder)

    async def main():
        first = asyncio.create_task(batched(0))
        await asyncio.sleep(0.05)
        rest = [asyncio.create_task(batched(i)) for i in range(1, 6)]
        await _when_queued(batched, 5)
        recorder.release.set()
        return await asyncio.gather(first, *rest, return_exceptions=True)

    results = asyncio.run(main())
    assert results[:3] == [0, 10, 20] and results[4:] == [40, 50]
    assert isinstance(results[3], ValueError) and str(results[3]) == "bad item 3"
    # The whole batch, then each of its items alone.
    assert recorder.batches == [[0], [1, 2, 3, 4, 5], [1], [2], [3], [4], [5]]


def test_a_caller_that_stops_waiting_leaves_the_others_and_the_next_batches_unharmed():
    recorder = Recorder()
    batched = Coalesced(recorder)

    async def main():
        first = asyncio.create_task(batched(0))
        await asyncio.sleep(0.05)
        gone = asyncio.create_task(batched(1))
        stays = asyncio.create_task(batched(2))
        await _when_queued(batched, 2)
        gone.cancel()
        recorder.release.set()
        results = await asyncio.gather(first, stays)
        later = await batched(3)
        return gone.cancelled(), results, later

    cancelled, results, later = asyncio.run(main())
    assert cancelled and results == [0, 20] and later == 30
    # Its item was written all the same: a caller does not take it back.
    assert recorder.batches == [[0], [1, 2], [3]]
