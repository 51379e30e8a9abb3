"""The admin panel's group pages: admins only; create, edit budgets and models, add and
remove members, delete, through the same services as /api/groups."""

import pytest

from teams.models import Membership, Team
from tests.support.provider import catalogue, fake_openrouter  # noqa: F401

pytestmark = pytest.mark.django_db


def test_only_admins_reach_the_group_pages(client, user):
    team = Team.objects.create(name="Research")
    for url in ("/admin-panel/groups", f"/admin-panel/groups/{team.pk}"):
        assert client.get(url).status_code == 302  # to the login page
        client.force_login(user)
        assert client.get(url).status_code in (302, 403)
        client.logout()
    client.force_login(user)
    client.post("/admin-panel/groups", {"name": "Sneaky"})
    client.post(f"/admin-panel/groups/{team.pk}/delete")
    assert list(Team.objects.values_list("name", flat=True)) == ["Research"]


def test_an_admin_manages_a_group_from_the_pages(client, admin_user, user, catalogue):
    client.force_login(admin_user)
    response = client.post("/admin-panel/groups", {"name": "Research", "daily_budget_usd": "2.5"})
    assert response.status_code == 302
    team = Team.objects.get()
    assert str(team.daily_budget_usd) == "2.50000000"
    assert client.post("/admin-panel/groups", {"name": "research"}).status_code == 400
    edited = client.post(
        f"/admin-panel/groups/{team.pk}",
        {"name": "Research", "monthly_budget_usd": "x", "models": ["openai/gpt-4o-mini"]},
    )
    assert edited.status_code == 400 and "Give an amount in dollars" in edited.content.decode()
    client.post(f"/admin-panel/groups/{team.pk}", {"name": "Research", "models": ["openai/gpt-4o-mini"]})
    assert list(team.limited_models.values_list("pk", flat=True)) == ["openai/gpt-4o-mini"]
    client.post(f"/admin-panel/groups/{team.pk}/members", {"email": user.email})
    assert Membership.objects.get().added_by == admin_user
    page = client.get(f"/admin-panel/groups/{team.pk}").content.decode()
    assert user.email in page
    client.post(f"/admin-panel/groups/{team.pk}/members/{user.pk}/remove")
    assert not Membership.objects.exists()
    client.post(f"/admin-panel/groups/{team.pk}/delete")
    assert not Team.objects.exists()
