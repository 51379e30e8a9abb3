"""
A small DB-API 2.0 layer over DuckDB for Django (``DatabaseWrapper.Database``).

* Exceptions are DuckDB's own classes, which already follow the DB-API
  hierarchy (ConstraintException is an IntegrityError, ConversionException a
  DataError, Parser/Binder/CatalogException are ProgrammingErrors, IO and
  TransactionException are OperationalErrors), so Django's
  DatabaseErrorWrapper maps them by class. A write-write conflict ("Conflict
  on update") is raised as errors.WriteConflict, a Django OperationalError
  the wrapper leaves as it is (see errors.py).
* A ``Connection`` does not own a DuckDB connection. It leases one from the
  process-wide ``registry.Instance`` for each unit of work: one statement in
  autocommit mode, or a whole transaction (BEGIN .. COMMIT/ROLLBACK). Between
  units of work the process holds nothing but an idle pooled connection, so
  other processes can take the file.
* ``Cursor`` converts Django's ``%s`` / ``%(name)s`` placeholders to DuckDB's
  ``?`` / ``$name``, and fetches results eagerly: one DuckDB connection has a
  single pending result, and Django may interleave cursors on one connection.
"""

import datetime
import functools
import re
import threading
import time
from collections.abc import Mapping
from itertools import tee

import duckdb

from .errors import WriteConflict, reports_write_conflict
from .lengths import parse_length_check

apilevel = "2.0"
threadsafety = 1
paramstyle = "qmark"

Warning = duckdb.Warning
Error = duckdb.Error
InterfaceError = getattr(duckdb, "InterfaceError", duckdb.Error)
DatabaseError = duckdb.DatabaseError
DataError = duckdb.DataError
OperationalError = duckdb.OperationalError
IntegrityError = duckdb.IntegrityError
InternalError = duckdb.InternalError
ProgrammingError = duckdb.ProgrammingError
NotSupportedError = duckdb.NotSupportedError

# Type constructors (DB-API); DuckDB binds these Python types natively.
Binary = bytes
Date = datetime.date
Time = datetime.time
Timestamp = datetime.datetime

# Autocommit statements that lose a write-write race are retried this often,
# backing off 1, 2, 4, ... ms (about a quarter of a second in all).
CONFLICT_RETRIES = 8

TIMESTAMPTZ = "TIMESTAMP WITH TIME ZONE"
UTC = datetime.UTC

FORMAT_QMARK_RE = re.compile(r"(?<!%)%s")
_DML_RE = re.compile(r"\s*(INSERT|UPDATE|DELETE)\b", re.IGNORECASE)


# How DuckDB reports a failed CHECK.
_CHECK_FAILED_RE = re.compile(
    r'CHECK constraint failed on table "(?P<table>[^"]+)" with expression '
    r"CHECK\((?P<expression>.+)\)\s*$"
)


def translate_error(exc):
    """
    * DuckDB finds a unique violation between concurrent transactions only at
      COMMIT, and reports it as a TransactionException ("Failed to commit:
      PRIMARY KEY or UNIQUE constraint violation"). It is an IntegrityError.
    * A value too long for a CharField breaks the CHECK that stands in for
      VARCHAR(n); like PostgreSQL's "value too long", that is a DataError.
    * Any other conflict between transactions ("Conflict on update", a
      catalog write-write conflict) is an errors.WriteConflict.
    """
    message = str(exc)
    if isinstance(exc, duckdb.TransactionException) and (
        "constraint violation" in message or "duplicate key" in message
    ):
        error = IntegrityError(message)
    elif isinstance(exc, duckdb.TransactionException) and reports_write_conflict(message):
        error = WriteConflict(message)
    elif isinstance(exc, duckdb.ConstraintException) and (length_check := _failed_length_check(message)):
        table, column, length = length_check
        error = DataError(f"Value too long for {table}.{column}: at most {length} characters. ({message})")
    else:
        return exc
    error.__cause__ = exc
    return error


def _failed_length_check(message):
    """(table, column, n) when a length CHECK (lengths.py) failed, else None."""
    match = _CHECK_FAILED_RE.search(message)
    length_check = match and parse_length_check(match["expression"])
    if not length_check:
        return None
    column, length = length_check
    return match["table"], column.strip('"'), length


