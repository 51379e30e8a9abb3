from django.db import ProgrammingError
from django.db.backends.base.features import BaseDatabaseFeatures
from django.utils.functional import cached_property


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
    # DuckDB's collations: nocase, noaccent, nfc and ICU's per-language ones.
    supports_collation_on_charfield = True
    supports_collation_on_textfield = True
    # nocase compares case-insensitively: a non-deterministic collation.
    supports_non_deterministic_collations = True
    test_collations = {
        "ci": "nocase",
        "cs": "binary",
        "non_default": "nocase",
        "swedish_ci": None,
        "virtual": "nocase",
    }
    supports_comments = False
    # No inet type: an IP address column is a VARCHAR with a length CHECK.
    introspected_field_types = {
        **BaseDatabaseFeatures.introspected_field_types,
        "GenericIPAddressField": "CharField",
    }
    # DuckDB only has VIRTUAL generated columns; GeneratedField(db_persist=
    # True) is created VIRTUAL too (computed when read; the same values for
    # the deterministic expressions Django allows).
    supports_stored_generated_columns = True
    supports_virtual_generated_columns = True
    supports_tablespaces = False
    can_rename_index = False
    connection_persists_old_columns = False
    supports_default_keyword_in_insert = True
    supports_default_keyword_in_bulk_insert = True
    requires_literal_defaults = True
    supports_expression_defaults = True

    # "Foo" and "foo" name the same table in DuckDB.
    ignores_table_name_case = True
    closed_cursor_error_class = ProgrammingError
    # DuckDB's regular expressions are RE2; patterns with backreferences or
    # lookaround go to Python's re (functions._regex).
    supports_regex_backreferencing = True
    supports_paramstyle_pyformat = True
    test_db_allows_multiple_connections = True
    can_clone_databases = False
    supports_sequence_reset = True
    supports_tuple_lookups = True
    supported_explain_formats = set()
    insert_test_table_with_defaults = "INSERT INTO {} DEFAULT VALUES"
    test_now_utc_template = "CURRENT_TIMESTAMP"

    django_test_expected_failures = set()

    # Tests of Django's own suite that can't pass on DuckDB, and why. Run
    # django_duckdb/suite/django_suite.sh to see what passes.
    @cached_property
    def django_test_skips(self):
        return {
            "No savepoints: a database error inside the test's transaction "
            "dooms it, so the test can't go on querying after the expected "
            "IntegrityError.": {
                "get_or_create.tests.GetOrCreateTests.test_get_or_create_invalid_params",
                "get_or_create.tests.GetOrCreateTestsWithManualPKs.test_create_with_duplicate_primary_key",
                "get_or_create.tests.GetOrCreateTestsWithManualPKs.test_savepoint_rollback",
                "get_or_create.tests.GetOrCreateThroughManyToMany.test_something",
                "get_or_create.tests.UpdateOrCreateTests.test_integrity",
                "get_or_create.tests.UpdateOrCreateTests.test_manual_primary_key_test",
                "get_or_create.tests.UpdateOrCreateTestsWithManualPKs.test_create_with_duplicate_primary_key",
                "model_fields.test_booleanfield.BooleanFieldTests.test_null_default",
                "model_fields.test_floatfield.TestFloatField.test_float_validates_object",
            },
            "CharField() without max_length and TextField are the same VARCHAR; inspectdb reads them as TextField.": {
                "inspectdb.tests.InspectDBTestCase.test_char_field_unlimited",
            },
            "Foreign keys aren't in the database: inspectdb can't see them.": {
                "inspectdb.tests.InspectDBTestCase.test_same_relations",
            },
            "DuckDB can't index collated expressions.": {
                "schema.tests.SchemaTests.test_func_index_collate",
                "schema.tests.SchemaTests.test_func_index_collate_f_ordered",
                "schema.tests.SchemaTests.test_func_unique_constraint_collate",
            },
            "Changing max_length rebuilds the table (DuckDB can't alter a "
            "CHECK): more than the one statement the test expects.": {
                "schema.tests.SchemaTests.test_unique_and_reverse_m2m",
            },
            'The test\'s model still has the "id" column an earlier step '
            "renamed; the rebuild can't copy it from the table (SQLite reads "
            'the unknown "id" as a string literal, and the table is empty).': {
                "schema.tests.SchemaTests.test_autofield_to_o2o",
            },
            "DuckDB can't index json_extract() expressions.": {
                "schema.tests.SchemaTests.test_func_index_json_key_transform",
                "schema.tests.SchemaTests.test_func_index_json_key_transform_cast",
            },
        }
