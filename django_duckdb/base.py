"""
DuckDB database backend for Django.

Settings::

    DATABASES["default"] = {
        "ENGINE": "django_duckdb",
        "NAME": "/path/to/file.duckdb",      # or ":memory:"
        "OPTIONS": {
            "lock_timeout": 30,   # seconds to wait for another process's turn
            "idle_timeout": 1.0,  # seconds before an unused open file is closed
            "config": {},         # extra duckdb.connect(config=...) settings
        },
        "CONN_MAX_AGE": 0,
    }

See registry.py for how processes share a file and dbapi.py for how Django
connections map onto DuckDB connections.
"""

from typing import Any

import duckdb
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db.backends.base.base import BaseDatabaseWrapper
from django.utils.asyncio import async_unsafe
from django.utils.functional import cached_property

from . import dbapi as Database
from . import functions, registry, udfs
from .client import DatabaseClient
from .creation import DatabaseCreation
from .errors import ErrorWrapper
from .features import DatabaseFeatures
from .introspection import DatabaseIntrospection
from .lengths import MaxLengthCheck
from .operations import DatabaseOperations
from .schema import DatabaseSchemaEditor

functions.register()

# DuckDB's DECIMAL holds at most 38 digits.
MAX_DECIMAL_DIGITS = 38


def _get_decimal_column(data):
    if data["max_digits"] is None or data["max_digits"] > MAX_DECIMAL_DIGITS:
        # Wider than DuckDB can store exactly: fall back to a double.
        return "DOUBLE"
    return "DECIMAL(%(max_digits)s, %(decimal_places)s)" % data


_MAX_LENGTH_CHECK = MaxLengthCheck()


# Instance-wide settings every database opened by this backend gets.
INSTANCE_CONFIG = {
    # PostgreSQL's NULL ordering: NULLs sort as the largest value.
    "default_null_order": "nulls_last_on_asc_first_on_desc",
    # Web requests run many tiny queries, each from its own thread: DuckDB's
    # worker pool only adds scheduling overhead to them (~15-20% per point
    # query, measured). Raise it in OPTIONS["config"] for analytical work.
    "threads": 1,
}
# Sessions always work in UTC (see DatabaseWrapper.setup_session()). Needs the
# ICU extension, which can't be loaded while connecting: set it right after.
INSTANCE_ON_OPEN = ["SET GLOBAL TimeZone = 'UTC'", udfs.register]


