import re
from collections import namedtuple

from django.db.backends.base.introspection import BaseDatabaseIntrospection
from django.db.backends.base.introspection import FieldInfo as BaseFieldInfo
from django.db.backends.base.introspection import TableInfo as BaseTableInfo
from django.db.models import Index

from .lengths import parse_length_check
from .sql import index_columns, split_top_level, unquote

# Django's fields extended, as its own backends do.
FieldInfo = namedtuple("FieldInfo", BaseFieldInfo._fields + ("is_autofield", "comment", "is_positive"))  # type: ignore[misc]  # mypy types only literal field lists
TableInfo = namedtuple("TableInfo", BaseTableInfo._fields + ("comment",))  # type: ignore[misc]  # mypy types only literal field lists

_NEXTVAL_RE = re.compile(r"nextval\('(?:\"?[^'\".]+\"?\.)*\"?([^'\"]+)\"?'\)", re.I)
_COLUMN_COLLATION_RE = re.compile(
    r'^\s*("(?:[^"]|"")+"|[^\s"]+)\s.*?\bCOLLATE\s+("(?:[^"]|"")+"|[\w.]+)',
    re.IGNORECASE | re.DOTALL,
)

# Only objects of the database and schema the connection is using.
_HERE = "database_name = current_database() AND schema_name = current_schema()"


# A named CHECK constraint as schema.py creates it, once DuckDB has printed it:
# "(('<name>' != '') AND <condition> [AND <condition>...])".
_NAMED_CHECK_RE = re.compile(r"^\(\('((?:[^']|'')+)' != ''\) AND (.*)\)$", re.DOTALL)


def named_check(expression):
    """(name, condition) of a named CHECK expression, else (None, expression)."""
    match = _NAMED_CHECK_RE.match(expression or "")
    if not match:
        return None, expression
    return match.group(1).replace("''", "'"), "(%s)" % match.group(2)


def column_type_check(column, expression):
    """
    ("max_length", n) or ("non_negative", None) when a single-column CHECK is
    part of the column's type rather than a constraint of its own, else
    (None, None).
    """
    expression = (expression or "").strip()
    quoted = '"%s"' % column.replace('"', '""')
    if expression in (f"({column} >= 0)", f"({quoted} >= 0)"):
        return "non_negative", None
    length_check = parse_length_check(expression)
    if length_check and length_check[0] in (column, quoted):
        return "max_length", length_check[1]
    return None, None


