"""The backend through the ORM: types, lookups, transactions, sequences, errors."""

import datetime
import decimal
import uuid
import zoneinfo

import duckdb
import pytest
from django.db import (
    DataError,
    IntegrityError,
    ProgrammingError,
    connection,
    transaction,
)
from django.db.models import Avg, CharField, Count, F, Max, Q, Sum, Value, Window
from django.db.models.functions import (
    Cast,
    Coalesce,
    Concat,
    ExtractHour,
    Length,
    Lower,
    RowNumber,
    TruncDay,
    TruncMonth,
    Upper,
)
from django.test.utils import CaptureQueriesContext, register_lookup
from django.utils import timezone

from .conftest import duckdb_only

pytestmark = [duckdb_only]


@pytest.fixture
def models(duck_tables):
    from . import dynamic_models

    return dynamic_models


# Without savepoints an error inside the test's own transaction would doom
# it, so tests that provoke database errors run outside one.
@pytest.fixture
def tx_models(duck_tables_transactional):
    return duck_tables_transactional


def test_every_field_type_round_trips(models):
    moment = datetime.datetime(2024, 3, 1, 12, 30, 15, 123456, tzinfo=datetime.UTC)
    token = uuid.uuid4()
    owner = models.Owner.objects.create(name="ann")
    thing = models.Thing.objects.create(
        name="a",
        slug="s-1",
        text="t" * 5000,
        flag=True,
        small=-100,
        big=2**62,
        positive=2**31 - 1,
        positive_small=32767,
        positive_big=2**63 - 1,
        amount=decimal.Decimal("1234567890.12"),
        ratio=0.1,
        day=datetime.date(2024, 2, 29),
        moment=moment,
        clock=datetime.time(23, 59, 59, 999999),
        duration=datetime.timedelta(days=3, hours=4, microseconds=5),
        token=token,
        data={"a": {"b": [1, 2.5, "x", None, True]}, "é": "ü"},
        blob=b"\x00\xffbytes",
        ip="2001:db8::1",
        owner=owner,
    )
    got = models.Thing.objects.get(pk=thing.pk)
    assert got.text == "t" * 5000 and got.flag is True
    assert (got.small, got.big, got.positive, got.positive_small, got.positive_big) == (
        -100,
        2**62,
        2**31 - 1,
        32767,
        2**63 - 1,
    )
    assert got.amount == decimal.Decimal("1234567890.12")
    assert got.ratio == 0.1
    assert got.day == datetime.date(2024, 2, 29)
    assert got.moment == moment and got.moment.tzinfo == datetime.UTC
    assert got.clock == datetime.time(23, 59, 59, 999999)
    assert got.duration == datetime.timedelta(days=3, hours=4, microseconds=5)
    assert got.token == token
    assert got.data == {"a": {"b": [1, 2.5, "x", None, True]}, "é": "ü"}
    assert bytes(got.blob) == b"\x00\xffbytes"
    assert got.ip == "2001:db8::1"
    assert got.owner_id == owner.pk


def test_bulk_create_of_many_rows_keeps_every_value_and_id(models):
    """From UNNEST_ROWS_FROM rows a bulk INSERT sends one list per column: every type
    arrives as it was, NULLs too, and each object gets the id of its own row."""
    from django_duckdb.compiler import UNNEST_ROWS_FROM

    owner = models.Owner.objects.create(name="ann")
    moment = datetime.datetime(2024, 3, 1, 12, 30, 15, 123456, tzinfo=datetime.UTC)

    def thing(i):
        if i % 3 == 2:  # every nullable field empty
            return models.Thing(name=f"n{i}")
        return models.Thing(
            name=f"n{i}",
            slug=f"s-{i}",
            text="t" * i,
            flag=bool(i % 2),
            small=-i,
            big=2**62 + i,
            positive=i,
            positive_small=i,
            positive_big=2**63 - 1 - i,
            amount=decimal.Decimal(f"{i}.25"),
            ratio=i / 10,
            day=datetime.date(2024, 2, 1) + datetime.timedelta(days=i),
            moment=moment + datetime.timedelta(seconds=i),
            clock=datetime.time(23, 59, i % 60, 999999),
            duration=datetime.timedelta(days=i, microseconds=5),
            data={"i": i, "list": [1, None, "é"]},
            blob=bytes([i % 256, 0, 255]),
            ip=f"10.0.0.{i}",
            owner=owner,
        )

    fields = [f.attname for f in models.Thing._meta.concrete_fields if f.attname != "id"]
    for count in (UNNEST_ROWS_FROM - 1, UNNEST_ROWS_FROM, 40):
        models.Thing.objects.all().delete()
        objects = [thing(i) for i in range(count)]
        with CaptureQueriesContext(connection) as queries:
            made = models.Thing.objects.bulk_create(objects)
        [insert] = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("INSERT")]
        assert ("unnest(" in insert) is (count >= UNNEST_ROWS_FROM)
        assert len({obj.pk for obj in made}) == count
        for obj in made:
            got = models.Thing.objects.get(pk=obj.pk)
            for name in fields:
                value = getattr(got, name)
                assert (bytes(value) if isinstance(value, memoryview) else value) == getattr(obj, name), name