class DatabaseWrapper(BaseDatabaseWrapper):
    vendor = "duckdb"
    display_name = "DuckDB"

    data_types = {
        "AutoField": "INTEGER",
        "BigAutoField": "BIGINT",
        "BinaryField": "BLOB",
        "BooleanField": "BOOLEAN",
        "CharField": "VARCHAR",
        "DateField": "DATE",
        "DateTimeField": "TIMESTAMPTZ",
        "DecimalField": _get_decimal_column,  # type: ignore[dict-item]  # Field.db_type() calls callables; stubs say str
        "DurationField": "INTERVAL",
        "FileField": "VARCHAR",
        "FilePathField": "VARCHAR",
        "FloatField": "DOUBLE",
        "IntegerField": "INTEGER",
        "BigIntegerField": "BIGINT",
        "IPAddressField": "VARCHAR",
        "GenericIPAddressField": "VARCHAR",
        "JSONField": "JSON",
        "OneToOneField": "INTEGER",
        "PositiveBigIntegerField": "BIGINT",
        "PositiveIntegerField": "INTEGER",
        "PositiveSmallIntegerField": "SMALLINT",
        "SlugField": "VARCHAR",
        "SmallAutoField": "SMALLINT",
        "SmallIntegerField": "SMALLINT",
        "TextField": "VARCHAR",
        "TimeField": "TIME",
        "UUIDField": "UUID",
    }
    # Django only applies `% params` to these: a MaxLengthCheck stands in for a str template.
    data_type_check_constraints: dict[str, Any] = {
        "PositiveBigIntegerField": '"%(column)s" >= 0',
        "PositiveIntegerField": '"%(column)s" >= 0',
        "PositiveSmallIntegerField": '"%(column)s" >= 0',
        # DuckDB's VARCHAR keeps no length: VARCHAR(n) is a CHECK instead.
        "CharField": _MAX_LENGTH_CHECK,
        "FileField": _MAX_LENGTH_CHECK,
        "FilePathField": _MAX_LENGTH_CHECK,
        "GenericIPAddressField": _MAX_LENGTH_CHECK,
        "IPAddressField": _MAX_LENGTH_CHECK,
        "SlugField": _MAX_LENGTH_CHECK,
    }
    # AutoFields get "DEFAULT nextval('<table>_<column>_seq')" from the schema
    # editor, which knows the table name.
    data_types_suffix = {}

    # LIKE has no default escape character in DuckDB: always name one.
    operators = {
        "exact": "= %s",
        "iexact": "= UPPER(%s)",
        "contains": "LIKE %s ESCAPE '\\'",
        "icontains": "LIKE UPPER(%s) ESCAPE '\\'",
        "gt": "> %s",
        "gte": ">= %s",
        "lt": "< %s",
        "lte": "<= %s",
        "startswith": "LIKE %s ESCAPE '\\'",
        "endswith": "LIKE %s ESCAPE '\\'",
        "istartswith": "LIKE UPPER(%s) ESCAPE '\\'",
        "iendswith": "LIKE UPPER(%s) ESCAPE '\\'",
    }
    # Backslashes are not special in DuckDB string literals.
    pattern_esc = r"REPLACE(REPLACE(REPLACE({}, '\', '\\'), '%%', '\%%'), '_', '\_')"
    pattern_ops = {
        "contains": r"LIKE '%%' || {} || '%%' ESCAPE '\'",
        "icontains": r"LIKE '%%' || UPPER({}) || '%%' ESCAPE '\'",
        "startswith": r"LIKE {} || '%%' ESCAPE '\'",
        "istartswith": r"LIKE UPPER({}) || '%%' ESCAPE '\'",
        "endswith": r"LIKE '%%' || {} ESCAPE '\'",
        "iendswith": r"LIKE '%%' || UPPER({}) ESCAPE '\'",
    }

    Database = Database
    SchemaEditorClass = DatabaseSchemaEditor
    client_class = DatabaseClient
    creation_class = DatabaseCreation
    features_class = DatabaseFeatures
    introspection_class = DatabaseIntrospection
    ops_class = DatabaseOperations

    def get_connection_params(self):
        settings_dict = self.settings_dict
        if not settings_dict["NAME"]:
            raise ImproperlyConfigured("settings.DATABASES is improperly configured. Please supply the NAME value.")
        options = dict(settings_dict["OPTIONS"])
        config = {**INSTANCE_CONFIG, **options.pop("config", {})}
        params = {
            "name": str(settings_dict["NAME"]),
            "config": config,
            "lock_timeout": float(options.pop("lock_timeout", 30)),
            "idle_timeout": float(options.pop("idle_timeout", 1.0)),
        }
        if options:
            raise ImproperlyConfigured(
                "Unknown DuckDB OPTIONS: %s (known: lock_timeout, idle_timeout, config)" % ", ".join(sorted(options))
            )
        return params

    def get_database_version(self):
        version = duckdb.__version__.split("-")[0]
        return tuple(int(part) for part in version.split(".")[:3] if part.isdigit())

    @async_unsafe
    def get_new_connection(self, conn_params):
        instance = registry.get_instance(
            conn_params["name"],
            config=conn_params["config"],
            lock_timeout=conn_params["lock_timeout"],
            idle_timeout=conn_params["idle_timeout"],
            on_open=INSTANCE_ON_OPEN,
        )
        return Database.Connection(instance, session_setup=self.setup_session)

    def setup_session(self, session):
        """
        Called on every lease of a DuckDB connection.

        DateTimeField is TIMESTAMPTZ and every session runs in UTC. With
        USE_TZ = True values are real instants and the cursor returns them
        aware in the connection's time zone (UTC unless DATABASES TIME_ZONE).
        With USE_TZ = False Django's naive local times are stored as UTC wall
        clock times and returned naive, so extraction, truncation and
        arithmetic see exactly the naive values (no DST, no ICU/pytz
        disagreement about historical offsets).
        """
        if settings.USE_TZ:
            self.connection.timestamptz_mode = "aware"
            self.connection.timestamptz_zone = self.timezone
        else:
            self.connection.timestamptz_mode = "naive"

    def ensure_timezone(self):
        # Applied by setup_session() on the next lease; sessions stay in UTC.
        return False

    @cached_property
    def wrap_database_errors(self):
        # Django's wrapper, except that a WriteConflict stays one.
        return ErrorWrapper(self)

    def create_cursor(self, name=None):
        return self.connection.cursor()

    @async_unsafe
    def close(self):
        self.validate_thread_sharing()
        # Closing the only connection to an in-memory database must not lose
        # it: the instance (and its data) lives in the registry until exit.
        super().close()

    def _set_autocommit(self, autocommit):
        with self.wrap_database_errors:
            self.connection.set_autocommit(autocommit)

    def is_usable(self):
        return self.connection is not None and not self.connection.closed

    # DuckDB has no savepoints (features.uses_savepoints = False); Django then
    # never calls these, but make misuse loud rather than silently wrong.
    def _savepoint(self, sid):
        raise Database.NotSupportedError("DuckDB does not support savepoints.")

    _savepoint_rollback = _savepoint_commit = _savepoint

    # Foreign keys aren't declared in the database (see features.py), so there
    # is nothing to switch off; check_constraints() looks for dangling
    # references the way SQLite's PRAGMA foreign_key_check does, so loaddata
    # and friends still catch them.
    def disable_constraint_checking(self):
        return True

    def enable_constraint_checking(self):
        pass

    def check_constraints(self, table_names=None):
        from django.apps import apps
        from django.db import IntegrityError

        qn = self.ops.quote_name
        with self.cursor() as cursor:
            for model in apps.get_models(include_auto_created=True):
                opts = model._meta
                if not opts.managed or opts.proxy or opts.swapped:
                    continue
                if table_names is not None and opts.db_table not in table_names:
                    continue
                pk = opts.pk
                pk_column = getattr(pk, "column", None)
                for field in opts.local_fields:
                    if not (field.is_relation and field.many_to_one or field.one_to_one):
                        continue
                    if not field.db_constraint or field.remote_field is None:
                        continue
                    target = field.target_field
                    ref_table = target.model._meta.db_table
                    cursor.execute(
                        f"SELECT {'t.' + qn(pk_column) if pk_column else 'NULL'}, "
                        f"t.{qn(field.column)} FROM {qn(opts.db_table)} AS t "
                        f"LEFT JOIN {qn(ref_table)} AS r "
                        f"ON t.{qn(field.column)} = r.{qn(target.column)} "
                        f"WHERE t.{qn(field.column)} IS NOT NULL "
                        f"AND r.{qn(target.column)} IS NULL LIMIT 1"
                    )
                    row = cursor.fetchone()
                    if row:
                        raise IntegrityError(
                            "The row in table '%s' with primary key '%s' has an "
                            "invalid foreign key: %s.%s contains a value '%s' that "
                            "does not have a corresponding value in %s.%s."
                            % (
                                opts.db_table,
                                row[0],
                                opts.db_table,
                                field.column,
                                row[1],
                                ref_table,
                                target.column,
                            )
                        )

    def is_in_memory_db(self):
        return self.creation.is_in_memory_db(self.settings_dict["NAME"])

    @cached_property
    def duckdb_version(self):
        return duckdb.__version__
