"""Tasks the test process sends, taken off the broker as a worker takes them.

The code under test sends tasks as in production (by name, through the broker the settings
select, to the test run's own queue: tests/settings.py). Each message is read back from the
queue right after it is published, by name and with JSON-decoded arguments, as a worker
receives it: nothing is left for a later test or for a worker of ``make run``. With
``run_inline`` set, the task then runs at once in the sending thread (inside the test's
transaction), as the worker would run it.
"""

from __future__ import annotations

import threading

from celery.signals import after_task_publish, before_task_publish


class SentTasks(list):
    """Tasks received from the broker during a test, as (task's short name, args as a worker
    decodes them, the countdown the sender asked for)."""

    run_inline = False


class BrokerTap:
    # Whether this run published anything: its queue is then removed when the run ends.
    used = False

    def __init__(self) -> None:
        from config.celery import app

        self.app = app
        self.sent = SentTasks()
        self._countdowns: dict[str, float | None] = {}
        # The countdowns asked for by the sends under way in this thread (a task run
        # inline may send another while its own send is still under way).
        self._asked = threading.local()
        self._lock = threading.RLock()

    def __enter__(self) -> SentTasks:
        self.app.send_task = self._send_task  # over the method, for this test only
        before_task_publish.connect(self._before_publish, weak=False)
        after_task_publish.connect(self._after_publish, weak=False)
        return self.sent

    def __exit__(self, *exc) -> None:
        del self.app.send_task
        before_task_publish.disconnect(self._before_publish)
        after_task_publish.disconnect(self._after_publish)
        if self._countdowns:  # a publish whose message was not taken (it failed midway)
            self._drain()

    def _send_task(self, name, args=None, kwargs=None, countdown=None, **options):
        """Celery's own send_task; only the countdown asked for is noted on the way (the
        message carries an absolute eta instead)."""
        stack = self._asked.__dict__.setdefault("countdowns", [])
        stack.append(countdown)
        try:
            return type(self.app).send_task(self.app, name, args, kwargs, countdown=countdown, **options)
        finally:
            stack.pop()

    def _before_publish(self, headers=None, **_signal) -> None:
        stack = self._asked.__dict__.get("countdowns") or [None]
        with self._lock:
            self._countdowns[headers["id"]] = stack[-1]

    def _after_publish(self, **_signal) -> None:
        BrokerTap.used = True
        for name, args, kwargs in self._drain():
            if self.sent.run_inline:
                if name not in self.app.tasks:
                    self.app.loader.import_default_modules()  # what a worker loads at start
                self.app.tasks[name].apply(args=args, kwargs=kwargs)

    def _drain(self) -> list[tuple[str, list, dict]]:
        received = []
        with self._lock, self.app.connection_for_read() as conn:
            queue = self.app.amqp.queues[self.app.conf.task_default_queue](conn.default_channel)
            while (message := queue.get(accept=["json"], no_ack=True)) is not None:
                args, kwargs, _ = message.payload
                name = message.headers["task"]
                countdown = self._countdowns.pop(message.headers["id"], None)
                self.sent.append((name.rsplit(".", 1)[-1], tuple(args), countdown))
                received.append((name, args, kwargs))
        return received


def remove_test_queue() -> None:
    """Remove the run's queue from the broker (on Redis its binding outlives the messages)."""
    from config.celery import app

    with app.connection_for_write() as conn:
        queue = app.amqp.queues[app.conf.task_default_queue](conn.default_channel)
        queue.declare()  # a new connection knows no bindings: declared, they are deleted too
        queue.delete()
