"""
Typed database errors this backend raises, for application code.

``WriteConflict`` is a ``django.db.utils.OperationalError``: DuckDB's
concurrency is optimistic, and a transaction that writes a row (or catalog
entry) another open transaction changed fails with "Conflict on update",
"Conflict on tuple deletion", "write-write conflict", ... The DB-API layer
(dbapi.py) raises it in place of DuckDB's TransactionException, so code can
tell "retry the transaction" apart from other operational errors::

    from django_duckdb.errors import is_write_conflict

    try:
        with transaction.atomic():
            ...
    except OperationalError as exc:
        if not is_write_conflict(exc):
            raise
        ...  # try the transaction again

Django's DatabaseErrorWrapper re-raises a driver error as Django's class of
the same *name* (``OperationalError(*exc.args)``), which would flatten a
subclass. WriteConflict therefore is not a DuckDB exception (the wrapper
leaves exceptions that aren't the driver's alone), and ``ErrorWrapper``, the
backend's wrapper, passes it through unchanged while still noting that an
error occurred, as Django's does for an OperationalError.

Leaf module: imports nothing from the project.
"""

from django.db.utils import DatabaseErrorWrapper, OperationalError


class WriteConflict(OperationalError):
    """A write-write (transaction) conflict reported by DuckDB."""


def is_write_conflict(exc):
    """True when ``exc`` is a write conflict raised by this backend."""
    return isinstance(exc, WriteConflict)


def reports_write_conflict(message):
    """Whether DuckDB's TransactionException text reports a conflict between transactions
    ("Conflict on update", "write-write conflict", ...). A lock on the file held by
    another process ("Conflicting lock is held in ...") is not one: that is the process
    model's business (registry), and retrying the statement cannot help."""
    text = message.lower()
    return "conflict" in text and "conflicting lock" not in text and "could not set lock" not in text


class ErrorWrapper(DatabaseErrorWrapper):
    """Django's DatabaseErrorWrapper, keeping WriteConflict as it is."""

    def __exit__(self, exc_type, exc_value, traceback):
        if exc_type is not None and issubclass(exc_type, WriteConflict):
            # The connection may be unusable after it, as after any
            # OperationalError (see BaseDatabaseWrapper.errors_occurred).
            self.wrapper.errors_occurred = True
            return False
        return super().__exit__(exc_type, exc_value, traceback)
