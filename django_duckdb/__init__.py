"""Django database backend for DuckDB: ENGINE = "django_duckdb"."""