def raise_translated(exc):
    """Raise exc as translate_error() translates it."""
    translated = translate_error(exc)
    if translated is exc:
        raise exc
    raise translated from exc


def convert_query(query, param_names=None):
    if param_names is None:
        return _qmark_query(query)
    return query % {name: f"${name}" for name in param_names}


@functools.lru_cache(maxsize=1024)
def _qmark_query(query):
    return FORMAT_QMARK_RE.sub("?", query).replace("%%", "%")


class ParsedStatements:
    """
    Parsed statements by SQL text, shared by the process's connections.

    Parsing is a good part of what DuckDB spends on a small statement (about
    0.07 of 0.4 ms for a point SELECT), and Django sends the same few SQL
    strings over and over: each is parsed once and then run as a
    ``duckdb.Statement``, which DuckDB copies for every execution. A parsed
    statement is only syntax (names are bound when it runs), so it stays
    valid across schema changes and reopened instances. A string holding
    several statements (or none) is kept as text and run as such.
    """

    def __init__(self, size=1024):
        self.size = size
        self._by_sql = {}
        self._lock = threading.Lock()

    def get(self, conn, sql):
        statement = self._by_sql.get(sql)
        if statement is None:
            statements = conn.extract_statements(sql)
            statement = statements[0] if len(statements) == 1 else sql
            with self._lock:
                if len(self._by_sql) >= self.size:
                    # Forget the oldest: a statement still in use comes back at once.
                    del self._by_sql[next(iter(self._by_sql))]
                self._by_sql[sql] = statement
        return statement

    def __contains__(self, sql):
        return sql in self._by_sql

    def __len__(self):
        return len(self._by_sql)


parsed_statements = ParsedStatements()


def _run_parsed(conn, sql):
    conn.execute(parsed_statements.get(conn, sql))


class Connection:
    """
    DB-API connection backed by leases of a registry.Instance.

    ``session_setup(session)`` is called on every lease, so per-session
    settings (time zone) can be applied to pooled DuckDB connections.
    """

    def __init__(self, instance, session_setup=None):
        self.instance = instance
        self.session_setup = session_setup
        # TIMESTAMPTZ values arrive in the session time zone, UTC (as pytz
        # objects). Return them aware in timestamptz_zone ("aware") or as
        # naive UTC wall clock times ("naive"; Django's USE_TZ = False).
        self.timestamptz_mode = "aware"
        self.timestamptz_zone = UTC
        self.autocommit = True
        self.closed = False
        self._session = None
        self._in_transaction = False

    # Leasing

    def _lease(self):
        if self.closed:
            raise InterfaceError("Connection already closed")
        if self._session is None:
            session = self.instance.acquire()
            try:
                if self.session_setup is not None:
                    self.session_setup(session)
            except BaseException:
                self.instance.release(session, discard=True)
                raise
            self._session = session
        if not self.autocommit and not self._in_transaction:
            _run_parsed(self._session.conn, "BEGIN TRANSACTION")
            self._in_transaction = True
        return self._session.conn

    def _release(self, discard=False):
        session, self._session = self._session, None
        if session is not None:
            self.instance.release(session, discard=discard)

    def _end_of_statement(self):
        if not self._in_transaction:
            self._release()

    # DB-API

    def cursor(self):
        return Cursor(self)

    @property
    def in_transaction(self):
        return self._in_transaction

    def begin(self):
        """Start a transaction explicitly, whatever the autocommit mode."""
        conn = self._lease()
        if not self._in_transaction:
            _run_parsed(conn, "BEGIN TRANSACTION")
            self._in_transaction = True

    def commit(self):
        self._finish("COMMIT")

    def rollback(self):
        self._finish("ROLLBACK")

    def _finish(self, statement):
        if not self._in_transaction:
            return
        self._in_transaction = False
        discard = False
        try:
            _run_parsed(self._session.conn, statement)
        except duckdb.Error as exc:
            # A failed COMMIT (write conflict) leaves nothing to keep; a
            # connection that can't even roll back is not pooled again.
            discard = statement != "COMMIT" or not self._rolled_back()
            raise_translated(exc)
        finally:
            self._release(discard=discard)

    def _rolled_back(self):
        try:
            _run_parsed(self._session.conn, "ROLLBACK")
        except duckdb.Error:
            return False
        return True

    def set_autocommit(self, autocommit):
        if autocommit and self._in_transaction:
            self.commit()
        self.autocommit = autocommit

    def close(self):
        if self.closed:
            return
        try:
            if self._in_transaction:
                self.rollback()
        finally:
            self._release()
            self.closed = True