class DatabaseIntrospection(BaseDatabaseIntrospection):
    # Keyed by the base type name DuckDB reports (parameters stripped).
    data_types_reverse = {
        "BOOLEAN": "BooleanField",
        "BLOB": "BinaryField",
        "TINYINT": "SmallIntegerField",
        "SMALLINT": "SmallIntegerField",
        "INTEGER": "IntegerField",
        "BIGINT": "BigIntegerField",
        "HUGEINT": "DecimalField",
        "UTINYINT": "PositiveSmallIntegerField",
        "USMALLINT": "PositiveSmallIntegerField",
        "UINTEGER": "PositiveIntegerField",
        "UBIGINT": "PositiveBigIntegerField",
        "FLOAT": "FloatField",
        "DOUBLE": "FloatField",
        "DECIMAL": "DecimalField",
        # CharField if a length CHECK goes with it, else TextField (see
        # get_field_type()).
        "VARCHAR": "CharField",
        "DATE": "DateField",
        "TIME": "TimeField",
        "TIMESTAMP": "DateTimeField",
        "TIMESTAMP WITH TIME ZONE": "DateTimeField",
        "INTERVAL": "DurationField",
        "UUID": "UUIDField",
        "JSON": "JSONField",
    }

    def get_field_type(self, data_type, description):
        base_type = data_type.split("(")[0].strip().upper()
        field_type = self.data_types_reverse.get(base_type)
        if field_type is None:
            # Fall back to the base class's KeyError handling in inspectdb.
            return super().get_field_type(data_type, description)
        if field_type == "CharField" and not description.internal_size:
            field_type = "TextField"
        elif description.is_autofield:
            field_type = {
                "IntegerField": "AutoField",
                "BigIntegerField": "BigAutoField",
                "SmallIntegerField": "SmallAutoField",
            }.get(field_type, field_type)
        elif getattr(description, "is_positive", False):
            # The CHECK (col >= 0) the Positive*Fields carry.
            field_type = {
                "IntegerField": "PositiveIntegerField",
                "BigIntegerField": "PositiveBigIntegerField",
                "SmallIntegerField": "PositiveSmallIntegerField",
            }.get(field_type, field_type)
        return field_type

    def _column_checks(self, cursor, table_name):
        """
        What the CHECKs that stand in for column types say: the columns that
        are non-negative (Positive*Fields) and the VARCHAR lengths.
        """
        cursor.execute(
            f"""
            SELECT constraint_column_names, expression FROM duckdb_constraints()
            WHERE {_HERE} AND lower(table_name) = lower(%s)
                AND constraint_type = 'CHECK'
            """,
            [table_name],
        )
        non_negative, lengths = set(), {}
        for names, expression in cursor.fetchall():
            if len(names or []) != 1:
                continue
            column = names[0]
            kind, value = column_type_check(column, expression)
            if kind == "non_negative":
                non_negative.add(column)
            elif kind == "max_length":
                lengths[column] = value
        return non_negative, lengths

    def get_table_list(self, cursor):
        cursor.execute(
            f"""
            SELECT table_name, 't', comment FROM duckdb_tables()
            WHERE {_HERE} AND NOT temporary
            UNION ALL
            SELECT view_name, 'v', comment FROM duckdb_views()
            WHERE {_HERE} AND NOT internal AND NOT temporary
            ORDER BY 1
            """
        )
        return [TableInfo(*row) for row in cursor.fetchall()]

    def _column_collations(self, cursor, table_name):
        """Collations by column, read from the table's CREATE statement."""
        cursor.execute(
            f"SELECT sql FROM duckdb_tables() WHERE {_HERE} AND lower(table_name) = lower(%s)",
            [table_name],
        )
        row = cursor.fetchone()
        if not row or not row[0] or "COLLATE" not in row[0].upper():
            return {}
        sql = row[0]
        body = sql[sql.find("(") + 1 : sql.rfind(")")]
        collations = {}
        for part in split_top_level(body):
            match = _COLUMN_COLLATION_RE.match(part)
            if match:
                collations[unquote(match.group(1))] = unquote(match.group(2))
        return collations

    def get_table_description(self, cursor, table_name):
        collations = self._column_collations(cursor, table_name)
        non_negative, lengths = self._column_checks(cursor, table_name)
        cursor.execute(
            f"""
            SELECT column_name, data_type, character_maximum_length,
                   numeric_precision, numeric_scale, is_nullable, column_default,
                   comment
            FROM duckdb_columns()
            WHERE {_HERE} AND lower(table_name) = lower(%s)
            ORDER BY column_index
            """,
            [table_name],
        )
        fields = []
        for name, data_type, max_length, precision, scale, null_ok, default, comment in cursor.fetchall():
            is_decimal = data_type.upper().startswith("DECIMAL")
            max_length = lengths.get(name, max_length)
            fields.append(
                FieldInfo(
                    name,
                    data_type,
                    max_length,
                    max_length,
                    precision if is_decimal else None,
                    scale if is_decimal else None,
                    null_ok,
                    default,
                    collations.get(name),
                    bool(default and _NEXTVAL_RE.search(default)),
                    comment,
                    name in non_negative,
                )
            )
        if not fields:
            # No such table: fail like a query on it would.
            cursor.execute("SELECT * FROM %s LIMIT 0" % self.connection.ops.quote_name(table_name))
        return fields

    def get_sequences(self, cursor, table_name, table_fields=()):
        cursor.execute(
            f"""
            SELECT column_name, column_default FROM duckdb_columns()
            WHERE {_HERE} AND lower(table_name) = lower(%s) AND column_default IS NOT NULL
            ORDER BY column_index
            """,
            [table_name],
        )
        sequences = []
        for column, default in cursor.fetchall():
            match = _NEXTVAL_RE.search(default)
            if match:
                sequences.append({"name": match.group(1), "table": table_name, "column": column})
        return sequences

    def get_relations(self, cursor, table_name):
        # Foreign keys are never created in the database (see features.py),
        # but report any that exist (e.g. in a database made elsewhere).
        cursor.execute(
            f"""
            SELECT constraint_column_names, referenced_table, referenced_column_names
            FROM duckdb_constraints()
            WHERE {_HERE} AND lower(table_name) = lower(%s) AND constraint_type = 'FOREIGN KEY'
            """,
            [table_name],
        )
        relations = {}
        for columns, ref_table, ref_columns in cursor.fetchall():
            for column, ref_column in zip(columns, ref_columns):
                relations[column] = (ref_column, ref_table)
        return relations

    def get_constraints(self, cursor, table_name):
        constraints = {}
        cursor.execute(
            f"""
            SELECT constraint_name, constraint_type, constraint_column_names,
                   expression, referenced_table, referenced_column_names
            FROM duckdb_constraints()
            WHERE {_HERE} AND lower(table_name) = lower(%s)
                AND constraint_type IN ('PRIMARY KEY', 'UNIQUE', 'CHECK', 'FOREIGN KEY')
            ORDER BY constraint_index
            """,
            [table_name],
        )
        for name, kind, columns, expression, ref_table, ref_columns in cursor.fetchall():
            foreign_key = None
            if kind == "FOREIGN KEY" and ref_table:
                foreign_key = (ref_table, ref_columns[0] if ref_columns else None)
            if kind == "CHECK":
                check_name, expression = named_check(expression)
                if not check_name and len(columns or []) == 1:
                    type_check, _ = column_type_check(columns[0], expression)
                    if type_check == "max_length":
                        continue  # part of the column's type, like VARCHAR(n)
                name = check_name or name
            constraints[name] = {
                "columns": list(columns or []),
                "primary_key": kind == "PRIMARY KEY",
                "unique": kind in ("PRIMARY KEY", "UNIQUE"),
                "foreign_key": foreign_key,
                "check": kind == "CHECK",
                "index": False,
                "definition": expression,
                "options": None,
            }
        cursor.execute(
            f"""
            SELECT index_name, is_unique, is_primary, sql FROM duckdb_indexes()
            WHERE {_HERE} AND lower(table_name) = lower(%s)
            """,
            [table_name],
        )
        for name, unique, primary, sql in cursor.fetchall():
            columns = index_columns(sql)
            constraints[name] = {
                "columns": columns,
                "primary_key": bool(primary),
                "unique": bool(unique),
                "foreign_key": None,
                "check": False,
                "index": True,
                "type": Index.suffix,
                "orders": ["ASC"] * len(columns),
                "definition": sql,
                "options": None,
            }
        return constraints
