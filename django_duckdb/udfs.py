"""
SQL functions Django's expressions use that DuckDB lacks, supplied as Python
functions on every opened instance (the way Django's sqlite3 backend fills
SQLite's gaps). DuckDB's Python functions need numpy; without it these
functions are missing and queries using them fail with a CatalogException.
"""

import hashlib

import duckdb

# SHA224(), SHA384(), SHA512(): DuckDB has md5(), sha1() and sha256() only.
HASH_FUNCTIONS = ("sha224", "sha384", "sha512")

_missing = None  # which of them this DuckDB lacks, found on the first open


def _hexdigest(algorithm):
    def digest(value):
        return hashlib.new(algorithm, value.encode()).hexdigest()

    return digest


def _missing_functions(root):
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
    """Register the missing functions on a newly opened instance's root."""
    missing = _missing_functions(root)
    if not missing:
        return
    try:
        import numpy  # noqa: F401
    except ImportError:
        return
    varchar = duckdb.sqltype("VARCHAR")
    for name in missing:
        root.create_function(
            name, _hexdigest(name), [varchar], varchar, side_effects=False
        )