@pytest.mark.django_db(transaction=True)
def test_positive_fields_are_checked_in_the_database(tx_models):
    models = tx_models
    with pytest.raises(IntegrityError), transaction.atomic():
        models.Thing.objects.create(name="neg", positive=-1)


@pytest.mark.django_db(transaction=True)
def test_check_and_unique_constraints(tx_models):
    models = tx_models
    day = datetime.date(2024, 1, 1)
    models.Thing.objects.create(name="x", day=day)
    with pytest.raises(IntegrityError), transaction.atomic():
        models.Thing.objects.create(name="x", day=day)
    with pytest.raises(IntegrityError), transaction.atomic():
        models.Thing.objects.create(name="y", small=-101)


def test_lookups(models):
    M = models.Thing
    M.objects.create(name="100% sure", slug="under_score", text="Hello World")
    M.objects.create(name="100 percent", slug="underscore", text="hello there")
    assert M.objects.filter(name__contains="%").count() == 1
    assert M.objects.filter(slug__contains="_").count() == 1
    assert M.objects.filter(slug__startswith="under_").count() == 1
    assert M.objects.filter(name__endswith="% sure").count() == 1
    assert M.objects.filter(text__iexact="HELLO WORLD").count() == 1
    assert M.objects.filter(text__icontains="HELLO").count() == 2
    assert M.objects.filter(text__istartswith="hello w").count() == 1
    assert M.objects.filter(text__regex=r"^[Hh]ello\s").count() == 2
    assert M.objects.filter(text__iregex=r"^HELLO T").count() == 1
    # Backreferences and lookaround: beyond RE2, handled by Python's re.
    assert M.objects.filter(text__regex=r"(l)\1o W").count() == 1
    assert M.objects.filter(text__iregex=r"^HELLO (?!there)").count() == 1
    assert M.objects.filter(name__regex=r"(?<=100)%").count() == 1
    assert M.objects.filter(pk__in=list(range(5000))).count() == 2
    assert M.objects.filter(name__in=[]).count() == 0
    assert M.objects.filter(Q(name__startswith="100") & ~Q(slug="underscore")).count() == 1


def test_json_key_lookups(models):
    M = models.Thing
    M.objects.create(name="a", data={"k": "v", "n": 3, "nested": {"x": [1, 2]}, "nul": None})
    M.objects.create(name="b", data={"k": "w", "n": 10})
    M.objects.create(name="c", data=None)
    assert M.objects.filter(data__k="v").count() == 1
    assert M.objects.filter(data__nested__x__1=2).count() == 1
    assert M.objects.filter(data__nested={"x": [1, 2]}).count() == 1
    assert M.objects.filter(data__has_key="nul").count() == 1
    assert M.objects.filter(data__nul=None).count() == 1
    # b has no such key, c has no JSON at all (as on SQLite and PostgreSQL)
    assert M.objects.filter(data__nul__isnull=True).count() == 2
    assert M.objects.filter(data__n__gt=5).count() == 1
    assert M.objects.filter(data__n__lte=5).count() == 1
    assert M.objects.filter(data__k__in=["v", "w"]).count() == 2
    assert M.objects.filter(data__k__icontains="V").count() == 1
    assert M.objects.filter(data__has_keys=["k", "n"]).count() == 2
    assert M.objects.filter(data__has_any_keys=["nested", "zzz"]).count() == 1
    assert M.objects.filter(data__isnull=True).count() == 1
    assert list(M.objects.order_by("name").values_list("data__n", flat=True)) == [3, 10, None]


