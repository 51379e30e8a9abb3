"""Reachability checks for /healthz: the database and the Celery broker.

Each answers only whether its part is reachable. Why not (driver errors name hosts, ports,
users and database names) goes to the log for the operator, never into the HTTP answer,
which anyone may read.
"""

import logging

from django.db import connection

from config.celery import app as celery_app

logger = logging.getLogger(__name__)


def database_reachable() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any driver error means "not reachable"
        logger.warning("Health check: database unreachable: %s: %s", type(exc).__name__, exc)
        return False
    return True


def broker_reachable(timeout: float = 2.0) -> bool:
    try:
        with celery_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=timeout)
    except Exception as exc:
        logger.warning("Health check: broker unreachable: %s: %s", type(exc).__name__, exc)
        return False
    return True
