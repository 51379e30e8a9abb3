"""
SQL text helpers shared by the operations, the schema editor and
introspection: literals, sequence names and defaults, and reading column
lists out of CREATE INDEX statements.

A leaf module: it imports nothing else from django_duckdb.
"""

import datetime
import decimal
import re
import uuid

from django.db.backends.utils import strip_quotes

# A bare or double-quoted SQL identifier, alone.
IDENTIFIER_RE = re.compile(r'^\s*("(?:[^"]|"")+"|[A-Za-z_][A-Za-z0-9_$]*)\s*$')


def quote_name(name):
    """Double-quote an identifier (once)."""
    if name.startswith('"') and name.endswith('"'):
        return name  # Quoting once is enough.
    return '"%s"' % name.replace('"', '""')


def quote_value(value):
    """A SQL literal for value (defaults in DDL, last_executed_query)."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, (int, float, decimal.Decimal)):
        return str(value)
    if isinstance(value, str):
        return "'%s'" % value.replace("'", "''")
    if isinstance(value, (bytes, bytearray, memoryview)):
        return "'%s'::BLOB" % "".join("\\x%02x" % b for b in bytes(value))
    if isinstance(value, datetime.datetime):
        if value.tzinfo is not None:
            return "TIMESTAMPTZ '%s'" % value.isoformat(" ")
        return "TIMESTAMP '%s'" % value.isoformat(" ")
    if isinstance(value, datetime.date):
        return "DATE '%s'" % value.isoformat()
    if isinstance(value, datetime.time):
        return "TIME '%s'" % value.isoformat()
    if isinstance(value, datetime.timedelta):
        return "INTERVAL '%d microseconds'" % ((value.days * 86400 + value.seconds) * 1_000_000 + value.microseconds)
    if isinstance(value, uuid.UUID):
        return "'%s'::UUID" % value
    raise ValueError("Cannot quote parameter value %r of type %s" % (value, type(value)))


# -- sequences behind AutoFields ---------------------------------------------


def sequence_name(table, column):
    """The sequence behind an AutoField column (see schema.py)."""
    return f"{strip_quotes(table)}_{strip_quotes(column)}_seq"


def nextval_sql(name):
    """DEFAULT expression drawing from sequence `name` (any characters)."""
    quoted = '"%s"' % name.replace('"', '""')
    return "nextval('%s')" % quoted.replace("'", "''")


def restart_sequence_sql(style, table, column, name, start):
    """
    Statements that make the sequence `name` behind table.column start at
    `start`.

    DuckDB can't ALTER SEQUENCE ... RESTART and won't drop a sequence a
    column default uses, so detach it, recreate it and reattach it: one
    string of four statements (DuckDB runs them all), so callers that execute
    statement by statement can't leave the column half done.
    """
    qt, qc, qs = quote_name(table), quote_name(column), quote_name(name)
    return [
        " ".join(
            [
                f"{style.SQL_KEYWORD('ALTER TABLE')} {qt} ALTER COLUMN {qc} DROP DEFAULT;",
                f"{style.SQL_KEYWORD('DROP SEQUENCE')} {qs};",
                f"{style.SQL_KEYWORD('CREATE SEQUENCE')} {qs} START {int(start)};",
                f"{style.SQL_KEYWORD('ALTER TABLE')} {qt} ALTER COLUMN {qc} SET DEFAULT {nextval_sql(name)};",
            ]
        )
    ]


# -- reading SQL text ----------------------------------------------------------


def split_top_level(text):
    """Split "a, lower(b), c" on commas outside parentheses and quotes."""
    parts, depth, quote, current = [], 0, None, []
    for char in text:
        if quote:
            if char == quote:
                quote = None
        elif char in "\"'":
            quote = char
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "," and depth == 0:
            parts.append("".join(current).strip())
            current = []
            continue
        current.append(char)
    if "".join(current).strip():
        parts.append("".join(current).strip())
    return parts


def unquote(identifier):
    """The name behind a possibly double-quoted identifier."""
    identifier = identifier.strip()
    if identifier.startswith('"') and identifier.endswith('"'):
        return identifier[1:-1].replace('""', '"')
    return identifier


def index_columns(sql):
    """Column names of "CREATE INDEX i ON t(a, b);"; None for expressions."""
    if not sql:
        return []
    start = sql.find("(")
    end = sql.rfind(")")
    if start == -1 or end <= start:
        return []
    columns = []
    for part in split_top_level(sql[start + 1 : end]):
        match = IDENTIFIER_RE.match(part)
        columns.append(unquote(match.group(1)) if match else None)
    return columns


def rename_index_columns(sql, renamed, quote_name=quote_name):
    """
    Rewrite "CREATE INDEX i ON t(a, b);" for renamed columns ({old: new}); None
    if the index covers a dropped column ({old: None}) or an expression
    naming a changed column.
    """
    start, end = sql.find("("), sql.rfind(")")
    if start == -1 or end <= start or not renamed:
        return sql
    parts = []
    for part in split_top_level(sql[start + 1 : end]):
        match = IDENTIFIER_RE.match(part)
        if match:
            column = unquote(match.group(1)).lower()
            if column in renamed:
                if renamed[column] is None:
                    return None
                part = quote_name(renamed[column])
        elif any(re.search(r'(?<![\w"])"?%s"?(?![\w"])' % re.escape(old), part, re.I) for old in renamed):
            return None
        parts.append(part)
    return "%s(%s)%s" % (sql[:start], ", ".join(parts), sql[end + 1 :].rstrip().rstrip(";"))
