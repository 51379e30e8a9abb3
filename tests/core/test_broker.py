"""The filesystem broker transport the embedded setup uses (config.broker)."""

import multiprocessing

import pytest
from kombu import Connection, Exchange, Producer, Queue

from tests.conftest import run_manage

QUEUE = "broker-test"
TRANSPORT = "config.broker:Transport"


@pytest.fixture
def connection(tmp_path):
    folder = tmp_path / "queue"
    folder.mkdir()
    (tmp_path / "control").mkdir()
    options = {
        "data_folder_in": str(folder),
        "data_folder_out": str(folder),
        "store_processed": False,
        "control_folder": str(tmp_path / "control"),
        "polling_interval": 0.01,
    }
    with Connection("filesystem://", transport=TRANSPORT, transport_options=options) as conn:
        conn.folder = folder
        yield conn


def test_settings_select_it_for_the_filesystem_broker_only(tmp_path):
    script = (
        "from config.celery import app; c = app.connection_for_write(); "
        "print(type(c.transport).__module__); c.release()"
    )
    for url, expected in (("filesystem://", "config.broker"), ("redis://127.0.0.1:1/0", "kombu.transport.redis")):
        result = run_manage("shell", "-c", script, env={"DATA_DIR": str(tmp_path), "CELERY_BROKER_URL": url})
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip().splitlines()[-1] == expected


def publish(uri, options, start, step, total):
    """A publisher process (the web server, or another worker). It loads no Django settings,
    so it names the transport the settings select."""
    with Connection(uri, transport=TRANSPORT, transport_options=options) as conn:
        queue = conn.SimpleQueue(QUEUE)
        for n in range(start, total, step):
            queue.put({"n": n, "padding": "x" * 20000})
        queue.close()


def test_messages_published_by_other_processes_while_consuming_arrive_whole(connection):
    """Several publisher processes and one consumer at once: every message arrives whole.
    (Kombu's stock transport fails this within a few hundred messages.)"""
    total, publishers = 2000, 4
    context = multiprocessing.get_context("spawn")
    processes = [
        context.Process(target=publish, args=(connection.as_uri(), connection.transport_options, i, publishers, total))
        for i in range(publishers)
    ]
    consumer = connection.SimpleQueue(QUEUE)
    for process in processes:
        process.start()
    received = []
    try:
        while len(received) < total:
            message = consumer.get(timeout=30)
            assert len(message.payload["padding"]) == 20000
            received.append(message.payload["n"])
            message.ack()
    finally:
        for process in processes:
            process.join(timeout=30)
    assert sorted(received) == list(range(total))
    assert not [p for p in connection.folder.iterdir() if p.name.startswith(".")], "no staging files left"


def test_an_unreadable_message_file_is_dropped_not_fatal(connection):
    # A queue of its own: Kombu caches declared bindings per process, and each test has
    # its own control folder.
    name = QUEUE + "-unreadable"
    queue = connection.SimpleQueue(name)
    (connection.folder / f"0_broken.{name}.msg").write_bytes(b"")  # sorts first
    queue.put({"ok": True})
    assert queue.get(timeout=5).payload == {"ok": True}
    queue.close()


def test_queue_declarations_are_unaffected(connection):
    """Declaring a queue bound to an exchange works as with the stock transport: the binding
    lands in the control folder's exchange table, and a message routed through it arrives."""
    name = QUEUE + "-declared"
    exchange = Exchange(name + "-exchange", type="direct")
    with connection.channel() as channel:
        queue = Queue(name, exchange=exchange, routing_key="declared", channel=channel)
        queue.declare()
        assert [(row.routing_key, row.queue) for row in channel.get_table(exchange.name)] == [("declared", name)]
        Producer(channel).publish({"declared": True}, exchange=exchange, routing_key="declared")
        message = queue.get(no_ack=True)
        assert message is not None and message.payload == {"declared": True}
        assert queue.get(no_ack=True) is None
