"""Usage by group in /api/admin/usage (by_group) and its CSV (a groups column), formula
cells escaped."""

import csv
import io

import pytest

from teams.models import Membership, Team
from tests.factories import AdminFactory, UserFactory
from tests.support.accounts import bearer_client

from .conftest import at

pytestmark = pytest.mark.django_db
RANGE = "from=2026-03-01&to=2026-03-31"


def test_by_group_counts_members_spend_since_they_joined(frozen, spend):
    admin = AdminFactory()
    ann, bob = UserFactory(email="ann@example.com"), UserFactory(email="=cmd@example.com")
    research, empty = Team.objects.create(name="Research"), Team.objects.create(name="@Empty")
    Membership.objects.create(team=research, user=ann, added_at=at("2026-03-01", "00:00:00"))
    Membership.objects.create(team=research, user=bob, added_at=at("2026-03-15", "00:00:00"))
    spend(ann, "text", "1.5", at("2026-03-10"))
    spend(bob, "text", "4", at("2026-03-10"))  # before bob joined: not the group's
    spend(bob, "image", "0.25", at("2026-03-16"))

    body = bearer_client(admin).get(f"/api/admin/usage?{RANGE}").json()
    assert body["by_group"] == [
        {"group_id": research.pk, "name": "Research", "cost": 1.75, "count": 2},
        {"group_id": empty.pk, "name": "@Empty", "cost": 0.0, "count": 0},
    ]

    rows = list(
        csv.DictReader(io.StringIO(bearer_client(admin).get(f"/api/admin/usage?{RANGE}&format=csv").content.decode()))
    )
    assert {row["email"]: row["groups"] for row in rows} == {
        "ann@example.com": "Research",
        "'=cmd@example.com": "Research",
    }
    for actor, code in ((None, 401), (ann, 403)):
        client = bearer_client(actor) if actor else __import__("rest_framework.test").test.APIClient()
        assert client.get(f"/api/admin/usage?{RANGE}").status_code == code


def test_the_admin_usage_page_shows_groups(frozen, spend, client):
    admin, ann = AdminFactory(), UserFactory()
    team = Team.objects.create(name="Research")
    Membership.objects.create(team=team, user=ann, added_at=at("2026-03-01", "00:00:00"))
    spend(ann, "text", "1.5", at("2026-03-10"))
    client.force_login(admin)
    page = client.get(f"/admin-panel/usage?{RANGE}").content.decode()
    assert 'data-testid="usage-groups-table"' in page and "Research" in page and "$1.500000" in page
