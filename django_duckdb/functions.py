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

from django.db.models.fields import json as json_fields
from django.db.models.fields.json import (
    HasKeyLookup,
    HasKeyOrArrayIndex,
    KeyTextTransform,
    KeyTransform,
    KeyTransformIsNull,
    compile_json_path,
)


def _key_transform(self, compiler, connection):
    lhs, params, key_transforms = self.preprocess_lhs(compiler, connection)
    json_path = compile_json_path(key_transforms)
    return "json_extract(%s, %%s)" % lhs, (*params, json_path)


def _key_text_transform(self, compiler, connection):
    lhs, params, key_transforms = self.preprocess_lhs(compiler, connection)
    json_path = compile_json_path(key_transforms)
    return "json_extract_string(%s, %%s)" % lhs, (*params, json_path)


def _has_key(self, compiler, connection):
    return self.as_sql(compiler, connection, template="json_exists(%s, %s)")


def _key_transform_isnull(self, compiler, connection):
    # key__isnull=True: the key is absent (a JSON null value is present).
    template = "NOT json_exists(%s, %s)" if self.rhs else "json_exists(%s, %s)"
    return HasKeyOrArrayIndex(self.lhs.lhs, self.lhs.key_name).as_sql(
        compiler, connection, template=template
    )


def _key_transform_numeric(self, compiler, connection):
    # json_extract() yields JSON text; compare numbers as numbers and strings
    # as strings, like SQLite's json_extract() does.
    lhs_sql, lhs_params = self.process_lhs(compiler, connection)
    rhs_sql, rhs_params = self.process_rhs(compiler, connection)
    if len(rhs_params) == 1 and isinstance(rhs_params[0], (int, float)) and not (
        isinstance(rhs_params[0], bool)
    ):
        lhs_sql = "TRY_CAST(%s AS DOUBLE)" % lhs_sql.replace(
            "json_extract(", "json_extract_string(", 1
        )
    elif len(rhs_params) == 1 and isinstance(rhs_params[0], str):
        lhs_sql = lhs_sql.replace("json_extract(", "json_extract_string(", 1)
    params = (*lhs_params, *rhs_params)
    return "%s %s" % (lhs_sql, self.get_rhs_op(connection, rhs_sql)), params


def register():
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