class Cursor:
    arraysize = 1

    def __init__(self, connection):
        self.connection = connection
        self.description = None
        self.rowcount = -1
        self.lastrowid = None
        self.query = None
        self._rows = []
        self._pos = 0
        self.closed = False

    def _run(self, method, query, params):
        if self.closed:
            raise ProgrammingError("Cannot operate on a closed cursor.")
        connection = self.connection
        conn = connection._lease()
        try:
            statement = parsed_statements.get(conn, query) if method == "execute" else query
            for attempt in range(CONFLICT_RETRIES + 1):
                try:
                    if params is None:
                        getattr(conn, method)(statement)
                    else:
                        getattr(conn, method)(statement, params)
                    break
                except duckdb.TransactionException as exc:
                    # DuckDB's concurrency is optimistic: a statement touching
                    # a row another transaction changed fails at once with
                    # "Conflict on update". Outside a transaction the
                    # statement had no effect and is simply run again; inside
                    # one, the caller's transaction has to be retried.
                    if connection._in_transaction or attempt == CONFLICT_RETRIES or "Conflict" not in str(exc):
                        raise_translated(exc)
                    time.sleep(0.001 * 2**attempt)
                except duckdb.ConstraintException as exc:
                    raise_translated(exc)
            description = conn.description
            rowcount = conn.rowcount
            if (
                rowcount != -1
                and description is not None
                and len(description) == 1
                and description[0][0] == "Count"
                and _DML_RE.match(query)
            ):
                # INSERT/UPDATE/DELETE without RETURNING: DuckDB returns the
                # row count as a one-row result; expose it as rowcount only.
                self.description = None
                self.rowcount = rowcount
                self._rows = []
            elif description is None:
                self.description = None
                self.rowcount = rowcount
                self._rows = []
            else:
                self._rows = conn.fetchall()
                if self._rows:
                    self._convert_timestamptz(description)
                self.description = description
                self.rowcount = rowcount if rowcount != -1 else len(self._rows)
            self._pos = 0
        finally:
            connection._end_of_statement()
        return self

    def _convert_timestamptz(self, description):
        columns = [i for i, column in enumerate(description) if str(column[1]) == TIMESTAMPTZ]
        if not columns:
            return
        if self.connection.timestamptz_mode == "naive":

            def convert(value):
                return value.replace(tzinfo=None)
        else:
            zone = self.connection.timestamptz_zone or UTC

            def convert(value):
                return value.astimezone(zone)

        rows = []
        for row in self._rows:
            row = list(row)
            for i in columns:
                value = row[i]
                if isinstance(value, datetime.datetime):
                    row[i] = convert(value)
            rows.append(tuple(row))
        self._rows = rows

    def execute(self, query, params=None):
        self.query = query
        if params is None:
            return self._run("execute", query, None)
        param_names = list(params) if isinstance(params, Mapping) else None
        return self._run("execute", convert_query(query, param_names), params)

    def executemany(self, query, param_list):
        peekable, param_list = tee(iter(param_list))
        first = next(peekable, None)
        if first is None:
            self.rowcount = 0
            return self
        param_names = list(first) if isinstance(first, Mapping) else None
        return self._run("executemany", convert_query(query, param_names), list(param_list))

    def fetchone(self):
        if self._pos < len(self._rows):
            row = self._rows[self._pos]
            self._pos += 1
            return row
        return None

    def fetchmany(self, size=None):
        size = size or self.arraysize
        rows = self._rows[self._pos : self._pos + size]
        self._pos += len(rows)
        return rows

    def fetchall(self):
        rows = self._rows[self._pos :]
        self._pos = len(self._rows)
        return rows

    def __iter__(self):
        while (row := self.fetchone()) is not None:
            yield row

    def close(self):
        self.closed = True
        self._rows = []

    def setinputsizes(self, sizes):
        pass

    def setoutputsize(self, size, column=None):
        pass
