from django.db.backends.base.features import BaseDatabaseFeatures
from django.utils.functional import cached_property

from . import dbapi


class DatabaseFeatures(BaseDatabaseFeatures):
    minimum_database_version = (1, 1)

    # Transactions. DuckDB has no SAVEPOINT: nested atomic() blocks don't
    # create savepoints, and an error inside one marks the whole outermost
    # transaction for rollback (Django's documented behaviour for backends
    # without savepoints). DDL is transactional.
    uses_savepoints = False
    can_release_savepoints = False
    supports_transactions = True
    atomic_transactions = True
    can_rollback_ddl = True
    autocommits_when_autocommit_is_off = False

    # No row locks: writers use optimistic concurrency and a losing writer
    # gets "Conflict on update" (an OperationalError).
    has_select_for_update = False

    # Foreign keys are not declared in the database. DuckDB checks them
    # eagerly (deleting a parent after its children in the same transaction
    # still fails) and a referenced table can't be dropped or rebuilt, which
    # breaks Django's cascading deletes and schema changes. Django enforces
    # on_delete in Python; referential integrity is the application's.
    supports_foreign_keys = False
    can_create_inline_fk = False
    indexes_foreign_keys = True
    can_introspect_foreign_keys = False
    supports_forward_references = True

    # Results are fetched eagerly by the cursor (one pending result per DuckDB
    # connection), so there are no server-side/chunked reads.
    can_use_chunked_reads = False

    can_return_columns_from_insert = True
    can_return_rows_from_bulk_insert = True
    has_bulk_insert = True
    supports_ignore_conflicts = True
    supports_update_conflicts = True
    supports_update_conflicts_with_target = True

    has_native_uuid_field = True
    has_native_duration_field = True
    has_native_json_field = False
    has_real_datatype = True
    supports_temporal_subtraction = True
    supports_timezones = True
    has_zoneinfo_database = True
    supports_unlimited_charfield = True
    supports_json_field = True
    supports_json_field_contains = False
    can_introspect_json_field = True
    has_json_object_function = True
    supports_primitives_in_json_field = True

    can_distinct_on_fields = True
    nulls_order_largest = True
    supports_order_by_nulls_modifier = True
    supports_over_clause = True
    supports_frame_range_fixed_distance = True
    supports_frame_exclusion = True
    supports_aggregate_filter_clause = True
    greatest_least_ignores_nulls = True
    supports_slicing_ordering_in_compound = True
    allows_group_by_selected_pks = False
    supports_boolean_expr_in_select_clause = True

    # Schema.
    supports_partial_indexes = False
    supports_functions_in_partial_indexes = False
    supports_covering_indexes = False
    supports_expression_indexes = True
    supports_index_column_ordering = False
    supports_deferrable_unique_constraints = False
    supports_column_check_constraints = True
    supports_table_check_constraints = True
    can_introspect_check_constraints = True
    supports_collation_on_charfield = False
    supports_collation_on_textfield = False
    supports_comments = False
    supports_stored_generated_columns = False
    supports_virtual_generated_columns = False
    supports_tablespaces = False
    can_rename_index = False
    connection_persists_old_columns = False
    supports_default_keyword_in_insert = True
    supports_default_keyword_in_bulk_insert = True
    requires_literal_defaults = True
    supports_expression_defaults = True

    closed_cursor_error_class = dbapi.ProgrammingError
    supports_paramstyle_pyformat = True
    test_db_allows_multiple_connections = True
    can_clone_databases = False
    supports_sequence_reset = True
    supports_tuple_lookups = True
    supported_explain_formats = set()
    insert_test_table_with_defaults = "INSERT INTO {} DEFAULT VALUES"

    django_test_expected_failures = set()

    @cached_property
    def django_test_skips(self):
        return {}
