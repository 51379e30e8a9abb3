"""GET /api/usage and GET /api/admin/usage: who may read what, the answers, dates, CSV."""

import csv
import io

import pytest
from django.test import Client
from rest_framework.test import APIClient

from tests.factories import AdminFactory, UserFactory
from tests.support.accounts import bearer_client

from .conftest import at

pytestmark = pytest.mark.django_db

ACTORS = ("anonymous", "user", "other", "admin")


@pytest.fixture
def world(frozen, spend):
    world = {
        "user": UserFactory(email="owner@example.com"),
        "other": UserFactory(email="other@example.com"),
        "admin": AdminFactory(email="admin@example.com"),
    }
    spend(world["user"], "text", "1.5", at("2026-03-15", "09:00:00"))
    spend(world["user"], "video", "2", at("2026-03-14", "09:00:00"))
    spend(world["other"], "image", "0.25", at("2026-03-15", "09:00:00"))
    return world


def api(world, actor) -> APIClient:
    return APIClient() if actor == "anonymous" else bearer_client(world[actor])


def web(world, actor) -> Client:
    client = Client()
    if actor != "anonymous":
        client.force_login(world[actor])
    return client


# ------------------------------------------------------------------ who may read what


@pytest.mark.parametrize("actor", ACTORS)
def test_own_usage_matrix(world, actor):
    response = api(world, actor).get("/api/usage")
    if actor == "anonymous":
        assert response.status_code == 401
        return
    assert response.status_code == 200
    expected = {"user": 3.5, "other": 0.25, "admin": 0.0}[actor]
    body = response.json()
    assert body["month"]["cost"] == expected  # only their own rows, never someone else's
    assert sum(row["cost"] for row in body["by_day"]) == expected


@pytest.mark.parametrize("actor", ACTORS)
def test_site_usage_matrix(world, actor):
    for client in (api(world, actor), web(world, actor)):
        response = client.get("/api/admin/usage")
        assert response.status_code == {"anonymous": 401, "user": 403, "other": 403, "admin": 200}[actor]
        if actor != "admin":
            assert "owner@example.com" not in response.content.decode()
            assert client.get("/api/admin/usage?format=csv").status_code == response.status_code


@pytest.mark.parametrize("actor", ACTORS)
def test_usage_pages_matrix(world, actor):
    client = web(world, actor)
    page = client.get("/usage")
    admin_page = client.get("/admin-panel/usage")
    if actor == "anonymous":
        assert page.status_code == admin_page.status_code == 302
        assert page["Location"].startswith("/login?next=/usage")
        assert admin_page["Location"].startswith("/login?next=/admin-panel/usage")
        return
    assert page.status_code == 200
    assert admin_page.status_code == (200 if actor == "admin" else 403)
    html = page.content.decode()
    if actor == "other":
        assert "$0.25" in html and "$3.50" not in html and "gpt-4o-mini" not in html
    if actor == "user":
        assert "$3.50" in html and "gemini" not in html


# ------------------------------------------------------------------ answers


def test_own_usage_answer(world):
    body = bearer_client(world["user"]).get("/api/usage").json()

    assert set(body) == {"from", "to", "today", "month", "budget", "by_day", "by_model", "by_kind", "by_key", "storage"}
    assert body["today"] == {"date": "2026-03-15", "cost": 1.5, "count": 1}
    assert body["month"] == {"start": "2026-03-01", "cost": 3.5, "count": 2}
    assert body["budget"] == {"daily": {"limit": None, "left": None}, "monthly": {"limit": None, "left": None}}
    assert (body["from"], body["to"]) == ("2026-02-14", "2026-03-15") and len(body["by_day"]) == 30
    assert body["by_day"][-2:] == [
        {"day": "2026-03-14", "cost": 2.0, "count": 1},
        {"day": "2026-03-15", "cost": 1.5, "count": 1},
    ]
    assert body["by_model"] == [
        {"model": "google/veo-3.1", "kind": "video", "cost": 2.0, "count": 1},
        {"model": "openai/gpt-4o-mini", "kind": "text", "cost": 1.5, "count": 1},
    ]
    assert body["by_kind"] == {
        "text": {"cost": 1.5, "count": 1},
        "image": {"cost": 0.0, "count": 0},
        "video": {"cost": 2.0, "count": 1},
        "embedding": {"cost": 0.0, "count": 0},
    }


