"""
Rebuilding a table with a changed definition, keeping its rows (the schema
editor's ``_remake_table``).

DuckDB refuses most ALTER TABLEs on a table with an index, and can't add a
CHECK or change a key later, so like django.db.backends.sqlite3.schema the
schema editor rebuilds the table, in the same steps:

1. work out the new model's fields and how each new column is filled from
   the old table (``map_fields``);
2. build the new model, for a table "new__<table>" (``build_new_model``);
3. create the new table, with the sequences of its AutoFields at the right
   position (``create_sequences``, then the editor's ``create_model``);
4. copy the rows (``copy_rows``);
5. drop the old table and rename the new one to the old name;
6. restore the indexes and unique indexes, also those the model doesn't
   declare (``restore_indexes``), and drop sequences no column uses any more.

Everything runs inside the migration's transaction.
"""

import copy

from django.apps.registry import Apps
from django.db.backends.utils import strip_quotes
from django.db.models import CompositePrimaryKey, UniqueConstraint

from .sequences import AUTO_FIELD_TYPES
from .sql import index_columns, rename_index_columns, sequence_name


class TableRebuild:
    """One rebuild of ``model``'s table by the schema editor ``editor``."""

    def __init__(self, editor, model, create_field=None, delete_field=None, alter_fields=None):
        self.editor = editor
        self.model = model
        self.create_field = create_field
        self.delete_field = delete_field
        self.alter_fields = alter_fields or []
        self.table = model._meta.db_table
        self.temp_table = "new__%s" % strip_quotes(self.table)
        # Field name -> field of the new model.
        self.body = {}
        # New column -> SQL expression over the old table's columns.
        self.mapping = {}
        self.rename_mapping = {}
        self.restore_pk_field = None

    def run(self):
        editor, delete_field = self.editor, self.delete_field
        self.map_fields()
        if delete_field and delete_field.many_to_many and delete_field.remote_field.through._meta.auto_created:
            return editor.delete_model(delete_field.remote_field.through)
        new_model = self.build_new_model()
        old_sequences = {info["name"]: info["column"] for info in editor._table_sequences(self.table)}
        # Indexes the model doesn't declare (a historical index_together, a
        # RunSQL) would be lost with the old table: note them to recreate.
        undeclared = self.undeclared_indexes()
        # While rebuilding, sequences are named after the final table.
        editor._sequence_tables[self.temp_table] = strip_quotes(self.table)
        try:
            self.create_sequences(new_model, old_sequences)
            editor.create_model(new_model)
            self.copy_rows()
            # Drop the old table (and its indexes), keep its sequences for now.
            editor._drop_table(self.model)
            editor.alter_db_table(new_model, self.temp_table, self.table)
        finally:
            del editor._sequence_tables[self.temp_table]
        self.restore_indexes(undeclared)
        self.drop_unused_sequences(new_model, old_sequences)
        if self.restore_pk_field:
            self.restore_pk_field.primary_key = True

    # -- 1. the new model's fields and the column mapping --------------------

    def map_fields(self):
        model = self.model

        def is_self_referential(f):
            return f.is_relation and f.remote_field.model is model

        self.body = {f.name: f.clone() if is_self_referential(f) else f for f in model._meta.local_concrete_fields}
        pk = model._meta.pk
        if isinstance(pk, CompositePrimaryKey):
            self.body[pk.name] = pk.clone()
        self.mapping = {
            f.column: self.editor.quote_name(f.column)
            for f in model._meta.local_concrete_fields
            if f.generated is False
        }
        self._demote_primary_key()
        if self.create_field:
            self._map_created_field(self.create_field)
        for old_field, new_field in self.alter_fields:
            self._map_altered_field(old_field, new_field)
        if self.delete_field:
            del self.body[self.delete_field.name]
            self.mapping.pop(self.delete_field.column, None)

    def _demote_primary_key(self):
        """A field that becomes the primary key takes the role from the old one."""
        alter_fields = self.alter_fields
        if not (
            getattr(self.create_field, "primary_key", False)
            or any(getattr(new, "primary_key", False) for _, new in alter_fields)
        ):
            return
        for name, field in list(self.body.items()):
            if field.primary_key and not any(name == new_field.name for _, new_field in alter_fields):
                field.primary_key = False
                self.restore_pk_field = field
                if field.auto_created:
                    del self.body[name]
                    del self.mapping[field.column]

    def _map_created_field(self, field):
        editor = self.editor
        self.body[field.name] = field
        if (
            not field.has_db_default()
            and not (field.many_to_many or field.generated)
            and field.concrete
            and field.get_internal_type() not in AUTO_FIELD_TYPES
        ):
            self.mapping[field.column] = editor.prepare_default(editor.effective_default(field))

    def _map_altered_field(self, old_field, new_field):
        editor = self.editor
        self.body.pop(old_field.name, None)
        self.mapping.pop(old_field.column, None)
        self.body[new_field.name] = new_field
        self.rename_mapping[old_field.name] = new_field.name
        if new_field.generated:
            return
        column_sql = editor.quote_name(old_field.column)
        old_type = old_field.db_type(editor.connection)
        new_type = new_field.db_type(editor.connection)
        if old_type != new_type and new_type:
            # Let the database convert the values explicitly.
            column_sql = "CAST(%s AS %s)" % (column_sql, new_type)
        if old_field.null and not new_field.null:
            if not new_field.has_db_default():
                default = editor.prepare_default(editor.effective_default(new_field))
            else:
                default, _ = editor.db_default_sql(new_field)
            column_sql = "coalesce(%s, %s)" % (column_sql, default)
        self.mapping[new_field.column] = column_sql

    # -- 2. the new model ------------------------------------------------------

    def build_new_model(self):
        model, delete_field = self.model, self.delete_field
        apps = Apps()
        unique_together = [[self.rename_mapping.get(n, n) for n in unique] for unique in model._meta.unique_together]
        indexes = model._meta.indexes
        if delete_field:
            indexes = [index for index in indexes if delete_field.name not in index.fields]
        meta = {
            "app_label": model._meta.app_label,
            "unique_together": unique_together,
            "indexes": indexes,
            "constraints": list(model._meta.constraints),
            "apps": apps,
        }
        # A model with the final table name, only for reference resolution.
        self._model_class(model._meta.object_name, {**meta, "db_table": self.table})
        # The model whose table is built.
        new_model = self._model_class("New%s" % model._meta.object_name, {**meta, "db_table": self.temp_table})
        if delete_field and delete_field.attname == new_model._meta.pk.attname:
            auto_pk = new_model._meta.pk
            delattr(new_model, auto_pk.attname)
            new_model._meta.local_fields.remove(auto_pk)
            new_model.pk = None
        return new_model

    def _model_class(self, name, meta):
        body = copy.deepcopy(self.body)
        body["Meta"] = type("Meta", (), meta)
        body["__module__"] = self.model.__module__
        return type(name, self.model.__bases__, body)

    # -- 3. sequences of the new table -----------------------------------------

    def create_sequences(self, new_model, old_sequences):
        """
        New auto fields whose sequence doesn't exist yet (a renamed column, a
        field that became an AutoField) start after the existing keys.
        """
        editor = self.editor
        for field in editor._auto_fields(new_model):
            name = editor._sequence_name(new_model, field)
            if name in old_sequences or editor._sequence_exists(name):
                continue
            source = next(
                (old.column for old, new in self.alter_fields if new.column == field.column),
                field.column if field.column in self.mapping else None,
            )
            start = 1
            if source is not None and not editor.collect_sql:
                old_seq = next((n for n, c in old_sequences.items() if c == source), None)
                start = editor._sequence_next_value(old_seq or name, self.table, source)
            editor._create_sequence(name, start)

    # -- 4. the rows -------------------------------------------------------------

    def copy_rows(self):
        quote_name = self.editor.quote_name
        self.editor.execute(
            "INSERT INTO %s (%s) SELECT %s FROM %s"
            % (
                quote_name(self.temp_table),
                ", ".join(quote_name(x) for x in self.mapping),
                ", ".join(self.mapping.values()),
                quote_name(self.table),
            )
        )

    # -- 6. indexes and leftover sequences ---------------------------------------

    def restore_indexes(self, undeclared):
        """Indexes and unique indexes, now on the final table name."""
        editor = self.editor
        for sql in editor.deferred_sql:
            editor.execute(sql)
        editor.deferred_sql = []
        renamed = {old.column.lower(): new.column for old, new in self.alter_fields}
        if self.delete_field is not None and self.delete_field.column:
            renamed[self.delete_field.column.lower()] = None
        for sql in undeclared:
            sql = rename_index_columns(sql, renamed, editor.quote_name)
            if sql is not None:
                editor.execute(sql)

    def drop_unused_sequences(self, new_model, old_sequences):
        editor = self.editor
        kept = {sequence_name(strip_quotes(self.table), f.column) for f in editor._auto_fields(new_model)}
        for name in old_sequences:
            if name not in kept:
                editor._drop_sequence(name)

    def undeclared_indexes(self):
        """CREATE INDEX statements of indexes Django doesn't know the model has."""
        existing = self.editor._table_indexes(self.table)
        if not existing:
            return []
        declared = set()
        for statement in self._declared_index_statements():
            name = getattr(statement, "parts", {}).get("name") if statement else None
            if name is not None:
                declared.add(strip_quotes(str(name)).lower())
        # Like Django's own alter_field, an altered field that loses db_index
        # takes any single-column index on it along.
        dropped_columns, dropped_unique_columns = set(), set()
        for old_field, new_field in self.alter_fields:
            if old_field.db_index and not new_field.db_index:
                dropped_columns.add(old_field.column.lower())
            if old_field.unique and not new_field.unique:
                dropped_unique_columns.add(old_field.column.lower())
        undeclared = []
        for name, sql in existing:
            if name.lower() in declared:
                continue
            columns = index_columns(sql)
            column = (columns[0] or "").lower() if len(columns) == 1 else None
            if column in dropped_columns or (
                column in dropped_unique_columns and sql.upper().startswith("CREATE UNIQUE")
            ):
                continue
            undeclared.append(sql)
        return undeclared

    def _declared_index_statements(self):
        editor, model = self.editor, self.model
        statements = list(editor._model_indexes_sql(model))
        for old_field, _ in self.alter_fields:
            statements.extend(editor._field_indexes_sql(model, old_field))
        if self.delete_field is not None:
            statements.extend(editor._field_indexes_sql(model, self.delete_field))
        for fields in model._meta.unique_together:
            statements.append(editor._create_unique_sql(model, [model._meta.get_field(f) for f in fields]))
        for constraint in model._meta.constraints:
            if isinstance(constraint, UniqueConstraint):
                statements.append(constraint.create_sql(model, self.editor))
        return statements
