"""
DuckDB spellings of Django expressions whose generic SQL doesn't fit.

Django compiles an expression with its ``as_<vendor>()`` method when there is
one; the backend's vendor is "duckdb", so the implementations below are
attached to Django's classes as ``as_duckdb`` when the backend is imported.
Only classes that need a different spelling are touched; nothing changes for
other backends.

JSON is stored as minified text (operations.adapt_json_value), the form
DuckDB's json_extract() returns, so JSON values compare as text.
"""

import json
import re

from django.conf import settings
from django.db.models import DateField, DateTimeField, Sum, TimeField
from django.db.models.expressions import CombinedExpression
from django.db.models.fields import json as json_fields
from django.db.models.fields.json import (
    HasKeyLookup,
    HasKeyOrArrayIndex,
    KeyTextTransform,
    KeyTransform,
    KeyTransformIsNull,
)

compile_json_path = json_fields.compile_json_path  # type: ignore[attr-defined]  # in Django, missing from django-stubs

_QUOTED_KEY_RE = re.compile(r'\."((?:[^"\\]|\\.)*)"')


def _duckdb_json_path(path):
    """
    Django quotes keys with json.dumps(), which escapes non-ASCII characters
    as \\uXXXX; DuckDB's path parser wants them literally.
    """
    if "\\u" not in path:
        return path
    return _QUOTED_KEY_RE.sub(
        lambda m: "." + json.dumps(json.loads('"%s"' % m.group(1)), ensure_ascii=False),
        path,
    )


def _key_transform(self, compiler, connection):
    lhs, params, key_transforms = self.preprocess_lhs(compiler, connection)
    json_path = _duckdb_json_path(compile_json_path(key_transforms))
    return "json_extract(%s, %%s)" % lhs, (*params, json_path)


def _key_text_transform(self, compiler, connection):
    lhs, params, key_transforms = self.preprocess_lhs(compiler, connection)
    json_path = _duckdb_json_path(compile_json_path(key_transforms))
    return "json_extract_string(%s, %%s)" % lhs, (*params, json_path)


def _fix_paths(params):
    return tuple(_duckdb_json_path(p) if isinstance(p, str) and p.startswith("$") else p for p in params)


def _has_key(self, compiler, connection, template="json_exists(%s, %s)"):
    sql, params = self.as_sql(compiler, connection, template=template)
    return sql, _fix_paths(params)


def _key_transform_isnull(self, compiler, connection):
    # key__isnull=True: the key is absent (a JSON null value is present), or
    # the whole value is SQL NULL.
    template = "json_exists(%s, %s) IS NOT TRUE" if self.rhs else "json_exists(%s, %s)"
    lookup = HasKeyOrArrayIndex(self.lhs.lhs, self.lhs.key_name)
    return _has_key(lookup, compiler, connection, template=template)


def _key_transform_numeric(self, compiler, connection):
    # json_extract() yields JSON text; compare numbers as numbers and strings
    # as strings, like SQLite's json_extract() does.
    lhs_sql, lhs_params = self.process_lhs(compiler, connection)
    rhs_sql, rhs_params = self.process_rhs(compiler, connection)
    if len(rhs_params) == 1 and isinstance(rhs_params[0], (int, float)) and not (isinstance(rhs_params[0], bool)):
        lhs_sql = "TRY_CAST(%s AS DOUBLE)" % lhs_sql.replace("json_extract(", "json_extract_string(", 1)
    elif len(rhs_params) == 1 and isinstance(rhs_params[0], str):
        lhs_sql = lhs_sql.replace("json_extract(", "json_extract_string(", 1)
    params = (*lhs_params, *rhs_params)
    return "%s %s" % (lhs_sql, self.get_rhs_op(connection, rhs_sql)), params


INTEGER_FIELDS = {
    "AutoField",
    "BigAutoField",
    "SmallAutoField",
    "IntegerField",
    "BigIntegerField",
    "SmallIntegerField",
    "PositiveIntegerField",
    "PositiveBigIntegerField",
    "PositiveSmallIntegerField",
}


def _internal_type(expression):
    try:
        return expression.output_field.get_internal_type()
    except Exception:
        return None


