"""
Schema editor for DuckDB.

DuckDB's ALTER TABLE is limited: a table with any explicit index (which
Django creates for every db_index field and unique_together) refuses ADD/DROP/
RENAME COLUMN, SET/DROP NOT NULL and RENAME TO; a column in a UNIQUE or
PRIMARY KEY constraint can't change type or be dropped; FOREIGN KEY and CHECK
constraints can't be added later. So, like Django's SQLite backend, most
changes rebuild the table: create the new table, copy the rows, drop the old
one, rename the new one, recreate the indexes. Everything runs inside the
migration's transaction (DuckDB DDL is transactional).

AutoFields use a sequence per column named "<table>_<column>_seq" and a
DEFAULT nextval(...). DuckDB won't drop a sequence a column default uses, so
the sequence lives and dies with its table and is carried over (or re-created
at the right position) when the table is rebuilt or renamed.

The rebuild itself is rebuild.py; sequence handling is sequences.py.

Foreign keys are not created in the database (features.supports_foreign_keys
is False; see features.py for why).
"""

import re

from django.db.backends.base.schema import (  # type: ignore[attr-defined]  # Django's private _related_non_m2m_objects, on purpose
    BaseDatabaseSchemaEditor,
    _related_non_m2m_objects,
)
from django.db.backends.ddl_references import Statement
from django.db.backends.utils import strip_quotes
from django.db.models import CompositePrimaryKey, UniqueConstraint

from .rebuild import TableRebuild
from .sequences import AUTO_FIELD_TYPES, SequenceMixin
from .sql import nextval_sql, quote_value


