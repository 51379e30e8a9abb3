"""Spend figures: which rows count, UTC days and months, grouping, and the queries."""

from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from generation.models import Generation
from tests.factories import GenerationFactory, VideoJobFactory
from usage import selectors
from usage.selectors import Scope
from videos.models import VideoJob

from .conftest import at

pytestmark = pytest.mark.django_db

D = Decimal


def test_a_row_counts_on_its_utc_day_either_side_of_midnight(user, spend):
    spend(user, "text", "1.00", at("2026-03-13", "23:59:59.999999"))
    spend(user, "text", "2.00", at("2026-03-14", "00:00:00"))
    spend(user, "video", "4.00", at("2026-03-14", "23:59:59"))
    spend(user, "image", "8.00", at("2026-03-15", "00:00:00.000001"))

    days = {row["day"]: row for row in selectors.by_day(Scope(date(2026, 3, 13), date(2026, 3, 15), user))}

    assert {d: (r["cost"], r["count"]) for d, r in days.items()} == {
        date(2026, 3, 13): (D("1"), 1),
        date(2026, 3, 14): (D("6"), 2),
        date(2026, 3, 15): (D("8"), 1),
    }


def test_days_are_utc_whatever_the_site_time_zone(settings, user, spend):
    settings.TIME_ZONE = "America/New_York"  # 2026-03-14 23:30 UTC is 19:30 there, the same day
    spend(user, "text", "1.00", at("2026-03-14", "23:30:00"))
    spend(user, "text", "2.00", at("2026-03-15", "02:00:00"))  # 22:00 on the 14th in New York

    rows = selectors.grouped(Scope(date(2026, 3, 14), date(2026, 3, 15), user), "day")

    assert [(row["day"], row["cost"]) for row in rows] == [(date(2026, 3, 14), D("1")), (date(2026, 3, 15), D("2"))]


def test_the_range_includes_both_ends_and_nothing_beyond(user, spend):
    for day in ("2026-03-09", "2026-03-10", "2026-03-12", "2026-03-13"):
        spend(user, "text", "1", at(day, "00:00:00"))

    assert selectors.totals(Scope(date(2026, 3, 10), date(2026, 3, 12), user)) == {"cost": D("2"), "count": 2}


def test_which_rows_are_spend(user):
    when = at("2026-03-15", "09:00:00")
    GenerationFactory(owner=user, created_at=when, status=Generation.Status.COMPLETED, cost=D("0.1"))
    GenerationFactory(owner=user, created_at=when, status=Generation.Status.PARTIAL, cost=D("0.2"))
    GenerationFactory(owner=user, created_at=when, status=Generation.Status.FAILED, cost=D("0.4"))
    GenerationFactory(owner=user, created_at=when, status=Generation.Status.FAILED, cost=D("0"))  # nothing charged
    GenerationFactory(owner=user, created_at=when, status=Generation.Status.PENDING, cost=D("0"))
    VideoJobFactory(owner=user, now=when, status=VideoJob.Status.COMPLETED, cost=D("1"))
    VideoJobFactory(owner=user, now=when, status=VideoJob.Status.COMPLETED, cost=None)  # cost not reported: 0
    VideoJobFactory(owner=user, now=when, status=VideoJob.Status.FAILED, cost=D("2"))
    VideoJobFactory(owner=user, now=when, status=VideoJob.Status.FAILED, cost=None)
    VideoJobFactory(owner=user, now=when, status=VideoJob.Status.PROCESSING, cost=None)

    kinds = selectors.by_kind(Scope(date(2026, 3, 15), date(2026, 3, 15), user))

    assert kinds == {
        "text": {"cost": D("0.7"), "count": 3},
        "image": {"cost": D("0"), "count": 0},
        "video": {"cost": D("3"), "count": 3},
        "embedding": {"cost": D("0"), "count": 0},
    }