def _combined_expression(self, compiler, connection):
    # DuckDB's "/" is always a true division; Django expects integer
    # division for integer operands, which DuckDB spells "//". (Subclasses -
    # temporal subtraction, durations - keep their own as_sql().)
    if type(self) is not CombinedExpression:
        return self.as_sql(compiler, connection)
    lhs_sql, lhs_params = compiler.compile(self.lhs)
    rhs_sql, rhs_params = compiler.compile(self.rhs)
    connector = self.connector
    if connector == "/" and _internal_type(self.lhs) in INTEGER_FIELDS and _internal_type(self.rhs) in INTEGER_FIELDS:
        connector = "//"
    sql = connection.ops.combine_expression(connector, [lhs_sql, rhs_sql])
    return "(%s)" % sql, (*lhs_params, *rhs_params)


def _sum(self, compiler, connection, **extra_context):
    # DuckDB has no SUM(INTERVAL): add microseconds up and convert back.
    if _internal_type(self) == "DurationField":
        sql, params = self.as_sql(
            compiler,
            connection,
            template="%(function)s(%(distinct)sepoch_us(%(expressions)s))",
            **extra_context,
        )
        return "to_microseconds(CAST(%s AS BIGINT))" % sql, params
    return self.as_sql(compiler, connection, **extra_context)


def _cast(self, compiler, connection, **extra_context):
    db_type = self.output_field.cast_db_type(connection)
    source = self.source_expressions[0]
    max_length = getattr(self.output_field, "max_length", None)
    if _internal_type(self) == "CharField" and max_length:
        # VARCHAR(n) doesn't truncate in DuckDB.
        sql, params = self.as_sql(compiler, connection, **extra_context)
        return "LEFT(%s, %d)" % (sql, int(max_length)), params
    if db_type == "TIME" and _internal_type(source) == "DateTimeField":
        # TIMESTAMPTZ -> TIME goes through the session time zone's TIMESTAMP.
        return self.as_sql(
            compiler,
            connection,
            template="CAST(CAST(%(expressions)s AS TIMESTAMP) AS %(db_type)s)",
            **extra_context,
        )
    return self.as_sql(compiler, connection, **extra_context)


def _pad(self, compiler, connection, **extra_context):
    # lpad()/rpad() take an INTEGER count; LENGTH() etc. return BIGINT.
    parts, params = [], []
    for position, expression in enumerate(self.get_source_expressions()):
        sql, sql_params = compiler.compile(expression)
        parts.append("CAST(%s AS INTEGER)" % sql if position == 1 else sql)
        params.extend(sql_params)
    return "%s(%s)" % (self.function, ", ".join(parts)), params


def _now(self, compiler, connection, **extra_context):
    from django.db.models.functions import Now

    if settings.USE_TZ or type(self).as_sql is not Now.as_sql:
        return self.as_sql(compiler, connection, **extra_context)
    # USE_TZ = False stores naive local times as UTC wall clock times.
    sql, params = self.as_sql(
        compiler,
        connection,
        template="CAST(CURRENT_TIMESTAMP AT TIME ZONE %%s AS TIMESTAMPTZ)",
        **extra_context,
    )
    return sql, (*params, settings.TIME_ZONE or "UTC")


def _trunc(self, compiler, connection):
    # As TruncBase.as_sql(), but a TIMESTAMPTZ truncated to a TIME is first
    # made a TIMESTAMP (DuckDB has no direct TIMESTAMPTZ -> TIME cast).
    from django.db.models.functions.datetime import TruncBase

    if type(self).as_sql is not TruncBase.as_sql:  # TruncDate, TruncTime
        return self.as_sql(compiler, connection)
    sql, params = compiler.compile(self.lhs)
    tzname = None
    if isinstance(self.lhs.output_field, DateTimeField):
        tzname = self.get_tzname()
    elif self.tzinfo is not None:
        raise ValueError("tzinfo can only be used with DateTimeField.")
    if isinstance(self.output_field, DateTimeField):
        return connection.ops.datetime_trunc_sql(self.kind, sql, tuple(params), tzname)
    if isinstance(self.output_field, DateField):
        return connection.ops.date_trunc_sql(self.kind, sql, tuple(params), tzname)
    if isinstance(self.output_field, TimeField):
        if isinstance(self.lhs.output_field, DateTimeField) and not (tzname and settings.USE_TZ):
            sql = "CAST(%s AS TIMESTAMP)" % sql
        return connection.ops.time_trunc_sql(self.kind, sql, tuple(params), tzname)
    raise ValueError("Trunc only valid on DateField, TimeField, or DateTimeField.")


