#!/usr/bin/env bash
# Django's own test suite on django_duckdb and on Django's sqlite3, same run.
#
#   django_duckdb/suite/django_suite.sh                 # the default modules below
#   django_duckdb/suite/django_suite.sh basic queries   # chosen modules
#
# Fetches the Django sdist matching the installed version from PyPI (once,
# cached under .bench/), runs tests/runtests.py for both backends, and prints
# per module: tests passing on SQLite, on DuckDB, and the share of the
# SQLite-passing tests that also pass on DuckDB. Skips on DuckDB are declared
# in django_duckdb/features.py (django_test_skips / expected failures).
# Slow (minutes); not part of the normal test suite.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
PY=${PYTHON:-$ROOT/.venv/bin/python}
VERSION=$("$PY" -c 'import django; print(django.__version__)')
CACHE=$ROOT/.bench/django-suite
mkdir -p "$CACHE"

SRC=$(find "$CACHE" -maxdepth 1 -type d -iname "django-$VERSION" | head -1)
if [ -z "$SRC" ] || [ ! -f "$SRC/tests/runtests.py" ]; then
  echo "Fetching the Django $VERSION sdist from PyPI..."
  "$PY" -m pip download --quiet --no-deps --no-binary :all: "django==$VERSION" -d "$CACHE"
  tar -xzf "$(find "$CACHE" -maxdepth 1 -iname "django-$VERSION.tar.gz" | head -1)" -C "$CACHE"
  SRC=$(find "$CACHE" -maxdepth 1 -type d -iname "django-$VERSION" | head -1)
fi

DEFAULT_MODULES="basic queries lookup expressions aggregation model_fields transactions
  migrations schema backends introspection update delete get_or_create bulk_create
  ordering timezones db_functions"
MODULES=${*:-$DEFAULT_MODULES}
PARALLEL=${DJANGO_SUITE_PARALLEL:-1}

for backend in sqlite duckdb; do
  echo "== $backend: runtests.py $(echo $MODULES | wc -w) modules"
  started=$(date +%s)
  (
    cd "$SRC/tests"
    DJANGO_SUITE_BACKEND=$backend \
    DJANGO_SUITE_RESULTS="$CACHE/results-$backend.json" \
    PYTHONPATH="$ROOT:$ROOT/django_duckdb/suite" \
      "$PY" -W ignore runtests.py --settings=duckdb_suite_settings --noinput \
        --parallel="$PARALLEL" -v 0 $MODULES \
      >"$CACHE/log-$backend.txt" 2>&1
  ) || true
  echo "   $(( $(date +%s) - started ))s, log: $CACHE/log-$backend.txt"
done

"$PY" "$ROOT/django_duckdb/suite/duckdb_suite_compare.py" \
  "$CACHE/results-sqlite.json" "$CACHE/results-duckdb.json" $MODULES
