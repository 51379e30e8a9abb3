"""Spend by API key: /api/usage (the caller's own keys), /api/admin/usage (every key,
with its owner's email) and the "By key" tables of the usage pages."""

from decimal import Decimal

import pytest
from django.test import Client

from accounts.api_keys import api_key_create
from tests.factories import AdminFactory, UserFactory
from tests.support.accounts import bearer_client
from usage import selectors

from .conftest import at

pytestmark = pytest.mark.django_db

NO_KEY = selectors.NO_KEY_NAME


@pytest.fixture
def world(frozen, spend):
    """Two users with keys: the owner spends with "laptop" and "ci" and without a key,
    the other user with "script" and without a key; "idle" is never used."""
    owner = UserFactory(email="owner@example.com")
    other = UserFactory(email="other@example.com")
    admin = AdminFactory(email="admin@example.com")
    keys = {
        name: api_key_create(user=user, name=name).key
        for name, user in (("laptop", owner), ("ci", owner), ("idle", owner), ("script", other))
    }

    def charge(user, kind, cost, when, key=None):
        row = spend(user, kind, cost, at(*when))
        if key is not None:
            type(row).objects.filter(pk=row.pk).update(api_key=keys[key])

    charge(owner, "text", "1.5", ("2026-03-15", "09:00:00"), "laptop")
    charge(owner, "image", "0.25", ("2026-03-10",), "laptop")
    charge(owner, "video", "2", ("2026-03-14",), "ci")
    charge(owner, "text", "0.125", ("2026-03-01",))
    charge(owner, "text", "9", ("2026-01-01",), "laptop")  # outside the last 30 days
    charge(other, "image", "0.5", ("2026-03-12",), "script")
    charge(other, "text", "0.75", ("2026-03-13",))
    return {"owner": owner, "other": other, "admin": admin, "keys": keys}


def entry(rows, key_id):
    return next(row for row in rows if row["key_id"] == key_id)


def test_own_usage_by_key_counts_each_of_the_callers_keys(world):
    keys = world["keys"]
    body = bearer_client(world["owner"]).get("/api/usage").json()
    assert body["by_key"] == [
        {"key_id": keys["ci"].pk, "name": "ci", "prefix": keys["ci"].prefix, "cost": 2.0, "count": 1},
        {"key_id": keys["laptop"].pk, "name": "laptop", "prefix": keys["laptop"].prefix, "cost": 1.75, "count": 2},
        {"key_id": None, "name": NO_KEY, "prefix": None, "cost": 0.125, "count": 1},
        {"key_id": keys["idle"].pk, "name": "idle", "prefix": keys["idle"].prefix, "cost": 0.0, "count": 0},
    ]
    # The keys add up to the period's spend.
    assert sum(row["cost"] for row in body["by_key"]) == sum(row["cost"] for row in body["by_day"])


def test_own_usage_by_key_shows_only_own_data(world):
    keys = world["keys"]
    body = bearer_client(world["other"]).get("/api/usage").json()
    assert body["by_key"] == [
        {"key_id": None, "name": NO_KEY, "prefix": None, "cost": 0.75, "count": 1},
        {"key_id": keys["script"].pk, "name": "script", "prefix": keys["script"].prefix, "cost": 0.5, "count": 1},
    ]
    # Someone with neither keys nor spend gets the no-key entry alone.
    body = bearer_client(world["admin"]).get("/api/usage").json()
    assert body["by_key"] == [{"key_id": None, "name": NO_KEY, "prefix": None, "cost": 0.0, "count": 0}]


def test_admin_usage_by_key_covers_every_key_with_its_owner(world):
    keys = world["keys"]
    body = bearer_client(world["admin"]).get("/api/admin/usage?from=2026-01-01&to=2026-03-15").json()
    rows = body["by_key"]
    assert [row["key_id"] for row in rows] == [keys["laptop"].pk, keys["ci"].pk, None, keys["script"].pk]
    assert entry(rows, keys["laptop"].pk) == {
        "key_id": keys["laptop"].pk,
        "name": "laptop",
        "prefix": keys["laptop"].prefix,
        "email": "owner@example.com",
        "cost": 10.75,
        "count": 3,
    }
    assert entry(rows, keys["script"].pk)["email"] == "other@example.com"
    assert entry(rows, None) == {
        "key_id": None,
        "name": NO_KEY,
        "prefix": None,
        "email": None,
        "cost": 0.875,
        "count": 2,
    }
    assert sum(row["cost"] for row in rows) == body["totals"]["cost"]
    # Unused keys are not listed site-wide; the range narrows the figures.
    body = bearer_client(world["admin"]).get("/api/admin/usage?from=2026-03-14&to=2026-03-15").json()
    assert [(row["name"], row["cost"]) for row in body["by_key"]] == [("ci", 2.0), ("laptop", 1.5), (NO_KEY, 0.0)]


def test_by_key_is_one_grouped_query_per_table(world, django_assert_num_queries):
    with django_assert_num_queries(2):
        rows = selectors.by_key(selectors.Scope(at("2026-03-01").date(), at("2026-03-15").date()))
    assert entry(rows, None)["cost"] == Decimal("0.875")


def test_the_usage_pages_show_a_by_key_table(world):
    client = Client()
    client.force_login(world["owner"])
    html = client.get("/usage").content.decode()
    assert 'data-testid="usage-keys-table"' in html
    assert ">laptop<" in html and ">idle<" in html and NO_KEY in html and ">script<" not in html
    client.force_login(world["admin"])
    html = client.get("/admin-panel/usage?from=2026-03-01&to=2026-03-15").content.decode()
    assert 'data-testid="usage-keys-table"' in html and ">script<" in html and "other@example.com" in html
