"""A group's budget on real requests: 402 naming the group before any provider call; the
ledger rows charged to it stay counted when the member leaves; a newcomer brings none."""

from decimal import Decimal

import pytest

from billing.models import Reservation
from billing.selectors import group_spending
from teams import services
from teams.models import TeamCharge

pytestmark = pytest.mark.django_db
MINI = "openai/gpt-4o-mini"


def _chat_calls(fake):
    return [r for r in fake.received if r.method == "POST" and r.path == "/api/v1/chat/completions"]


def test_a_request_past_the_group_budget_is_a_402_naming_the_group(
    catalogue, fake_openrouter, group, user, client_for, spent
):
    team = group("Research", members=[user], daily="0.0001")
    response = client_for(user).post(
        "/api/generate/text", {"prompt": "hi", "model": MINI, "max_tokens": 1000}, format="json"
    )
    assert response.status_code == 402, response.content
    body = response.json()
    assert 'group "Research"' in body["detail"] and body["budget_owner"] == "group"
    assert body["group"] == {"id": team.pk, "name": "Research"}
    assert _chat_calls(fake_openrouter) == [] and not Reservation.objects.exists()


def test_own_budget_refusal_says_yours(catalogue, fake_openrouter, group, user, client_for, budget):
    group("Research", members=[user], daily="100")
    budget(user, daily="0.0001")
    response = client_for(user).post(
        "/api/generate/text", {"prompt": "hi", "model": MINI, "max_tokens": 1000}, format="json"
    )
    assert response.status_code == 402 and response.json()["budget_owner"] == "user"
    assert "your daily budget" in response.json()["detail"]


def test_a_request_that_fits_is_charged_to_the_group_and_settled(catalogue, fake_openrouter, group, user, client_for):
    team = group("Research", members=[user], daily="1.00")
    response = client_for(user).post("/api/generate/text", {"prompt": "hi", "model": MINI}, format="json")
    assert response.status_code == 200, response.content
    [row] = Reservation.objects.all()
    assert row.status == "settled" and TeamCharge.objects.get().team_id == team.pk
    assert group_spending(team_id=team.pk).spent_today == row.amount_settled


def test_spending_stays_with_the_group_when_members_change(group, user, other_user, admin_user, spent):
    team = group("Research", members=[user], daily="1.00")
    earlier = spent(other_user, "0.70")  # before other_user joined: not the group's
    row = spent(user, "0.40")
    TeamCharge.objects.create(team=team, reservation=row)
    services.member_add(team=team, user=other_user, by=admin_user)
    services.member_remove(team=team, user_id=user.pk, by=admin_user)
    assert group_spending(team_id=team.pk).spent_today == Decimal("0.40")
    assert not TeamCharge.objects.filter(reservation=earlier).exists()


def test_a_members_limits_show_each_group_budget_and_where_it_stands(group, user, other_user, client_for, spent):
    team = group("Research", members=[user, other_user], daily="1.00")
    group("Unlimited", members=[user])  # no budget: not listed
    row = spent(other_user, "0.30")
    TeamCharge.objects.create(team=team, reservation=row)

    body = client_for(user).get(f"/api/users/{user.pk}/limits").json()
    [research] = body["groups"]
    assert research["group_id"] == team.pk and research["name"] == "Research"
    assert research["daily"]["budget_usd"] == "1.00"
    assert research["daily"]["spent_usd"] == "0.30" and research["daily"]["left_usd"] == "0.70"
    assert research["monthly"]["budget_usd"] is None
    assert body["daily"]["spent_usd"] == "0.00"  # the member's own spending is apart
