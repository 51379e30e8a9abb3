"""
The schema editor's sequences: each AutoField column draws from a sequence
"<table>_<column>_seq" (``DEFAULT nextval(...)``).

DuckDB won't drop a sequence a column default uses, so the sequence lives
and dies with its table, is renamed with it, and is carried over (or
re-created at the right position) when the table is rebuilt (rebuild.py).
"""

from django.core.management.color import no_style

from .sql import nextval_sql, restart_sequence_sql, sequence_name

AUTO_FIELD_TYPES = ("AutoField", "BigAutoField", "SmallAutoField")


class SequenceMixin:
    """Sequence handling of DatabaseSchemaEditor (schema.py)."""

    sql_create_sequence = "CREATE SEQUENCE %(sequence)s START %(start)s"
    sql_delete_sequence = "DROP SEQUENCE IF EXISTS %(sequence)s"

    def _sequence_name(self, model, field):
        table = model._meta.db_table
        return sequence_name(self._sequence_tables.get(table, table), field.column)

    def _auto_fields(self, model):
        return [f for f in model._meta.local_fields if f.get_internal_type() in AUTO_FIELD_TYPES]

    def _sequence_exists(self, name):
        if self.collect_sql:
            return False
        with self.connection.cursor() as cursor:
            cursor.execute(
                "SELECT 1 FROM duckdb_sequences() WHERE lower(sequence_name) = lower(%s) "
                "AND database_name = current_database() "
                "AND schema_name = current_schema()",
                [name],
            )
            return cursor.fetchone() is not None

    def _create_sequence(self, name, start=1):
        self.execute(self.sql_create_sequence % {"sequence": self.quote_name(name), "start": int(start)})

    def _drop_sequence(self, name):
        self.execute(self.sql_delete_sequence % {"sequence": self.quote_name(name)})

    def _table_sequences(self, table):
        if self.collect_sql:
            return []
        with self.connection.cursor() as cursor:
            return self.connection.introspection.get_sequences(cursor, table)

    def _sequence_next_value(self, name, table=None, column=None):
        """Where a replacement for sequence `name` must start."""
        with self.connection.cursor() as cursor:
            cursor.execute(
                "SELECT last_value FROM duckdb_sequences() WHERE lower(sequence_name) = lower(%s)",
                [name],
            )
            row = cursor.fetchone()
            start = (row[0] or 0) + 1 if row else 1
            if table and column and self._column_position(table, column) is not None:
                cursor.execute("SELECT MAX(%s) FROM %s" % (self.quote_name(column), self.quote_name(table)))
                (largest,) = cursor.fetchone()
                if largest is not None:
                    start = max(start, int(largest) + 1)
            return start

    def _rename_sequences(self, old_table, new_table):
        """Give the sequences of a renamed table their new names."""
        if old_table.startswith("new__"):
            # A rebuilt table: its sequences already have the final names.
            return
        for info in self._table_sequences(new_table):
            old_name, column = info["name"], info["column"]
            new_name = sequence_name(new_table, column)
            if old_name == new_name:
                continue
            if self._sequence_exists(new_name):
                self._drop_sequence(new_name)
            self._create_sequence(new_name, self._sequence_next_value(old_name, new_table, column))
            self.execute(
                "ALTER TABLE %s ALTER COLUMN %s SET DEFAULT %s"
                % (self.quote_name(new_table), self.quote_name(column), nextval_sql(new_name))
            )
            self._drop_sequence(old_name)

    def _advance_sequences(self, table):
        """After copying rows with their keys, move sequences past them."""
        if self.collect_sql:
            return
        for info in self._table_sequences(table):
            with self.connection.cursor() as cursor:
                cursor.execute("SELECT MAX(%s) FROM %s" % (self.quote_name(info["column"]), self.quote_name(table)))
                (largest,) = cursor.fetchone()
            if largest is not None:
                for sql in restart_sequence_sql(no_style(), table, info["column"], info["name"], largest + 1):
                    self.execute(sql)
