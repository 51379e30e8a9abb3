"""/api/groups: administrators manage groups and members; a member reads their own
groups; anyone else sees none of them. Each endpoint: anonymous, member, other user, admin
(and a personal API key, which these views do not accept)."""

import pytest

from accounts.api_keys import api_key_create
from teams.models import Membership, Team

pytestmark = pytest.mark.django_db


@pytest.fixture
def team(catalogue, group, user):
    return group("Research", members=[user], daily="5.00")


@pytest.fixture
def callers(client_for, user, other_user, admin_user):
    return {
        "anonymous": client_for(),
        "member": client_for(user),
        "other": client_for(other_user),
        "admin": client_for(admin_user),
    }


def _key_client(person):
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {api_key_create(user=person, name='k').secret}")
    return client


def test_list(team, callers, admin_user, group):
    group("Other")
    statuses = {who: c.get("/api/groups") for who, c in callers.items()}
    assert statuses["anonymous"].status_code == 401
    assert [g["name"] for g in statuses["member"].json()] == ["Research"]
    assert statuses["other"].json() == []
    assert [g["name"] for g in statuses["admin"].json()] == ["Other", "Research"]
    research = statuses["member"].json()[0]
    assert research["daily_budget_usd"] == "5.00" and research["member_count"] == 1
    assert research["budget"]["daily"]["left_usd"] == "5.00"
    assert _key_client(admin_user).get("/api/groups").status_code == 403


def test_create(callers, catalogue):
    body = {"name": "Design", "monthly_budget_usd": "20", "models": ["openai/gpt-4o-mini"]}
    for who, code in (("anonymous", 401), ("member", 403), ("other", 403)):
        assert callers[who].post("/api/groups", body, format="json").status_code == code
    assert not Team.objects.filter(name="Design").exists()
    created = callers["admin"].post("/api/groups", body, format="json")
    assert created.status_code == 201, created.content
    assert created.json()["models"] == ["openai/gpt-4o-mini"]
    again = callers["admin"].post("/api/groups", {"name": "design"}, format="json")
    assert again.status_code == 400 and "name" in again.json()
    bad = callers["admin"].post(
        "/api/groups", {"name": "X", "daily_budget_usd": "-1", "models": ["no/such"]}, format="json"
    )
    assert bad.status_code == 400 and {"daily_budget_usd", "models"} <= set(bad.json())
    assert callers["admin"].post("/api/groups", {}, format="json").status_code == 400


def test_read(team, callers):
    url = f"/api/groups/{team.pk}"
    assert callers["anonymous"].get(url).status_code == 401
    assert callers["member"].get(url).json()["name"] == "Research"
    assert callers["other"].get(url).status_code == 404
    assert callers["admin"].get(url).status_code == 200
    assert callers["admin"].get("/api/groups/999999").status_code == 404


def test_update(team, callers):
    url = f"/api/groups/{team.pk}"
    for who, code in (("anonymous", 401), ("member", 403), ("other", 403)):
        assert callers[who].patch(url, {"daily_budget_usd": None}, format="json").status_code == code
    changed = callers["admin"].patch(url, {"daily_budget_usd": None, "monthly_budget_usd": "9.5"}, format="json")
    assert changed.status_code == 200, changed.content
    team.refresh_from_db()
    assert team.daily_budget_usd is None and str(team.monthly_budget_usd) == "9.50000000"
    assert team.version == 1  # a reservation deciding on the old budget decides again
    assert callers["admin"].patch(url, {"name": ""}, format="json").status_code == 400


def test_delete(team, callers, user):
    url = f"/api/groups/{team.pk}"
    for who, code in (("anonymous", 401), ("member", 403), ("other", 403)):
        assert callers[who].delete(url).status_code == code
    assert callers["admin"].delete(url).status_code == 204
    assert not Team.objects.exists() and not Membership.objects.exists()
    assert user.__class__.objects.filter(pk=user.pk).exists()
    assert callers["admin"].delete(url).status_code == 404


def test_members_list_and_add(team, callers, user, other_user):
    url = f"/api/groups/{team.pk}/members"
    assert callers["anonymous"].get(url).status_code == 401
    assert callers["member"].get(url).status_code == 403
    assert callers["other"].get(url).status_code == 403
    assert [m["email"] for m in callers["admin"].get(url).json()] == [user.email]
    for who, code in (("anonymous", 401), ("member", 403), ("other", 403)):
        assert callers[who].post(url, {"user_id": other_user.pk}, format="json").status_code == code
    added = callers["admin"].post(url, {"user_id": other_user.pk}, format="json")
    assert added.status_code == 201 and added.json()["user_id"] == other_user.pk
    assert callers["admin"].post(url, {"user_id": other_user.pk}, format="json").status_code == 409
    assert callers["admin"].post(url, {"user_id": 999999}, format="json").status_code == 400
    assert callers["admin"].post(url, {}, format="json").status_code == 400
    assert callers["admin"].get("/api/groups/999999/members").status_code == 404


def test_member_remove(team, callers, user):
    url = f"/api/groups/{team.pk}/members/{user.pk}"
    for who, code in (("anonymous", 401), ("member", 403), ("other", 403)):
        assert callers[who].delete(url).status_code == code
    assert callers["admin"].delete(url).status_code == 204
    assert not Membership.objects.exists()
    assert callers["admin"].delete(url).status_code == 404


def test_the_schema_documents_the_endpoints(callers):
    schema = callers["admin"].get("/api/schema/?format=json").json()
    paths = schema["paths"]
    assert {"get", "post"} <= set(paths["/api/groups"])
    assert {"get", "patch", "delete"} <= set(paths["/api/groups/{team_id}"])
    assert {"get", "post"} <= set(paths["/api/groups/{team_id}/members"])
    assert "delete" in paths["/api/groups/{team_id}/members/{user_id}"]