def test_own_usage_shows_the_budget_left_when_one_is_configured(world, settings):
    settings.DEFAULT_DAILY_BUDGET_USD = 5
    settings.DEFAULT_MONTHLY_BUDGET_USD = "3"

    budget = bearer_client(world["user"]).get("/api/usage").json()["budget"]

    assert budget == {"daily": {"limit": 5.0, "left": 3.5}, "monthly": {"limit": 3.0, "left": 0.0}}


def test_site_usage_answer_and_range(world, spend):
    spend(world["user"], "text", "7", at("2026-03-01", "00:00:00"))
    admin = bearer_client(world["admin"])

    body = admin.get("/api/admin/usage?from=2026-03-14&to=2026-03-15").json()

    assert (body["from"], body["to"]) == ("2026-03-14", "2026-03-15")
    assert body["totals"] == {"cost": 3.75, "count": 3}
    assert body["by_day"] == [
        {"day": "2026-03-14", "cost": 2.0, "count": 1},
        {"day": "2026-03-15", "cost": 1.75, "count": 2},
    ]
    assert body["by_user"] == [
        {"user_id": world["user"].pk, "email": "owner@example.com", "cost": 3.5, "count": 2},
        {"user_id": world["other"].pk, "email": "other@example.com", "cost": 0.25, "count": 1},
    ]
    assert [row["model"] for row in body["by_model"]] == [
        "google/veo-3.1",
        "openai/gpt-4o-mini",
        "google/gemini-2.5-flash-image",
    ]
    assert body["by_kind"]["image"] == {"cost": 0.25, "count": 1}
    # Defaults: the 30 days up to today (UTC).
    default = admin.get("/api/admin/usage").json()
    assert (default["from"], default["to"]) == ("2026-02-14", "2026-03-15") and default["totals"]["cost"] == 10.75
    assert admin.get("/api/admin/usage?from=2026-03-01&to=2026-03-01").json()["totals"] == {"cost": 7.0, "count": 1}
    assert admin.get("/api/admin/usage?from=&to=").status_code == 200  # empty is absent


@pytest.mark.parametrize(
    "query, field",
    [
        ("from=2026-3-1", "from"),
        ("from=yesterday", "from"),
        ("to=2026-02-30", "to"),
        ("to=15/03/2026", "to"),
        ("from=2026-03-15&to=2026-03-14", "from"),
        ("from=2024-01-01&to=2026-03-15", "to"),
    ],
)
def test_bad_dates_are_a_400_naming_the_field(world, query, field):
    admin = bearer_client(world["admin"])
    for suffix in ("", "&format=csv"):
        response = admin.get(f"/api/admin/usage?{query}{suffix}")
        assert response.status_code == 400, query
        assert response["Content-Type"].startswith("application/json")
        assert list(response.json()) == [field]


def test_csv_by_format_or_accept_header(world):
    admin = bearer_client(world["admin"])

    by_format = admin.get("/api/admin/usage?from=2026-03-14&to=2026-03-15&format=csv")
    by_accept = admin.get("/api/admin/usage?from=2026-03-14&to=2026-03-15", HTTP_ACCEPT="text/csv")

    for response in (by_format, by_accept):
        assert response.status_code == 200
        assert response["Content-Type"] == "text/csv; charset=utf-8"
        assert response["Content-Disposition"] == 'attachment; filename="usage-2026-03-14-2026-03-15.csv"'
    assert by_format.content == by_accept.content
    rows = list(csv.reader(io.StringIO(by_format.content.decode())))
    assert rows == [
        ["day", "user_id", "email", "groups", "kind", "model", "count", "cost"],
        ["2026-03-14", str(world["user"].pk), "owner@example.com", "", "video", "google/veo-3.1", "1", "2.00000000"],
        [
            "2026-03-15",
            str(world["other"].pk),
            "other@example.com",
            "",
            "image",
            "google/gemini-2.5-flash-image",
            "1",
            "0.25000000",
        ],
        ["2026-03-15", str(world["user"].pk), "owner@example.com", "", "text", "openai/gpt-4o-mini", "1", "1.50000000"],
    ]