_JSON_SORT_KEY = (
    "CASE WHEN {j} IS NULL THEN NULL ELSE struct_pack("
    "t := CASE json_type({j}) WHEN 'NULL' THEN 0 WHEN 'VARCHAR' THEN 1 "
    "WHEN 'BOOLEAN' THEN 3 WHEN 'ARRAY' THEN 4 WHEN 'OBJECT' THEN 5 ELSE 2 END, "
    "n := CASE WHEN json_type({j}) IN ('BIGINT', 'UBIGINT', 'HUGEINT', 'DOUBLE') "
    "THEN CAST({j} AS DOUBLE) END, "
    "s := json_extract_string({j}, '$')) END"
)


def _json_sort_key(compiler, expression):
    """
    A sort key for a JSON value: by type (null < string < number < boolean <
    array < object, jsonb's order), numbers by value, strings by their text.
    JSON text alone would put "-1" before "-100" and "10" before "9".
    """
    sql, params = compiler.compile(expression)
    uses = _JSON_SORT_KEY.count("{j}")
    return _JSON_SORT_KEY.format(j=sql), tuple(params) * uses


def _order_by(self, compiler, connection, **extra_context):
    from django.db.models.expressions import RawSQL, Ref
    from django.db.models.sql.compiler import PositionRef

    expression = self.expression
    if isinstance(expression, PositionRef):
        # An ordinal can't be wrapped: use the selected expression itself
        # (or its alias in a compound query, where DuckDB resolves it).
        if not compiler.query.combinator:
            expression = expression.source
        elif expression.refs:
            expression = Ref(expression.refs, expression.source)
        else:
            return self.as_sql(compiler, connection, **extra_context)
    if not isinstance(getattr(expression, "_output_field_or_none", None), json_fields.JSONField):
        return self.as_sql(compiler, connection, **extra_context)
    ordered = self.copy()
    ordered.expression = RawSQL(*_json_sort_key(compiler, expression), output_field=expression.output_field)
    return ordered.as_sql(compiler, connection, **extra_context)


# Python-only regular expression syntax that RE2, DuckDB's engine, refuses:
# backreferences and lookaround.
_PYTHON_ONLY_REGEX_RE = re.compile(r"\\[1-9]|\(\?P=|\(\?<?[=!]")


def _regex(self, compiler, connection):
    # RE2 (regexp_matches) is fast; a pattern only Python's re understands
    # goes to the django_regexp() Python function instead (see udfs.py).
    if not (isinstance(self.rhs, str) and _PYTHON_ONLY_REGEX_RE.search(self.rhs)):
        return self.as_sql(compiler, connection)
    lhs_sql, lhs_params = self.process_lhs(compiler, connection)
    rhs_sql, rhs_params = self.process_rhs(compiler, connection)
    return "django_regexp(%s, %s, %%s)" % (lhs_sql, rhs_sql), (
        *lhs_params,
        *rhs_params,
        self.lookup_name == "iregex",
    )


def register():
    from django.db.models.expressions import OrderBy
    from django.db.models.functions import Cast, LPad, Now, RPad
    from django.db.models.functions.datetime import TruncBase
    from django.db.models.lookups import IRegex, Regex

    CombinedExpression.as_duckdb = _combined_expression
    Sum.as_duckdb = _sum
    Cast.as_duckdb = _cast
    Now.as_duckdb = _now
    TruncBase.as_duckdb = _trunc
    LPad.as_duckdb = RPad.as_duckdb = _pad
    OrderBy.as_duckdb = _order_by
    Regex.as_duckdb = IRegex.as_duckdb = _regex
    KeyTransform.as_duckdb = _key_transform
    KeyTextTransform.as_duckdb = _key_text_transform
    HasKeyLookup.as_duckdb = _has_key
    KeyTransformIsNull.as_duckdb = _key_transform_isnull
    for lookup in (
        json_fields.KeyTransformLt,
        json_fields.KeyTransformLte,
        json_fields.KeyTransformGt,
        json_fields.KeyTransformGte,
    ):
        lookup.as_duckdb = _key_transform_numeric
