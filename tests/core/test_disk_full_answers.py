"""core/diskfull.py: a full disk is told apart from other failures wherever it shows (an
OSError, DuckDB's IO error, PostgreSQL's SQLSTATE class 53, a domain error raised from
one) and answered 503 saying storage is full, on the API and on pages."""

import errno

import pytest
from django.test import RequestFactory

from core import diskfull
from core.errors import InvalidInput, Unavailable
from core.http import error_answer


def raised_from(outer: BaseException, inner: BaseException) -> BaseException:
    try:
        try:
            raise inner
        except BaseException as exc:
            raise outer from exc
    except BaseException as exc:
        return exc


def pg_disk_full():
    import psycopg.errors

    return psycopg.errors.DiskFull("could not extend file: No space left on device")


@pytest.mark.parametrize(
    "exc",
    [
        OSError(errno.ENOSPC, "No space left on device"),
        OSError(errno.EDQUOT, "Disk quota exceeded"),
        Exception('IO Error: Could not write file "studio.duckdb.wal": No space left on device'),
        raised_from(Unavailable("The generation could not be recorded; try again."), OSError(errno.ENOSPC, "full")),
    ],
)
def test_full_disks_are_answered_503_saying_so(exc):
    answer = error_answer(exc)
    assert answer.status == 503 and "storage is full" in answer.message


def test_postgresqls_disk_full_is_a_full_disk():
    exc = pg_disk_full()
    assert exc.sqlstate == "53100" and diskfull.is_storage_full(exc)


def test_other_failures_are_not_a_full_disk():
    assert not diskfull.is_storage_full(OSError(errno.EACCES, "Permission denied"))
    assert error_answer(ValueError("x")) is None
    # A refusal raised while a disk error was being handled stays what it is.
    refusal = raised_from(InvalidInput("bad", field="prompt"), OSError(errno.ENOSPC, "full"))
    assert error_answer(refusal).status == 400


@pytest.mark.parametrize("path, json", [("/api/generate/image", True), ("/generate/image", False)])
def test_the_middleware_answers_what_nothing_else_did(path, json):
    middleware = diskfull.StorageFullMiddleware(lambda request: None)
    response = middleware.process_exception(RequestFactory().post(path), OSError(errno.ENOSPC, "full"))
    assert response.status_code == 503
    body = response.content.decode()
    assert "storage is full" in body
    assert response["Content-Type"].startswith("application/json" if json else "text/html")
    assert middleware.process_exception(RequestFactory().get(path), ValueError("x")) is None