def test_csv_of_an_empty_range_is_the_header_alone(world):
    response = bearer_client(world["admin"]).get("/api/admin/usage?from=2020-01-01&to=2020-01-31&format=csv")
    assert response.content.decode() == "day,user_id,email,groups,kind,model,count,cost\r\n"


def test_an_unknown_format_is_a_406(world):
    assert bearer_client(world["admin"]).get("/api/admin/usage?format=xml").status_code == 406


def test_schema_documents_both_endpoints(client):
    from django.test import Client as DjangoClient

    schema = DjangoClient().get("/api/schema/?format=json").json()
    own = schema["paths"]["/api/usage"]["get"]
    site = schema["paths"]["/api/admin/usage"]["get"]
    assert own["tags"] == ["usage"] and site["tags"] == ["admin"]
    assert {"text/csv", "application/json"} <= set(site["responses"]["200"]["content"])
    assert {p["name"] for p in site["parameters"]} >= {"from", "to", "format"}
    assert {"400", "401", "403"} <= set(site["responses"])


def test_csv_cells_that_would_be_formulas_are_quoted_and_numbers_stay_numbers(frozen, spend):
    # Registered as such: spreadsheets would run the cell as a formula (CSV injection).
    attacker = UserFactory(email="=cmd|'/ccalc.exe'!a0@example.com")
    spend(attacker, "text", "1", at("2026-03-15", "09:00:00"), model="@SUM(1+1)")
    spend(attacker, "image", "-0.5", at("2026-03-15", "09:00:00"), model="+tab\tmodel")
    admin = bearer_client(AdminFactory(email="admin@example.com"))

    body = admin.get("/api/admin/usage?from=2026-03-15&to=2026-03-15&format=csv").content.decode()

    rows = list(csv.reader(io.StringIO(body)))[1:]
    assert {(row[2], row[5], row[7]) for row in rows} == {
        ("'=cmd|'/ccalc.exe'!a0@example.com", "'@SUM(1+1)", "1.00000000"),
        ("'=cmd|'/ccalc.exe'!a0@example.com", "'+tab\tmodel", "-0.50000000"),  # a negative amount: still a number
    }
    assert all(not row[2].startswith("=") for row in rows)


@pytest.mark.parametrize(
    "value, expected",
    [
        ("=1+1", "'=1+1"),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@x", "'@x"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("a=b", "a=b"),
        ("", ""),
        (-1, -1),
        (None, None),
    ],
)
def test_safe_cell_quotes_only_text_that_starts_a_formula(value, expected):
    from decimal import Decimal

    from core.spreadsheets import safe_cell

    assert safe_cell(value) == expected
    assert safe_cell(Decimal("-2.5")) == "-2.5"
    assert safe_cell(Decimal("0E-8")) == "0.00000000"


def test_csv_writes_a_zero_cost_as_a_plain_number(world, spend):
    # str(Decimal("0E-8")) is what a zero at 8 places prints as; spreadsheets read it as text.
    spend(world["user"], "text", "0", at("2026-03-16", "09:00:00"), model="fake/free")
    response = bearer_client(world["admin"]).get("/api/admin/usage?from=2026-03-16&to=2026-03-16&format=csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[1][5:] == ["fake/free", "1", "0.00000000"]
    assert "E-" not in response.content.decode()