def test_dates_follow_the_current_time_zone(models):
    M = models.Thing
    moment = datetime.datetime(2024, 1, 31, 23, 30, tzinfo=datetime.UTC)
    M.objects.create(name="a", moment=moment)
    with timezone.override(zoneinfo.ZoneInfo("Asia/Tokyo")):  # UTC+9: Feb 1, 08:30
        row = M.objects.annotate(h=ExtractHour("moment"), d=TruncDay("moment"), m=TruncMonth("moment")).get()
        assert row.h == 8
        assert row.d == datetime.datetime(2024, 2, 1, tzinfo=zoneinfo.ZoneInfo("Asia/Tokyo"))
        assert row.m.month == 2
        assert M.objects.filter(moment__date=datetime.date(2024, 2, 1)).count() == 1
        assert M.objects.filter(moment__month=2).count() == 1
    assert M.objects.filter(moment__date=datetime.date(2024, 1, 31)).count() == 1
    assert M.objects.filter(moment__hour=23).count() == 1


def test_expressions_aggregates_windows(models):
    owner = models.Owner.objects.create(name="o")
    for i in range(1, 6):
        models.Thing.objects.create(name=f"n{i}", small=i, amount=decimal.Decimal(i), owner=owner)
    agg = models.Thing.objects.aggregate(s=Sum("small"), a=Avg("amount"), m=Max("name"))
    assert agg == {"s": 15, "a": decimal.Decimal(3), "m": "n5"}
    rows = models.Thing.objects.annotate(
        rn=Window(RowNumber(), order_by=F("small").desc()),
        up=Upper("name"),
        ln=Length("name"),
        c=Concat("name", Value("-"), Cast("small", output_field=CharField()), output_field=CharField()),
        co=Coalesce("big", Value(0)),
    ).order_by("small")
    assert [(r.rn, r.up, r.ln, r.c, r.co) for r in rows][:2] == [
        (5, "N1", 2, "n1-1", 0),
        (4, "N2", 2, "n2-2", 0),
    ]
    assert models.Thing.objects.filter(small__gt=F("amount")).count() == 0
    assert models.Thing.objects.update(small=F("small") * 2) == 5
    assert models.Owner.objects.annotate(n=Count("thing")).get().n == 5
    assert models.Thing.objects.annotate(low=Lower("name")).filter(low="n3").exists()
    assert models.Thing.objects.filter(small=7 // 2 * 2).count() == 1  # integer division


def test_bulk_create_returns_ids_and_update_or_create(models):
    tags = models.Tag.objects.bulk_create([models.Tag(name=f"t{i}") for i in range(50)])
    assert all(t.pk for t in tags)
    assert len({t.pk for t in tags}) == 50
    tag, created = models.Tag.objects.update_or_create(name="t1", defaults={"name": "t1b"})
    assert not created and tag.name == "t1b"
    tag, created = models.Tag.objects.update_or_create(name="new")
    assert created
    obj, created = models.Tag.objects.get_or_create(name="new")
    assert not created and obj.pk == tag.pk
    models.Tag.objects.bulk_create([models.Tag(name="t2")], ignore_conflicts=True)
    assert models.Tag.objects.count() == 51


def test_m2m_and_python_side_cascade(models):
    owner = models.Owner.objects.create(name="o")
    job = models.Job.objects.create(owner=owner)
    job.tags.add(models.Tag.objects.create(name="x"), models.Tag.objects.create(name="y"))
    assert job.tags.count() == 2
    owner.delete()
    assert models.Job.objects.count() == 0
    assert models.Job.tags.through.objects.count() == 0


def test_nested_atomic_error_marks_outer_for_rollback(models):
    """No savepoints: an error inside a nested atomic() dooms the whole block."""
    assert not connection.features.uses_savepoints
    with pytest.raises(transaction.TransactionManagementError):
        with transaction.atomic():
            models.Tag.objects.create(name="kept?")
            with pytest.raises(IntegrityError):
                with transaction.atomic():
                    models.Tag.objects.create(name="dup")
                    models.Tag.objects.create(name="dup")
            assert connection.needs_rollback
            models.Tag.objects.count()  # Django refuses queries until rollback


@pytest.mark.django_db(transaction=True)
def test_transactions_commit_rollback_and_on_commit(duck_tables_transactional):
    models = duck_tables_transactional
    done = []
    with transaction.atomic():
        models.Tag.objects.create(name="a")
        transaction.on_commit(lambda: done.append("a"))
    assert done == ["a"]
    with pytest.raises(RuntimeError):
        with transaction.atomic():
            models.Tag.objects.create(name="b")
            transaction.on_commit(lambda: done.append("b"))
            raise RuntimeError
    assert done == ["a"]
    assert list(models.Tag.objects.values_list("name", flat=True)) == ["a"]
    transaction.set_autocommit(False)
    try:
        models.Tag.objects.create(name="c")
        transaction.rollback()
        models.Tag.objects.create(name="d")
        transaction.commit()
    finally:
        transaction.set_autocommit(True)
    assert sorted(models.Tag.objects.values_list("name", flat=True)) == ["a", "d"]


@pytest.mark.django_db(transaction=True)
def test_sequences_reset_by_flush(duck_tables_transactional):
    from django.core.management.color import no_style

    models = duck_tables_transactional
    models.Tag.objects.bulk_create([models.Tag(name=f"t{i}") for i in range(3)])
    models.Tag.objects.all().delete()
    sql = connection.ops.sql_flush(no_style(), ["duck_tag"], reset_sequences=True)
    connection.ops.execute_sql_flush(sql)
    assert models.Tag.objects.create(name="first").pk == 1
    # loaddata's reset moves the sequence past explicit keys.
    models.Tag.objects.create(pk=40, name="explicit")
    with connection.cursor() as cursor:
        for statement in connection.ops.sequence_reset_sql(no_style(), [models.Tag]):
            cursor.execute(statement)
    assert models.Tag.objects.create(name="after").pk == 41


@pytest.mark.django_db(transaction=True)
def test_errors_map_to_django_exceptions(tx_models):
    models = tx_models
    with pytest.raises(IntegrityError), transaction.atomic():
        models.Tag.objects.create(name=None)
    with pytest.raises(ProgrammingError), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT no_such_column FROM duck_tag")
    with pytest.raises(DataError), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT CAST(%s AS INTEGER)", ["not a number"])
    with pytest.raises(ProgrammingError), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SAVEPOINT x")
    assert issubclass(connection.Database.OperationalError, Exception)


def test_raw_cursor_placeholders(models):
    with connection.cursor() as cursor:
        cursor.execute("SELECT %s, '%%', %s", [1, "a"])
        assert cursor.fetchone() == (1, "%", "a")
        cursor.execute("SELECT %(x)s + %(y)s", {"x": 2, "y": 3})
        assert cursor.fetchone() == (5,)
        cursor.execute("SELECT '%s'")  # no params: no placeholder conversion
        assert cursor.fetchone() == ("%s",)
        cursor.executemany("INSERT INTO duck_tag (name) VALUES (%s)", [("p",), ("q",)])
        cursor.execute("UPDATE duck_tag SET name = name || '!' WHERE name IN ('p', 'q')")
        assert cursor.rowcount == 2


def test_statements_are_parsed_once_and_bound_on_every_run(models):
    from django_duckdb.dbapi import ParsedStatements, parsed_statements

    count = "SELECT count(*) FROM duck_tag WHERE name = %s AND '%%' = '%%'"
    every_column = "SELECT * FROM duck_tag WHERE name = %s"
    models.Tag.objects.create(name="a")
    with connection.cursor() as cursor:
        cursor.execute(count, ["a"])
        assert cursor.fetchone() == (1,)
        assert "SELECT count(*) FROM duck_tag WHERE name = ? AND '%' = '%'" in parsed_statements
        cursor.execute(every_column, ["a"])
        columns = len(cursor.description)
        # Names are bound when a parsed statement runs, not when it was parsed.
        cursor.execute("ALTER TABLE duck_tag ADD COLUMN extra INTEGER DEFAULT 7")
        cursor.execute(every_column, ["a"])
        assert len(cursor.description) == columns + 1
        assert cursor.fetchone()[-1] == 7
        # Several statements in one string run as DuckDB runs them: the last one's result.
        cursor.execute("SELECT 1; SELECT name FROM duck_tag")
        assert cursor.fetchall() == [("a",)]

    cache = ParsedStatements(size=2)
    raw = duckdb.connect(":memory:")
    try:
        for text in ("SELECT 1", "SELECT 2", "SELECT 3"):
            assert raw.execute(cache.get(raw, text)).fetchone() == (int(text[-1]),)
        assert len(cache) == 2 and "SELECT 1" not in cache and "SELECT 3" in cache
    finally:
        raw.close()


def test_select_for_update_takes_no_lock(models):
    """Like SQLite: no row locks; select_for_update() is accepted and ignored."""
    qs = models.Tag.objects.select_for_update()
    with transaction.atomic():
        list(qs)
    assert "FOR UPDATE" not in str(qs.query)


def test_sha_functions_duckdb_lacks_come_from_python(models):
    import hashlib

    from django.db.models.functions import SHA224, SHA256, SHA384, SHA512

    models.Tag.objects.create(name="héllo")
    row = models.Tag.objects.annotate(**{f.__name__.lower(): f("name") for f in (SHA224, SHA256, SHA384, SHA512)}).get()
    for algorithm in ("sha224", "sha256", "sha384", "sha512"):
        assert getattr(row, algorithm) == hashlib.new(algorithm, b"h\xc3\xa9llo").hexdigest()
    digest = hashlib.sha512("héllo".encode()).hexdigest()
    with register_lookup(CharField, SHA512):
        assert models.Tag.objects.filter(name__sha512=digest).count() == 1
    assert models.Tag.objects.annotate(h=SHA384(Value(None, CharField()))).get().h is None


def test_json_values_sort_by_type_then_value(models):
    M = models.Thing
    for name, n in [("a", 9), ("b", -100), ("c", "x"), ("d", 10), ("e", -1), ("f", None)]:
        M.objects.create(name=name, data={"n": n})
    M.objects.create(name="g", data={})
    # JSON null < strings < numbers by value; a missing key is SQL NULL (last).
    ordered = M.objects.order_by(F("data__n").asc(nulls_last=True)).values_list("name", flat=True)
    assert list(ordered) == ["f", "c", "b", "e", "a", "d", "g"]


def test_group_by_an_expression_with_parameters(models):
    from django.db.models.functions import Greatest

    for small in (1, 2, 5, 7):
        models.Thing.objects.create(name=f"n{small}", small=small)
    rows = models.Thing.objects.values(floor=Greatest("small", Value(4))).annotate(n=Count("pk")).order_by("floor")
    assert list(rows) == [{"floor": 4, "n": 2}, {"floor": 5, "n": 1}, {"floor": 7, "n": 1}]


def test_distinct_on_without_ordering_keeps_the_first_row_by_key(models):
    for name, owner_name in [("b1", "b"), ("a1", "a"), ("b2", "b"), ("a2", "a")]:
        owner, _ = models.Owner.objects.get_or_create(name=owner_name)
        models.Thing.objects.create(name=name, owner=owner)
    kept = models.Thing.objects.distinct("owner__name").values_list("name", flat=True)
    assert list(kept) == ["a1", "b1"]


def test_computed_decimals_keep_their_precision(models):
    import math

    from django.db.models.functions import Pi

    for amount in ("1.00", "2.00", "2.00"):
        models.Thing.objects.create(name=amount, amount=decimal.Decimal(amount))
    agg = models.Thing.objects.aggregate(
        avg=Avg("amount"),
        # An empty sum's default computed by the database, not rounded to the
        # column's two places.
        pi=Sum("amount", filter=Q(name="none"), default=Pi()),
    )
    assert agg["avg"].quantize(decimal.Decimal("0.0001")) == decimal.Decimal("1.6667")
    assert abs(agg["pi"] - decimal.Decimal(math.pi)) < decimal.Decimal("1e-9")
