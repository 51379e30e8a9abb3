"""core.db.update_rows: each row's own values in one UPDATE, on both stores."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.db import update_rows
from generation.models import Generation
from tests.factories import GenerationFactory

pytestmark = pytest.mark.django_db


def _values(index: int) -> dict:
    return {
        "status": "completed",
        "text": f"answer {index} — ünïcode",
        "cost": Decimal(f"0.0000{index}123"),
        "total_tokens": 10 + index,
        "finished_at": datetime(2026, 1, 2, 3, 4, index, tzinfo=UTC),
    }


def test_each_row_gets_its_own_values_in_one_statement():
    rows = [GenerationFactory(status="pending") for _ in range(5)]
    untouched = GenerationFactory(status="pending", text="as it was")

    with CaptureQueriesContext(connection) as queries:
        written = update_rows(
            Generation, {row.pk: _values(i) for i, row in enumerate(rows)}, where={"status": "pending"}
        )

    assert written == {row.pk for row in rows}
    [statement] = [query["sql"] for query in queries.captured_queries]
    # DuckDB gets one list per column (a VALUES list costs it an expression per value).
    assert ("unnest(" in statement) is (connection.vendor == "duckdb")
    for index, row in enumerate(rows):
        row.refresh_from_db()
        expected = _values(index)
        assert (row.status, row.text, row.cost, row.total_tokens, row.finished_at) == (
            expected["status"],
            expected["text"],
            expected["cost"],
            expected["total_tokens"],
            expected["finished_at"],
        )
    untouched.refresh_from_db()
    assert untouched.status == "pending" and untouched.text == "as it was"


@pytest.mark.parametrize("count", [2, 4])  # on DuckDB, an UPDATE per row and the joined lists
def test_json_and_null_values_arrive_as_they_were(count):
    rows = [GenerationFactory(status="pending") for _ in range(count)]
    changes = {
        row.pk: {"params": {"i": i, "list": [1, None, "é"]} if i % 2 else [], "finished_at": None}
        for i, row in enumerate(rows)
    }

    assert update_rows(Generation, changes, where={"status": "pending"}) == {row.pk for row in rows}
    for row in rows:
        row.refresh_from_db()
        assert (row.params, row.finished_at) == (changes[row.pk]["params"], None)


def test_a_small_batch_on_duckdb_is_one_update_per_row_with_the_same_result():
    rows = [GenerationFactory(status="pending") for _ in range(3)]
    done = GenerationFactory(status="failed", text="kept")
    changes = {row.pk: _values(i) for i, row in enumerate(rows)}
    changes[done.pk] = _values(9)
    del changes[rows[2].pk]

    with CaptureQueriesContext(connection) as queries:
        written = update_rows(Generation, changes, where={"status": "pending"})

    assert written == {rows[0].pk, rows[1].pk}
    # A join costs DuckDB about four single-row UPDATEs; PostgreSQL takes the join.
    assert len(queries.captured_queries) == (3 if connection.vendor == "duckdb" else 1)
    for index, row in enumerate(rows[:2]):
        row.refresh_from_db()
        assert (row.status, row.text, row.cost) == ("completed", _values(index)["text"], _values(index)["cost"])
    done.refresh_from_db()
    rows[2].refresh_from_db()
    assert (done.status, done.text, rows[2].status) == ("failed", "kept", "pending")


def test_rows_that_do_not_match_the_condition_are_left_as_they_are():
    pending = GenerationFactory(status="pending")
    finished = GenerationFactory(status="failed", text="kept")

    written = update_rows(Generation, {pending.pk: _values(1), finished.pk: _values(2)}, where={"status": "pending"})

    assert written == {pending.pk}
    finished.refresh_from_db()
    assert finished.status == "failed" and finished.text == "kept"


def test_a_missing_row_is_not_reported_written():
    row = GenerationFactory(status="pending")
    assert update_rows(Generation, {row.pk: _values(1), row.pk + 1000: _values(2)}, where={}) == {row.pk}


def test_nothing_to_write_runs_no_statement():
    with CaptureQueriesContext(connection) as queries:
        assert update_rows(Generation, {}, where={}) == set()
    assert queries.captured_queries == []


def test_rows_changing_different_fields_are_refused():
    one, two = GenerationFactory(), GenerationFactory()
    with pytest.raises(ValueError):
        update_rows(Generation, {one.pk: {"text": "a"}, two.pk: {"status": "failed"}}, where={})