def test_user_usage_today_month_recent_days_model_and_kind(frozen, user, other_user, spend):
    spend(user, "text", "0.5", at("2026-03-15", "00:00:00"), model="openai/gpt-4o-mini")
    spend(user, "image", "0.25", at("2026-03-15", "10:00:00"))
    spend(user, "video", "2", at("2026-03-14", "23:59:59"))
    spend(user, "text", "1", at("2026-03-01", "00:00:00"), model="anthropic/claude-sonnet-4")
    spend(user, "text", "4", at("2026-02-28", "23:59:59"), model="anthropic/claude-sonnet-4")  # last month
    spend(user, "text", "8", at("2026-02-13", "23:59:59"))  # 31 days ago: outside the 30
    spend(other_user, "text", "100", at("2026-03-15", "01:00:00"))

    usage = selectors.user_usage(user=user)

    assert usage["today"] == {"date": date(2026, 3, 15), "cost": D("0.75"), "count": 2}
    assert usage["month"] == {"start": date(2026, 3, 1), "cost": D("3.75"), "count": 4}
    assert usage["budget"] == {"daily": {"limit": None, "left": None}, "monthly": {"limit": None, "left": None}}
    assert (usage["from"], usage["to"]) == (date(2026, 2, 14), date(2026, 3, 15))
    assert len(usage["by_day"]) == 30 and usage["by_day"][-1]["day"] == date(2026, 3, 15)
    assert {r["day"]: r["cost"] for r in usage["by_day"] if r["cost"]} == {
        date(2026, 2, 28): D("4"),
        date(2026, 3, 1): D("1"),
        date(2026, 3, 14): D("2"),
        date(2026, 3, 15): D("0.75"),
    }
    assert [(r["model"], r["kind"], r["cost"], r["count"]) for r in usage["by_model"]] == [
        ("anthropic/claude-sonnet-4", "text", D("5"), 2),
        ("google/veo-3.1", "video", D("2"), 1),
        ("openai/gpt-4o-mini", "text", D("0.5"), 1),
        ("google/gemini-2.5-flash-image", "image", D("0.25"), 1),
    ]
    assert usage["by_kind"]["text"] == {"cost": D("5.5"), "count": 3}
    assert usage["by_kind"]["video"] == {"cost": D("2"), "count": 1}


def test_budget_left_comes_from_the_settings_when_they_exist(frozen, settings, user, spend):
    settings.DEFAULT_DAILY_BUDGET_USD = "1.50"
    settings.DEFAULT_MONTHLY_BUDGET_USD = 2
    spend(user, "text", "1", at("2026-03-15", "08:00:00"))
    spend(user, "text", "3", at("2026-03-02", "08:00:00"))

    budget = selectors.user_usage(user=user)["budget"]

    assert budget == {"daily": {"limit": D("1.5"), "left": D("0.5")}, "monthly": {"limit": D("2"), "left": D("0")}}


def test_site_usage_by_user_and_csv_rows(user, other_user, spend):
    spend(user, "text", "1", at("2026-03-14", "08:00:00"))
    spend(user, "text", "1", at("2026-03-14", "09:00:00"))
    spend(user, "video", "5", at("2026-03-15", "08:00:00"))
    spend(other_user, "image", "0.5", at("2026-03-15", "08:00:00"))

    usage = selectors.site_usage(first=date(2026, 3, 14), last=date(2026, 3, 15))
    rows = selectors.site_usage_rows(first=date(2026, 3, 14), last=date(2026, 3, 15))

    assert usage["totals"] == {"cost": D("7.5"), "count": 4}
    assert [(r["email"], r["cost"], r["count"]) for r in usage["by_user"]] == [
        (user.email, D("7"), 3),
        (other_user.email, D("0.5"), 1),
    ]
    on_15th = sorted(
        [
            (other_user.email, "image", "google/gemini-2.5-flash-image", 1, D("0.5")),
            (user.email, "video", "google/veo-3.1", 1, D("5")),
        ]
    )
    assert [(r["day"], r["email"], r["kind"], r["model"], r["count"], r["cost"]) for r in rows] == [
        (date(2026, 3, 14), user.email, "text", "openai/gpt-4o-mini", 2, D("2")),
        *((date(2026, 3, 15), *row) for row in on_15th),
    ]
    assert {r["user_id"] for r in rows} == {user.pk, other_user.pk}


def test_every_figure_is_a_group_by_in_the_database_whatever_the_row_count(frozen, user, spend):
    def queries() -> list[str]:
        with CaptureQueriesContext(connection) as captured:
            selectors.user_usage(user=user)
        return [q["sql"] for q in captured.captured_queries]

    spend(user, "text", "1", at("2026-03-15", "08:00:00"))
    few = queries()
    for n in range(20):
        spend(user, "text", "1", at(f"2026-03-{n % 14 + 1:02d}", "08:00:00"), model=f"m/{n % 3}")
        spend(user, "video", "1", at(f"2026-03-{n % 14 + 1:02d}", "08:00:00"))

    many = queries()
    # One GROUP BY per table (by day, model, kind and key, over the days every figure covers),
    # rolled up in Python; the user's budget (one read); the user's keys (one read, to list
    # the unused ones); and the storage used (one query summing the stored files' sizes).
    assert len(many) == len(few) == 5
    figures = [
        sql
        for sql in many
        if "billing_user_budgets" not in sql and 'FROM "api_keys"' not in sql and "size_bytes" not in sql
    ]
    assert len(figures) == 2 and all("SUM(" in sql.upper() and "COUNT(" in sql.upper() for sql in figures)
    assert all("GROUP BY" in sql.upper() for sql in figures)
    assert selectors.user_usage(user=user)["month"]["count"] == 41
