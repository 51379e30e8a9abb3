"""
SQL functions Django's expressions use that DuckDB lacks, supplied as Python
functions on every opened instance (the way Django's sqlite3 backend fills
SQLite's gaps). DuckDB's Python functions need numpy; without it these
functions are missing and queries using them fail with a CatalogException.
"""

import functools
import hashlib
import re

import duckdb

# SHA224(), SHA384(), SHA512(): DuckDB has md5(), sha1() and sha256() only.
HASH_FUNCTIONS = ("sha224", "sha384", "sha512")

_missing = None  # which of them this DuckDB lacks, found on the first open


def _hexdigest(algorithm):
    def digest(value):
        return hashlib.new(algorithm, value.encode()).hexdigest()

    return digest


@functools.lru_cache(maxsize=256)
def _compiled(pattern, ignore_case):
    return re.compile(pattern, re.IGNORECASE if ignore_case else 0)


def regexp(string, pattern, ignore_case):
    """
    django_regexp(): a regex lookup with Python's syntax, for the patterns
    DuckDB's RE2 engine refuses (see functions._regex).
    """
    return _compiled(pattern, ignore_case).search(string) is not None


def _missing_hash_functions(root):
    global _missing
    if _missing is None:
        present = {
            name
            for (name,) in root.execute(
                "SELECT DISTINCT function_name FROM duckdb_functions() "
                "WHERE function_name IN (%s)" % ", ".join("?" * len(HASH_FUNCTIONS)),
                list(HASH_FUNCTIONS),
            ).fetchall()
        }
        _missing = [name for name in HASH_FUNCTIONS if name not in present]
    return _missing


def register(root):
    """Register the functions on a newly opened instance's root connection."""
    try:
        import numpy  # noqa: F401
    except ImportError:
        return
    varchar = duckdb.sqltype("VARCHAR")
    boolean = duckdb.sqltype("BOOLEAN")
    for name in _missing_hash_functions(root):
        root.create_function(name, _hexdigest(name), [varchar], varchar, side_effects=False)
    root.create_function("django_regexp", regexp, [varchar, varchar, boolean], boolean, side_effects=False)
