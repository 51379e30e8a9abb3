"""Running calls at the same moment, for race tests."""

import threading

from django.db import connections


def run_at_once(*calls):
    """Run each zero-argument callable in its own thread, released together by a barrier;
    their results (or the exceptions they raised), in order. Each thread closes its own
    database connection when done."""
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def run(index, call):
        try:
            barrier.wait(timeout=30)
            results[index] = call()
        except BaseException as exc:  # noqa: BLE001 - reported to the test
            results[index] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a thread is stuck"
    return results
