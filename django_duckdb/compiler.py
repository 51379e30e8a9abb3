"""
SQL compilers: Django's, with two DuckDB adjustments.

* DuckDB binds every ``?`` as a distinct expression, so a grouped expression
  that carries a parameter - GROUP BY GREATEST(x, ?), or GROUP BY 1 for such
  a selected expression - doesn't match the same expression elsewhere in
  SELECT, HAVING or ORDER BY ("must appear in the GROUP BY clause"). A
  statement whose GROUP BY has parameters is sent with named parameters
  instead, equal values sharing one name, so the expressions are the same to
  DuckDB.
* DISTINCT ON without an ORDER BY is ordered by the DISTINCT ON expressions,
  as PostgreSQL does (it requires the ORDER BY to start with them), instead
  of the arbitrary order DuckDB would return; and the row DISTINCT ON keeps
  among equals is the one with the lowest primary key, not any of them.
* A bulk INSERT of many rows sends one list per column and unnests them
  (``INSERT ... SELECT unnest(?::T[]), ...``) instead of a VALUES row per
  object: see SQLInsertCompiler.
"""

import re
from contextvars import ContextVar

from django.db.models.constants import LOOKUP_SEP
from django.db.models.expressions import OrderBy, Ref
from django.db.models.sql import compiler

# Parameters of the GROUP BY clauses compiled for the statement being
# executed (its subqueries included); None outside execute_sql().
_grouped_params = ContextVar("django_duckdb_grouped_params", default=None)

_PLACEHOLDER_RE = re.compile(r"%%|%s")


def _param_key(value):
    # Same type and same representation: interchangeable when bound.
    return type(value), repr(value)


def share_params(sql, params, shared_values):
    """
    Rewrite ``%s`` placeholders as ``%(pN)s``. Parameters equal to one of
    `shared_values` get one name per value; the others keep their own.
    """
    params = tuple(params)
    shared = {_param_key(value) for value in shared_values}
    names, values = {}, {}
    position = iter(range(len(params)))

    def replace(match):
        if match.group() == "%%":
            return "%%"
        index = next(position)
        value = params[index]
        key = _param_key(value)
        if key in shared:
            name = names.setdefault(key, "p%d" % index)
        else:
            name = "p%d" % index
        values[name] = value
        return "%%(%s)s" % name

    try:
        new_sql = _PLACEHOLDER_RE.sub(replace, sql)
    except StopIteration:  # more placeholders than parameters
        return sql, params
    if next(position, None) is not None:  # fewer placeholders than parameters
        return sql, params
    return new_sql, values


class DuckDBCompilerMixin:
    _is_statement = False

    def execute_sql(self, *args, **kwargs):
        token = _grouped_params.set([])
        self._is_statement = True
        try:
            return super().execute_sql(*args, **kwargs)
        finally:
            self._is_statement = False
            _grouped_params.reset(token)

    def as_sql(self, *args, **kwargs):
        sql, params = super().as_sql(*args, **kwargs)
        if self._is_statement and params:
            grouped = _grouped_params.get()
            if grouped:
                sql, params = share_params(sql, params, grouped)
        return sql, params

    def get_group_by(self, select, order_by):
        result = super().get_group_by(select, order_by)
        grouped = _grouped_params.get()
        if grouped is not None:
            for sql, params in result:
                if not params and sql.isdigit() and 0 < int(sql) <= len(select):
                    # Grouped by its position: the selected expression's.
                    params = select[int(sql) - 1][1][1]
                grouped.extend(params)
        return result

    def _order_by_pairs(self):
        pairs = list(super()._order_by_pairs())
        if not self.query.distinct_fields or self.query.combinator:
            return pairs
        opts = self.query.get_meta()
        if not pairs:
            pairs = self._distinct_on_pairs(opts)
        if self.query.group_by is None:
            # Ties keep the row with the lowest primary key, not any row.
            pairs.extend(self.find_ordering_name("pk", opts))
        return pairs

    def _distinct_on_pairs(self, opts):
        # The same expressions get_distinct() puts in DISTINCT ON (...).
        pairs = []
        for name in self.query.distinct_fields:
            if name in self.query.annotation_select:
                annotation = self.query.annotation_select[name]
                pairs.append((OrderBy(Ref(name, annotation)), True))
                continue
            _, targets, alias, joins, path, _, transform_function = self._setup_joins(
                name.split(LOOKUP_SEP), opts, None
            )
            targets, alias, _ = self.query.trim_joins(targets, joins, path)
            for target in targets:
                pairs.append((OrderBy(transform_function(target, alias)), False))
        return pairs


class SQLCompiler(DuckDBCompilerMixin, compiler.SQLCompiler):
    pass


# DuckDB binds every value of a VALUES list as an expression of its own: 64 rows of
# 24 columns cost 27 ms, and parsing the statement 11 ms more for each new row
# count, against 9 ms for the same rows as one list per column, unnested, whose
# text does not depend on the row count. At a few rows the two cost the same.
UNNEST_ROWS_FROM = 4


class SQLInsertCompiler(compiler.SQLInsertCompiler):
    def as_sql(self):
        if len(self.query.objs) < UNNEST_ROWS_FROM or not self.query.fields or self.query.on_conflict:
            return super().as_sql()
        fields = self.query.fields
        types = [field.cast_db_type(self.connection) for field in fields]
        value_rows = [
            [self.prepare_value(field, self.pre_save_val(field, obj)) for field in fields] for obj in self.query.objs
        ]
        placeholder_rows, param_rows = self.assemble_as_sql(fields, value_rows)
        if None in types or any(placeholder != "%s" for row in placeholder_rows for placeholder in row):
            # An expression among the values, or a column with no type to cast a list
            # to: Django's VALUES rows (pre_save runs again; it only fills in values).
            return super().as_sql()
        qn = self.connection.ops.quote_name
        sql = "%s %s (%s) SELECT %s" % (
            self.connection.ops.insert_statement(),
            qn(self.query.get_meta().db_table),
            ", ".join(qn(field.column) for field in fields),
            ", ".join("unnest(%%s::%s[])" % type_ for type_ in types),
        )
        params = [list(column) for column in zip(*param_rows)]
        if self.returning_fields:  # DuckDB returns the rows of a bulk INSERT
            returning_sql, self.returning_params = self.connection.ops.return_insert_columns(self.returning_fields)
            sql = f"{sql} {returning_sql}"
            params.extend(self.returning_params)
        return [(sql, tuple(params))]


class SQLDeleteCompiler(DuckDBCompilerMixin, compiler.SQLDeleteCompiler):
    pass


class SQLUpdateCompiler(DuckDBCompilerMixin, compiler.SQLUpdateCompiler):
    pass


class SQLAggregateCompiler(DuckDBCompilerMixin, compiler.SQLAggregateCompiler):
    pass
