"""GET/PUT /api/users/{id}/limits, the admin panel's page and the Django admin: who may
read and change a user's budgets, and what they accept."""

from decimal import Decimal

import pytest

from billing.models import UserBudget

pytestmark = pytest.mark.django_db

GOOD = {"daily_budget_usd": "2.50", "monthly_budget_usd": None}


def url(user):
    return f"/api/users/{user.pk}/limits"


# ------------------------------------------------------------------ authorization matrix


@pytest.mark.parametrize(
    "who, method, expected",
    [
        ("anonymous", "get", 401),
        ("anonymous", "put", 401),
        ("self", "get", 200),
        ("self", "put", 403),
        ("other user", "get", 403),
        ("other user", "put", 403),
        ("admin", "get", 200),
        ("admin", "put", 200),
    ],
)
def test_authorization_matrix(client_for, user, other_user, admin_user, who, method, expected):
    caller = {"anonymous": None, "self": user, "other user": other_user, "admin": admin_user}[who]
    client = client_for(caller)

    response = client.put(url(user), GOOD, format="json") if method == "put" else client.get(url(user))

    assert response.status_code == expected, response.content
    if expected != 200:
        assert "detail" in response.json()
    changed = UserBudget.objects.filter(user=user, daily_budget_usd=Decimal("2.50")).exists()
    assert changed == (who == "admin" and method == "put")


def test_anonymous_visitors_of_the_admin_page_go_to_login_and_users_get_403(client, user, other_user):
    page = f"/admin-panel/users/{user.pk}/limits"
    assert client.get(page).status_code == 302
    client.force_login(other_user)
    assert client.get(page).status_code == 403
    assert client.post(page, {"daily_budget_usd": "1"}).status_code == 403
    client.force_login(user)
    assert client.get(page).status_code == 403
    assert not UserBudget.objects.exists()


def test_an_unknown_user_is_a_404_for_admins(client_for, admin_user):
    assert client_for(admin_user).get("/api/users/999999/limits").status_code == 404
    assert client_for(admin_user).put("/api/users/999999/limits", GOOD, format="json").status_code == 404


# ------------------------------------------------------------------ what it reads and writes


def test_admin_sets_and_clears_overrides(client_for, admin_user, user, settings):
    settings.DEFAULT_MONTHLY_BUDGET_USD = Decimal("20")
    api = client_for(admin_user)

    body = api.put(url(user), {"daily_budget_usd": "2.50", "monthly_budget_usd": "40"}, format="json").json()
    assert body["daily_budget_usd"] == "2.50" and body["monthly_budget_usd"] == "40.00"
    assert body["default_monthly_budget_usd"] == "20.00" and body["timezone"] == "UTC"
    assert body["daily"]["budget_usd"] == "2.50" and body["monthly"]["budget_usd"] == "40.00"
    assert body["daily"]["resets_at"].endswith("T00:00:00Z")

    body = api.put(url(user), {"daily_budget_usd": None, "monthly_budget_usd": None}, format="json").json()
    assert body["daily_budget_usd"] is None and body["daily"]["budget_usd"] is None
    assert body["monthly"]["budget_usd"] == "20.00"  # the default again


def test_a_user_reads_their_own_standing(client_for, user, budget, spent):
    budget(user, daily="1.00")
    spent(user, "0.25")
    body = client_for(user).get(url(user)).json()
    assert body["daily"] == {**body["daily"], "budget_usd": "1.00", "spent_usd": "0.25", "left_usd": "0.75"}


@pytest.mark.parametrize(
    "body, field",
    [
        ({"daily_budget_usd": "lots", "monthly_budget_usd": None}, "daily_budget_usd"),
        ({"daily_budget_usd": "-1", "monthly_budget_usd": None}, "daily_budget_usd"),
        ({"daily_budget_usd": 1.5, "monthly_budget_usd": None}, "daily_budget_usd"),
        ({"daily_budget_usd": None, "monthly_budget_usd": "1e9"}, "monthly_budget_usd"),
        ({"daily_budget_usd": None, "monthly_budget_usd": "0.123456789"}, "monthly_budget_usd"),
        ({"daily_budget_usd": None}, "monthly_budget_usd"),
        ({"daily_budget_usd": "NaN", "monthly_budget_usd": None}, "daily_budget_usd"),
    ],
)
def test_bad_values_are_a_400_naming_the_field(client_for, admin_user, user, body, field):
    response = client_for(admin_user).put(url(user), body, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert not UserBudget.objects.filter(daily_budget_usd__isnull=False).exists()


def test_the_admin_panel_page_edits_the_same_values(client, admin_user, user):
    client.force_login(admin_user)
    page = f"/admin-panel/users/{user.pk}/limits"
    assert client.get(page).status_code == 200
    assert f'href="{page}"' in client.get("/admin-panel/").content.decode()

    response = client.post(page, {"daily_budget_usd": "3", "monthly_budget_usd": ""})
    assert response.status_code == 302
    row = UserBudget.objects.get(user=user)
    assert row.daily_budget_usd == Decimal("3") and row.monthly_budget_usd is None

    bad = client.post(page, {"daily_budget_usd": "three", "monthly_budget_usd": ""})
    assert bad.status_code == 400 and "Give an amount in dollars such as 5.00" in bad.content.decode()


def test_the_django_admin_edits_the_same_values(client, admin_user, user, budget):
    budget(user, daily="1.00")
    client.force_login(admin_user)
    change = f"/admin/billing/userbudget/{user.pk}/change/"
    assert client.get(change).status_code == 200

    response = client.post(change, {"daily_budget_usd": "4.00", "monthly_budget_usd": "9"})

    assert response.status_code == 302, response.content[:2000]
    row = UserBudget.objects.get(user=user)
    assert row.daily_budget_usd == Decimal("4") and row.monthly_budget_usd == Decimal("9") and row.version == 1
