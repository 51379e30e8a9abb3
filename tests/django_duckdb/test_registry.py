"""The per-process instance registry, without Django (django_duckdb/registry.py)."""

import os
import threading
import time

import pytest

from django_duckdb import dbapi, registry


@pytest.fixture
def instance(tmp_path):
    inst = registry.Instance(str(tmp_path / "r.duckdb"), idle_timeout=0.2, lock_timeout=10)
    yield inst
    inst.close()


def test_leases_share_one_instance_and_pool_connections(instance):
    a = instance.acquire()
    a.conn.execute("CREATE TABLE t (x INTEGER)")
    b = instance.acquire()  # a second thread's lease: same database
    b.conn.execute("INSERT INTO t VALUES (1)")
    assert a.conn.execute("SELECT COUNT(*) FROM t").fetchone() == (1,)
    assert instance.users == 2 and instance.opens == 1
    instance.release(a)
    instance.release(b)
    c = instance.acquire()
    assert c in (a, b)  # pooled, not reconnected
    instance.release(c)
    assert instance.opens == 1


def test_threads_write_concurrently_through_their_own_leases(instance):
    session = instance.acquire()
    session.conn.execute("CREATE TABLE t (x INTEGER)")
    instance.release(session)
    errors = []

    def write(n):
        try:
            for i in range(50):
                s = instance.acquire()
                try:
                    s.conn.execute("INSERT INTO t VALUES (?)", [n * 100 + i])
                finally:
                    instance.release(s)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    session = instance.acquire()
    assert session.conn.execute("SELECT COUNT(*) FROM t").fetchone() == (200,)
    instance.release(session)


def test_idle_instance_closes_itself(instance):
    instance.release(instance.acquire())
    assert instance.is_open
    deadline = time.monotonic() + 10
    while instance.is_open and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not instance.is_open
    instance.release(instance.acquire())  # and opens again on demand
    assert instance.opens == 2


def test_connection_leases_per_statement_or_per_transaction(instance):
    connection = dbapi.Connection(instance)
    cursor = connection.cursor()
    cursor.execute("CREATE TABLE t (x INTEGER)")
    assert instance.users == 0  # autocommit: nothing held between statements
    connection.set_autocommit(False)
    cursor.execute("INSERT INTO t VALUES (%s)", [1])
    assert instance.users == 1  # a transaction holds its lease
    connection.rollback()
    assert instance.users == 0
    cursor.execute("SELECT COUNT(*) FROM t")
    assert cursor.fetchone() == (0,)
    connection.commit()
    connection.close()
    assert instance.users == 0


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork()")
def test_a_forked_child_opens_its_own_instance(instance):
    session = instance.acquire()
    session.conn.execute("CREATE TABLE t (x INTEGER)")
    instance.release(session)  # the parent keeps the file open, idle
    pid = os.fork()
    if pid == 0:  # child: the inherited instance must not be used
        code = 1
        try:
            assert not instance.is_open and instance.users == 0
            s = instance.acquire()
            s.conn.execute("INSERT INTO t VALUES (42)")
            instance.release(s)
            instance.close()
            code = 0
        except BaseException:
            import traceback

            traceback.print_exc()
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    session = instance.acquire()
    assert session.conn.execute("SELECT x FROM t").fetchall() == [(42,)]
    instance.release(session)


def test_lock_error_text_names_the_holder():
    message = (
        'IO Error: Could not set lock on file "/x.duckdb": Conflicting lock is held '
        "in /usr/bin/python3.11 (PID 4242). See also https://duckdb.org/docs"
    )
    assert registry.is_lock_conflict(Exception(message))
    assert registry.describe_holder(message) == "/usr/bin/python3.11 (PID 4242)"


def test_unique_violation_found_at_commit_is_an_integrity_error(instance):
    """DuckDB reports it as a transaction error; it is an IntegrityError."""
    first, second = dbapi.Connection(instance), dbapi.Connection(instance)
    first.cursor().execute("CREATE TABLE u (k VARCHAR UNIQUE)")
    for connection in (first, second):
        connection.set_autocommit(False)
        connection.cursor().execute("INSERT INTO u VALUES (%s)", ["same"])
    first.commit()
    with pytest.raises(dbapi.IntegrityError):
        second.commit()
    assert instance.users == 0


def test_autocommit_statement_losing_a_write_race_is_retried(instance):
    first, second = dbapi.Connection(instance), dbapi.Connection(instance)
    first.cursor().execute("CREATE TABLE c (id INTEGER PRIMARY KEY, n INTEGER)")
    first.cursor().execute("INSERT INTO c VALUES (1, 0)")
    first.set_autocommit(False)
    first.cursor().execute("UPDATE c SET n = n + 1 WHERE id = 1")
    timer = threading.Timer(0.002, first.commit)
    timer.start()
    # Conflicts with the open transaction until it commits, then succeeds.
    cursor = second.cursor()
    cursor.execute("UPDATE c SET n = n + 10 WHERE id = 1")
    timer.join()
    cursor.execute("SELECT n FROM c")
    assert cursor.fetchone() == (11,)