class DatabaseSchemaEditor(SequenceMixin, BaseDatabaseSchemaEditor):
    sql_delete_table = "DROP TABLE %(table)s"
    sql_create_fk = None  # type: ignore[assignment]  # unused: supports_foreign_keys is False
    sql_create_inline_fk = None
    sql_create_column_inline_fk = None
    sql_delete_column = "ALTER TABLE %(table)s DROP COLUMN %(column)s"
    sql_create_unique = "CREATE UNIQUE INDEX %(name)s ON %(table)s (%(columns)s)"
    sql_delete_unique = "DROP INDEX %(name)s"
    sql_create_index = "CREATE INDEX %(name)s ON %(table)s (%(columns)s)"
    sql_create_unique_index = "CREATE UNIQUE INDEX %(name)s ON %(table)s (%(columns)s)"
    sql_delete_index = "DROP INDEX %(name)s"
    sql_alter_table_comment = None  # type: ignore[assignment]  # unused: supports_comments is False
    sql_alter_column_comment = None  # type: ignore[assignment]  # unused: supports_comments is False

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # While rebuilding "X" as "new__X", sequences are named after "X".
        self._sequence_tables = {}
        # Tables that lost an index in this transaction: DuckDB still counts
        # the index as a dependency of its columns until commit.
        self._dropped_index_tables = set()

    def execute(self, sql, params=()):
        if isinstance(sql, Statement) and str(sql).startswith("DROP INDEX"):
            table = sql.parts.get("table")
            if table is not None:
                self._dropped_index_tables.add(strip_quotes(str(table)))
        return super().execute(sql, params)

    def __exit__(self, exc_type, exc_value, traceback):
        # Django's base class runs the deferred SQL and then leaves its
        # atomic block; if a deferred statement fails, the atomic block would
        # never be left and the connection would stay in a broken transaction.
        try:
            if exc_type is None:
                for sql in self.deferred_sql:
                    self.execute(sql, None)
                self.deferred_sql = []
        except BaseException as exc:
            if self.atomic_migration:
                self.atomic.__exit__(type(exc), exc, exc.__traceback__)
            raise
        if self.atomic_migration:
            self.atomic.__exit__(exc_type, exc_value, traceback)

    def quote_value(self, value):
        return quote_value(value)

    def _column_generated_sql(self, field):
        # DuckDB can't store generated columns: always VIRTUAL.
        expression_sql, params = field.generated_sql(self.connection)
        expression_sql = expression_sql % tuple(self.quote_value(p) for p in params)
        collation = field.db_parameters(connection=self.connection).get("collation")
        if collation:
            expression_sql = f"({expression_sql}) {self._collate_sql(collation)}"
        return f"GENERATED ALWAYS AS ({expression_sql}) VIRTUAL", ()

    def _check_sql(self, name, check):
        # DuckDB drops the names of CHECK constraints (it names them
        # "<table>_<columns>_check"). Keep the name in the expression as an
        # always-true first term, which introspection reads back (see
        # introspection.named_check()); TRUE AND x is x for NULL too.
        if name:
            check = "%s != '' AND (%s)" % (quote_value(str(name)), check)
        return super()._check_sql(name, check)

    def _collate_sql(self, collation, old_collation=None, table_name=None):
        return "COLLATE " + self.quote_name(collation)

    def prepare_default(self, value):
        return self.quote_value(value)

    # -- column and table definitions --------------------------------------

    def _iter_column_sql(self, column_db_type, params, model, field, field_db_params, include_default):
        yield column_db_type
        if field.get_internal_type() in AUTO_FIELD_TYPES:
            yield "DEFAULT %s" % nextval_sql(self._sequence_name(model, field))
            # An AutoField has no other default.
            include_default = False
        if field.generated and field_db_params.get("collation"):
            # DuckDB takes no COLLATE before GENERATED: collate the expression.
            field_db_params = {**field_db_params, "collation": None}
        parts = super()._iter_column_sql(column_db_type, params, model, field, field_db_params, include_default)
        next(parts)  # the type, yielded above
        yield from parts

    def _unique_sql(self, model, fields, name, *args, **kwargs):
        # Unique constraints become unique indexes created after the table
        # (see table_sql), so they can be dropped by name like any index.
        return None

    def _table_sql(self, model):
        sql, params = super().table_sql(model)
        for field in model._meta.local_fields:
            check = field.generated and field.db_parameters(connection=self.connection)["check"]
            if check:
                # A GeneratedField gets its output field's CHECK (the length
                # of a CharField); DuckDB allows no constraint on generated
                # columns.
                sql = sql.replace(" " + self.sql_check_constraint % {"check": check}, "", 1)
        for constraint in model._meta.constraints:
            if isinstance(constraint, UniqueConstraint):
                statement = constraint.create_sql(model, self)
                if statement is not None:
                    self.deferred_sql.append(statement)
        return sql, params

    def create_model(self, model):
        # The sequences behind AutoFields must exist before the table that
        # uses them; send them in the same statement as CREATE TABLE (DuckDB
        # runs several statements without parameters at once).
        prefix = "".join(
            "CREATE SEQUENCE IF NOT EXISTS %s START 1; " % self.quote_name(self._sequence_name(model, field))
            for field in self._auto_fields(model)
            if model._meta.db_table not in self._sequence_tables
        )
        self._create_table_prefix = prefix
        try:
            super().create_model(model)
        finally:
            self._create_table_prefix = ""

    def table_sql(self, model):
        sql, params = self._table_sql(model)
        prefix, self._create_table_prefix = getattr(self, "_create_table_prefix", ""), ""
        return prefix + sql, params

    def delete_model(self, model, handle_autom2m=True):
        sequences = self._table_sequences(model._meta.db_table)
        if handle_autom2m:
            super().delete_model(model)
        else:
            self._drop_table(model)
        for info in sequences:
            self._drop_sequence(info["name"])

    def _drop_table(self, model):
        self.execute(self.sql_delete_table % {"table": self.quote_name(model._meta.db_table)})
        for sql in list(self.deferred_sql):
            if isinstance(sql, Statement) and sql.references_table(model._meta.db_table):
                self.deferred_sql.remove(sql)

    # -- renaming a table ---------------------------------------------------

    def _table_indexes(self, table):
        """(name, CREATE INDEX sql) for the explicit indexes of a table."""
        if self.collect_sql:
            return []
        with self.connection.cursor() as cursor:
            cursor.execute(
                "SELECT index_name, sql FROM duckdb_indexes() WHERE lower(table_name) = lower(%s) "
                "AND database_name = current_database() "
                "AND schema_name = current_schema() ORDER BY index_oid",
                [table],
            )
            return cursor.fetchall()

    def alter_db_table(self, model, old_db_table, new_db_table):
        if old_db_table.lower() == new_db_table.lower():
            return  # DuckDB table names ignore case
        # DuckDB won't rename a table that has indexes: drop them around it.
        indexes = self._table_indexes(old_db_table)
        for name, _ in indexes:
            self.execute(self.sql_delete_index % {"name": self.quote_name(name)})
        super().alter_db_table(model, old_db_table, new_db_table)
        on_old = re.compile(r"\bON\s+(\"?)%s\1\s*\(" % re.escape(strip_quotes(old_db_table)))
        for _, sql in indexes:
            self.execute(on_old.sub(lambda m: "ON %s(" % self.quote_name(new_db_table), sql, 1))
        self._rename_sequences(old_db_table, new_db_table)

    def _remake_table(self, model, create_field=None, delete_field=None, alter_fields=None):
        """Rebuild the table of `model` with a changed definition, keeping rows."""
        return TableRebuild(self, model, create_field, delete_field, alter_fields).run()

    # -- operations ---------------------------------------------------------

    def _table_constraints(self, table):
        """(type, column indexes) of the table's PK/UNIQUE/CHECK constraints."""
        if self.collect_sql:
            return []
        with self.connection.cursor() as cursor:
            cursor.execute(
                "SELECT constraint_type, constraint_column_indexes "
                "FROM duckdb_constraints() WHERE lower(table_name) = lower(%s) "
                "AND database_name = current_database() "
                "AND schema_name = current_schema() "
                "AND constraint_type IN ('PRIMARY KEY', 'UNIQUE', 'CHECK', 'FOREIGN KEY')",
                [table],
            )
            return cursor.fetchall()

    def _column_position(self, table, column):
        with self.connection.cursor() as cursor:
            cursor.execute(
                "SELECT column_index - 1 FROM duckdb_columns() WHERE lower(table_name) = lower(%s) "
                "AND lower(column_name) = lower(%s) AND database_name = current_database() "
                "AND schema_name = current_schema()",
                [table, column],
            )
            row = cursor.fetchone()
            return row[0] if row else None

    def _simple_column(self, field, checked=False):
        """
        A column with no key, uniqueness, sequence or (unless ``checked``)
        check of its own.
        """
        return not (
            field.primary_key
            or field.unique
            or field.generated
            or field.get_internal_type() in AUTO_FIELD_TYPES
            or (not checked and field.db_parameters(connection=self.connection)["check"])
        )

    def add_field(self, model, field):
        if field.many_to_many and field.remote_field.through._meta.auto_created:
            return self.create_model(field.remote_field.through)
        if isinstance(field, CompositePrimaryKey):
            return
        if field.db_parameters(connection=self.connection)["type"] is None:
            return
        from django.db.models.expressions import Value

        table = model._meta.db_table
        # DuckDB adds a plain column in place, unless an index on the table
        # (any CREATE INDEX) blocks ALTER TABLE, or a computed default would
        # have DuckDB rewrite the table's indexes inside the transaction.
        if (
            self._simple_column(field)
            and not (field.has_db_default() and not isinstance(field.db_default, Value))
            and not self._table_indexes(table)
        ):
            return super().add_field(model, field)
        self._remake_table(model, create_field=field)

    def remove_field(self, model, field):
        if field.many_to_many:
            if field.remote_field.through._meta.auto_created:
                self.delete_model(field.remote_field.through)
            return
        if field.db_parameters(connection=self.connection)["type"] is None:
            return
        if self._can_drop_in_place(model, field):
            return super().remove_field(model, field)
        self._remake_table(model, delete_field=field)

    def _can_drop_in_place(self, model, field):
        """
        DROP COLUMN works unless the table has an index, or the column is in
        a constraint, or a UNIQUE/PRIMARY KEY constraint covers a later column
        ("an index depends on a column after it").
        """
        table = model._meta.db_table
        # A column's own CHECKs (its length, its sign) go with it.
        if self.collect_sql or not self._simple_column(field, checked=True) or field.db_index:
            return False
        if self._table_indexes(table) or table in self._dropped_index_tables:
            return False
        position = self._column_position(table, field.column)
        if position is None:
            return False
        for kind, columns in self._table_constraints(table):
            if kind == "CHECK" and list(columns) == [position]:
                continue
            if position in columns:
                return False
            if kind in ("PRIMARY KEY", "UNIQUE") and max(columns) > position:
                return False
        return True

    def _alter_field(
        self,
        model,
        old_field,
        new_field,
        old_type,
        new_type,
        old_db_params,
        new_db_params,
        strict=False,
    ):
        table = model._meta.db_table
        if (
            old_field.column == new_field.column
            and old_db_params == new_db_params
            and self.column_sql(model, old_field) == self.column_sql(model, new_field)
            and old_field.db_index == new_field.db_index
            and old_field.unique == new_field.unique
        ):
            # Nothing the table stores changed (e.g. only the Python-side
            # default): no rebuild.
            return
        if (
            old_field.column != new_field.column
            and self.column_sql(model, old_field) == self.column_sql(model, new_field)
            and old_field.db_index == new_field.db_index
            and not self._table_indexes(table)
        ):
            # Only the name changed: DuckDB renames a column in place when no
            # index stands on the table.
            self.execute(self._rename_field_sql(table, old_field, new_field, new_type))
            for sql in self.deferred_sql:
                if isinstance(sql, Statement):
                    sql.rename_column_references(table, old_field.column, new_field.column)
            return
        self._remake_table(model, alter_fields=[(old_field, new_field)])
        if (old_field.primary_key or old_field.unique) and old_type != new_type:
            self._rebuild_related(model, old_field, new_field)

    def _rebuild_related(self, model, old_field, new_field):
        """
        Columns pointing at a primary/unique key whose type changed follow it
        (foreign keys, multi-table inheritance links, auto M2M tables).
        """
        for old_rel, new_rel in _related_non_m2m_objects(old_field, new_field):
            if old_rel.related_model == model:
                continue
            self._remake_table(new_rel.related_model, alter_fields=[(old_rel.field, new_rel.field)])
        if new_field.primary_key:
            opts = new_field.model._meta
            related_m2m = {
                remote_field.through
                for remote_field in opts.related_objects
                if remote_field.many_to_many
                and remote_field.through._meta.auto_created
                and remote_field.related_model != model
            }
            related_m2m.update(
                m2m.remote_field.through
                for m2m in opts.many_to_many
                if m2m.remote_field.through._meta.auto_created and m2m.related_model != model
            )
            for through in related_m2m:
                self._remake_table(through)

    def _alter_many_to_many(self, model, old_field, new_field, strict):
        """Alter M2Ms to repoint their to= endpoints."""
        old_through = old_field.remote_field.through
        new_through = new_field.remote_field.through
        if old_through._meta.db_table == new_through._meta.db_table:
            self._remake_table(
                old_through,
                alter_fields=[
                    (
                        old_through._meta.get_field(old_field.m2m_reverse_field_name()),
                        new_through._meta.get_field(new_field.m2m_reverse_field_name()),
                    ),
                    (
                        old_through._meta.get_field(old_field.m2m_field_name()),
                        new_through._meta.get_field(new_field.m2m_field_name()),
                    ),
                ],
            )
            return
        self.create_model(new_through)
        self.execute(
            "INSERT INTO %s (%s) SELECT %s FROM %s"
            % (
                self.quote_name(new_through._meta.db_table),
                ", ".join(["id", new_field.m2m_column_name(), new_field.m2m_reverse_name()]),
                ", ".join(["id", old_field.m2m_column_name(), old_field.m2m_reverse_name()]),
                self.quote_name(old_through._meta.db_table),
            )
        )
        self._advance_sequences(new_through._meta.db_table)
        self.delete_model(old_through)

    def add_constraint(self, model, constraint):
        if isinstance(constraint, UniqueConstraint):
            super().add_constraint(model, constraint)
        else:
            self._remake_table(model)

    def remove_constraint(self, model, constraint):
        if isinstance(constraint, UniqueConstraint):
            super().remove_constraint(model, constraint)
        else:
            self._remake_table(model)

    def alter_unique_together(self, model, old_unique_together, new_unique_together):
        # unique_together are unique indexes: the base implementation works.
        super().alter_unique_together(model, old_unique_together, new_unique_together)
