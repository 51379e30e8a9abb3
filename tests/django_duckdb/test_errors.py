"""Write-write conflicts raise django_duckdb.errors.WriteConflict (errors.py)."""

import threading

import duckdb
import pytest
from django.db import OperationalError, connection, connections, transaction

from django_duckdb import dbapi, registry
from django_duckdb.errors import WriteConflict, is_write_conflict

from .conftest import duckdb_only


@pytest.fixture
def instance(tmp_path):
    inst = registry.Instance(str(tmp_path / "e.duckdb"), idle_timeout=0.2, lock_timeout=10)
    yield inst
    inst.close()


def test_write_conflict_is_a_django_operational_error():
    assert issubclass(WriteConflict, OperationalError)
    assert not issubclass(WriteConflict, duckdb.Error)
    assert is_write_conflict(WriteConflict("Conflict on update!"))
    assert not is_write_conflict(OperationalError("disk full"))
    assert not is_write_conflict(ValueError("conflict"))


def test_duckdb_conflicts_translate_to_write_conflict():
    for message in (
        "TransactionContext Error: Conflict on update!",
        "TransactionContext Error: Conflict on tuple deletion!",
        'TransactionContext Error: Catalog write-write conflict on create with "t"',
    ):
        error = dbapi.translate_error(duckdb.TransactionException(message))
        assert isinstance(error, WriteConflict) and str(error) == message
    unique = duckdb.TransactionException(
        'TransactionContext Error: Failed to commit: PRIMARY KEY or UNIQUE constraint violation: duplicate key "1"'
    )
    assert isinstance(dbapi.translate_error(unique), dbapi.IntegrityError)
    other = duckdb.TransactionException("cannot rollback - no transaction is active")
    assert dbapi.translate_error(other) is other
    # Another process holding the file is the process model's business, not a write conflict.
    locked = duckdb.TransactionException(
        'TransactionContext Error: Failed to commit: Could not set lock on file "x.duckdb.wal": '
        "Conflicting lock is held in /usr/bin/python3 (PID 1)"
    )
    assert not isinstance(dbapi.translate_error(locked), WriteConflict)


def test_overlapping_transactions_updating_one_row_dbapi(instance):
    first, second = dbapi.Connection(instance), dbapi.Connection(instance)
    first.cursor().execute("CREATE TABLE c (id INTEGER PRIMARY KEY, n INTEGER)")
    first.cursor().execute("INSERT INTO c VALUES (1, 0)")
    for conn in (first, second):
        conn.set_autocommit(False)
    first.cursor().execute("UPDATE c SET n = 1 WHERE id = 1")
    with pytest.raises(WriteConflict) as raised:
        second.cursor().execute("UPDATE c SET n = 2 WHERE id = 1")
    assert isinstance(raised.value.__cause__, duckdb.TransactionException)
    second.rollback()
    first.commit()
    assert instance.users == 0
    first.set_autocommit(True)
    assert first.cursor().execute("SELECT n FROM c").fetchone() == (1,)


@duckdb_only
def test_overlapping_transactions_updating_one_row_orm(duck_tables_transactional):
    """Two threads, each in atomic(), update the same row: the second gets a
    WriteConflict through the ORM, and the first one's update stands."""
    models = duck_tables_transactional
    owner = models.Owner.objects.create(name="before")
    first_updated, second_done = threading.Event(), threading.Event()
    outcome = {}

    def first():
        try:
            with transaction.atomic():
                models.Owner.objects.filter(pk=owner.pk).update(name="first")
                first_updated.set()
                second_done.wait(10)
        except BaseException as exc:  # reported below
            outcome["first"] = exc
        finally:
            first_updated.set()
            connections.close_all()

    def second():
        first_updated.wait(10)
        try:
            with transaction.atomic():
                models.Owner.objects.filter(pk=owner.pk).update(name="second")
        except BaseException as exc:
            outcome["second"] = exc
        finally:
            second_done.set()
            connections.close_all()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert "first" not in outcome, outcome
    error = outcome.get("second")
    assert isinstance(error, WriteConflict), repr(error)
    assert isinstance(error, OperationalError) and is_write_conflict(error)
    assert "Conflict" in str(error)
    assert models.Owner.objects.get(pk=owner.pk).name == "first"


@duckdb_only
def test_wrapper_keeps_write_conflict_and_notes_the_error(db):
    connection.ensure_connection()
    connection.errors_occurred = False
    original = WriteConflict("TransactionContext Error: Conflict on update!")
    with pytest.raises(WriteConflict) as raised, connection.wrap_database_errors:
        raise original
    assert raised.value is original
    assert connection.errors_occurred
    connection.errors_occurred = False
