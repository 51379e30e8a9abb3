import datetime
import decimal
import json
from functools import lru_cache, partial

from django.conf import settings
from django.db.backends.base.operations import BaseDatabaseOperations
from django.db.backends.utils import split_tzname_delta
from django.db.models.constants import OnConflict
from django.db.models.expressions import Col
from django.utils import timezone
from django.utils.regex_helper import _lazy_re_compile

from . import sql as sqltext
from .sql import quote_value, restart_sequence_sql, sequence_name


@lru_cache
def get_json_dumps(encoder):
    # Minified UTF-8 text: the form DuckDB's json_extract() produces, so JSON
    # values (and key lookups) compare equal as text.
    return partial(json.dumps, cls=encoder, separators=(",", ":"), ensure_ascii=False)


class DatabaseOperations(BaseDatabaseOperations):
    compiler_module = "django_duckdb.compiler"
    cast_char_field_without_max_length = "VARCHAR"
    explain_prefix = "EXPLAIN"
    cast_data_types = {
        "AutoField": "INTEGER",
        "BigAutoField": "BIGINT",
        "SmallAutoField": "SMALLINT",
    }
    # EXTRACT format cannot be passed in parameters.
    _extract_format_re = _lazy_re_compile(r"[A-Z_]+")

    # -- dates and times ----------------------------------------------------
    # DateTimeField is TIMESTAMPTZ and sessions run in UTC (see
    # DatabaseWrapper.setup_session()): a value without AT TIME ZONE is seen
    # as UTC, which with USE_TZ = False is Django's naive wall clock.

    def date_extract_sql(self, lookup_type, sql, params):
        if lookup_type == "week_day":
            # Django's week_day: Sunday=1 .. Saturday=7.
            return f"(EXTRACT(DOW FROM {sql}) + 1)", params
        elif lookup_type == "iso_week_day":
            return f"EXTRACT(ISODOW FROM {sql})", params
        elif lookup_type == "iso_year":
            return f"EXTRACT(ISOYEAR FROM {sql})", params
        lookup_type = lookup_type.upper()
        if not self._extract_format_re.fullmatch(lookup_type):
            raise ValueError(f"Invalid lookup type: {lookup_type!r}")
        return f"EXTRACT({lookup_type} FROM {sql})", params

    def _convert_sql_to_tz(self, sql, params, tzname):
        if tzname and settings.USE_TZ:
            name, sign, offset = split_tzname_delta(tzname)
            if offset:
                # A fixed offset ("UTC+05:30", "-04:43"): ICU ignores the
                # minutes of such names, so shift the UTC wall clock instead.
                hours, _, minutes = offset.partition(":")
                return (
                    f"(({sql} AT TIME ZONE 'UTC') {sign} INTERVAL '{int(hours)} hours {int(minutes or 0)} minutes')"
                ), params
            # TIMESTAMPTZ AT TIME ZONE z -> the local TIMESTAMP in z.
            return f"({sql} AT TIME ZONE %s)", (*params, name)
        return sql, params

    def date_trunc_sql(self, lookup_type, sql, params, tzname=None):
        sql, params = self._convert_sql_to_tz(sql, params, tzname)
        return f"CAST(DATE_TRUNC(%s, {sql}) AS DATE)", (lookup_type, *params)

    def datetime_cast_date_sql(self, sql, params, tzname):
        sql, params = self._convert_sql_to_tz(sql, params, tzname)
        return f"CAST({sql} AS DATE)", params

    def datetime_cast_time_sql(self, sql, params, tzname):
        sql, params = self._convert_sql_to_tz(sql, params, tzname)
        # TIMESTAMPTZ has no direct cast to TIME; TIMESTAMP does.
        return f"CAST(CAST({sql} AS TIMESTAMP) AS TIME)", params

    def datetime_extract_sql(self, lookup_type, sql, params, tzname):
        sql, params = self._convert_sql_to_tz(sql, params, tzname)
        return self.date_extract_sql(lookup_type, sql, params)

    def datetime_trunc_sql(self, lookup_type, sql, params, tzname):
        sql, params = self._convert_sql_to_tz(sql, params, tzname)
        return f"DATE_TRUNC(%s, {sql})", (lookup_type, *params)

    def time_extract_sql(self, lookup_type, sql, params):
        return self.date_extract_sql(lookup_type, sql, params)

    def time_trunc_sql(self, lookup_type, sql, params, tzname=None):
        # DATE_TRUNC doesn't take a TIME: truncate it on an arbitrary day.
        sql, params = self._convert_sql_to_tz(sql, params, tzname)
        return (
            f"CAST(DATE_TRUNC(%s, DATE '2000-01-01' + CAST({sql} AS TIME)) AS TIME)",
            (lookup_type, *params),
        )

    def subtract_temporals(self, internal_type, lhs, rhs):
        lhs_sql, lhs_params = lhs
        rhs_sql, rhs_params = rhs
        params = (*lhs_params, *rhs_params)
        if internal_type == "DateField":
            # DATE - DATE is a number of days.
            return (
                f"(INTERVAL 1 DAY * (CAST({lhs_sql} AS DATE) - CAST({rhs_sql} AS DATE)))",
                params,
            )
        if internal_type == "TimeField":
            # No TIME - TIME: put both on the same day.
            return (
                f"((DATE '2000-01-01' + CAST({lhs_sql} AS TIME)) - (DATE '2000-01-01' + CAST({rhs_sql} AS TIME)))",
                params,
            )
        return f"({lhs_sql} - {rhs_sql})", params

    # -- values in and out --------------------------------------------------

    def adapt_datefield_value(self, value):
        return value

    def adapt_datetimefield_value(self, value):
        if value is None or hasattr(value, "resolve_expression"):
            return value
        return value

    def adapt_timefield_value(self, value):
        if value is None or hasattr(value, "resolve_expression"):
            return value
        if timezone.is_aware(value):
            raise ValueError("DuckDB backend does not support timezone-aware times.")
        return value

    def adapt_decimalfield_value(self, value, max_digits=None, decimal_places=None):
        return value

    def adapt_json_value(self, value, encoder):
        return get_json_dumps(encoder)(value)

    def get_db_converters(self, expression):
        converters = super().get_db_converters(expression)
        internal_type = expression.output_field.get_internal_type()
        # TIMESTAMPTZ values are converted by the cursor (dbapi.py); UUID,
        # BOOLEAN, INTERVAL, BLOB and JSON text come back as Django wants them.
        if internal_type == "DecimalField":
            converters.append(self.get_decimalfield_converter(expression))
        elif internal_type == "TimeField":
            converters.append(self.convert_timefield_value)
        elif internal_type == "DateField":
            converters.append(self.convert_datefield_value)
        return converters

    def convert_timefield_value(self, value, expression, connection):
        if isinstance(value, datetime.datetime):
            value = value.time()
        return value

    def convert_datefield_value(self, value, expression, connection):
        if isinstance(value, datetime.datetime):
            value = value.date()
        return value

    def get_decimalfield_converter(self, expression):
        create_decimal = decimal.Context(prec=38).create_decimal_from_float
        # A float for a column is a DecimalField stored as DOUBLE: round it
        # to the field's scale. A computed value (an average, a COALESCE with
        # a float, ...) keeps its precision, as on other backends.
        if isinstance(expression, Col) and (expression.output_field.decimal_places is not None):
            quantize_value = decimal.Decimal(1).scaleb(-expression.output_field.decimal_places)

            def converter(value, expression, connection):
                if isinstance(value, float):
                    return create_decimal(value).quantize(quantize_value, context=expression.output_field.context)
                if isinstance(value, int):
                    return decimal.Decimal(value)
                return value

        else:

            def converter(value, expression, connection):
                if isinstance(value, float):
                    # The shortest decimal that reads back as this double,
                    # without the binary expansion's trailing digits.
                    return decimal.Decimal(repr(value))
                if isinstance(value, int):
                    return decimal.Decimal(value)
                return value

        return converter

    # -- SQL pieces ---------------------------------------------------------

    def quote_name(self, name):
        return sqltext.quote_name(name)

    def no_limit_value(self):
        return None

    def prepare_sql_script(self, sql):
        import sqlparse

        return [sqlparse.format(statement, strip_comments=True) for statement in sqlparse.split(sql) if statement]

    def max_name_length(self):
        return None

    def distinct_sql(self, fields, params):
        if fields:
            params = [param for param_list in params for param in param_list]
            return (["DISTINCT ON (%s)" % ", ".join(fields)], params)
        return ["DISTINCT"], []

    def lookup_cast(self, lookup_type, internal_type=None):
        lookup = "%s"
        if lookup_type in (
            "iexact",
            "contains",
            "icontains",
            "startswith",
            "istartswith",
            "endswith",
            "iendswith",
            "regex",
            "iregex",
        ) and internal_type not in ("CharField", "TextField", "SlugField", None):
            lookup = "CAST(%s AS VARCHAR)"
        if lookup_type in ("iexact", "icontains", "istartswith", "iendswith"):
            lookup = "UPPER(%s)" % lookup
        return lookup

    def prep_for_iexact_query(self, x):
        # iexact is "= UPPER(%s)", not LIKE: nothing to escape.
        return x

    def regex_lookup(self, lookup_type):
        # regexp_matches() looks for a match anywhere, like Python's re.search.
        if lookup_type == "regex":
            return "regexp_matches(%s, %s)"
        return "regexp_matches(%s, %s, 'i')"

    def return_insert_columns(self, fields):
        if not fields:
            return "", ()
        columns = [
            "%s.%s"
            % (
                self.quote_name(field.model._meta.db_table),
                self.quote_name(field.column),
            )
            for field in fields
        ]
        return "RETURNING %s" % ", ".join(columns), ()

    def fetch_returned_insert_rows(self, cursor):
        return cursor.fetchall()

    def combine_expression(self, connector, sub_expressions):
        if connector == "#":
            return "xor(%s)" % ", ".join(sub_expressions)
        if connector == "^":
            return "POWER(%s)" % ", ".join(sub_expressions)
        if connector == "<<":
            # DuckDB refuses to shift negative numbers left; multiplying by a
            # power of two gives the same result.
            lhs, rhs = sub_expressions
            return "%s * (CAST(1 AS BIGINT) << %s)" % (lhs, rhs)
        return super().combine_expression(connector, sub_expressions)

    def on_conflict_suffix_sql(self, fields, on_conflict, update_fields, unique_fields):
        if on_conflict == OnConflict.IGNORE:
            return "ON CONFLICT DO NOTHING"
        if on_conflict == OnConflict.UPDATE:
            return "ON CONFLICT(%s) DO UPDATE SET %s" % (
                ", ".join(map(self.quote_name, unique_fields)),
                ", ".join(f"{field} = EXCLUDED.{field}" for field in map(self.quote_name, update_fields)),
            )
        return super().on_conflict_suffix_sql(fields, on_conflict, update_fields, unique_fields)

    def last_executed_query(self, cursor, sql, params):
        # DuckDB doesn't expose the bound statement; show the values quoted.
        sql = getattr(cursor, "query", None) or sql
        if params:
            try:
                if isinstance(params, (list, tuple)):
                    return sql % tuple(quote_value(p) for p in params)
                return sql % {k: quote_value(v) for k, v in params.items()}
            except (TypeError, ValueError):
                pass
        return sql

    # -- flush and sequences ------------------------------------------------

    def sql_flush(self, style, tables, *, reset_sequences=False, allow_cascade=False):
        if not tables:
            return []
        sql = [
            "%s %s %s;"
            % (
                style.SQL_KEYWORD("DELETE"),
                style.SQL_KEYWORD("FROM"),
                style.SQL_FIELD(self.quote_name(table)),
            )
            for table in tables
        ]
        if reset_sequences:
            sequences = [
                {"table": table, "column": column, "name": name}
                for table in tables
                for column, name in self._sequences_of(table)
            ]
            sql.extend(self.sequence_reset_by_name_sql(style, sequences))
        return sql

    def _sequences_of(self, table):
        with self.connection.cursor() as cursor:
            return [
                (info["column"], info["name"]) for info in self.connection.introspection.get_sequences(cursor, table)
            ]

    def sequence_reset_by_name_sql(self, style, sequences):
        sql = []
        for info in sequences:
            table = info["table"]
            column = info["column"] or "id"
            name = info.get("name") or sequence_name(table, column)
            sql.extend(restart_sequence_sql(style, table, column, name, 1))
        return sql

    def sequence_reset_sql(self, style, model_list):
        """Point each AutoField's sequence past the largest key in its table."""
        from django.db import models

        output = []
        with self.connection.cursor() as cursor:
            for model in model_list:
                for f in model._meta.local_fields:
                    if not isinstance(f, models.AutoField):
                        continue
                    table = model._meta.db_table
                    sequences = dict(
                        (info["column"], info["name"])
                        for info in self.connection.introspection.get_sequences(cursor, table)
                    )
                    name = sequences.get(f.column)
                    if name is None:
                        break
                    cursor.execute(
                        "SELECT COALESCE(MAX(%s), 0) FROM %s" % (self.quote_name(f.column), self.quote_name(table))
                    )
                    start = cursor.fetchone()[0] + 1
                    cursor.execute(
                        "SELECT last_value FROM duckdb_sequences() WHERE lower(sequence_name) = lower(%s)",
                        [name],
                    )
                    row = cursor.fetchone()
                    if row and row[0] is not None and row[0] >= start:
                        break  # already past every key
                    output.extend(restart_sequence_sql(style, table, f.column, name, start))
                    break
        return output

    def explain_query_prefix(self, format=None, **options):
        analyze = options.pop("analyze", False)
        prefix = super().explain_query_prefix(format, **options)
        return prefix + " ANALYZE" if analyze else prefix
