"""The admin API: stats, delete a user, change a role."""

import pytest
from rest_framework.test import APIClient

from accounts import tokens
from accounts.models import RefreshToken, User
from tests.factories import AdminFactory, UserFactory
from tests.support.accounts import bearer_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin():
    return AdminFactory()


@pytest.fixture
def as_admin(admin):
    return bearer_client(admin)


def test_stats_count_users_admins_active_users_and_live_tokens(as_admin, admin):
    a, _inactive = UserFactory(), UserFactory(is_active=False)
    AdminFactory()
    tokens.token_pair_issue(user=a)
    tokens.refresh_token_revoke(token=tokens.token_pair_issue(user=a).refresh)
    tokens.token_pair_issue(user=admin)
    response = as_admin.get("/api/admin/stats")
    assert response.status_code == 200
    body = response.json()
    assert {k: body[k] for k in ("users", "admins", "active_users", "active_refresh_tokens")} == {
        "users": 4,
        "admins": 2,
        "active_users": 3,
        "active_refresh_tokens": 2,
    }


def test_stats_are_for_admins_only():
    assert APIClient().get("/api/admin/stats").status_code == 401
    response = bearer_client(UserFactory()).get("/api/admin/stats")
    assert response.status_code == 403 and response.json() == {"detail": "Only administrators may do this."}


def test_delete_user_deletes_their_tokens(as_admin):
    user = UserFactory()
    for _ in range(2):
        tokens.token_pair_issue(user=user)
    response = as_admin.delete(f"/api/users/{user.pk}")
    assert response.status_code == 204
    assert not User.objects.filter(pk=user.pk).exists()
    assert not RefreshToken.objects.filter(user_id=user.pk).exists()


def test_delete_another_admin_is_allowed(as_admin):
    other = AdminFactory()
    assert as_admin.delete(f"/api/users/{other.pk}").status_code == 204


def test_an_admin_cannot_delete_themself(as_admin, admin):
    AdminFactory()  # not the last admin: still refused
    response = as_admin.delete(f"/api/users/{admin.pk}")
    assert response.status_code == 409
    assert response.json() == {"detail": "You cannot delete your own account."}
    assert User.objects.filter(pk=admin.pk).exists()


def test_delete_unknown_user_is_404(as_admin):
    assert as_admin.delete("/api/users/987654").status_code == 404


def test_promote_and_demote(as_admin):
    user = UserFactory()
    response = as_admin.put(f"/api/users/{user.pk}/role", {"role": "admin"}, format="json")
    assert response.status_code == 200
    assert response.json() == {"id": user.pk, "email": user.email, "role": "admin"}
    response = as_admin.put(f"/api/users/{user.pk}/role", {"role": "user"}, format="json")
    assert response.status_code == 200 and response.json()["role"] == "user"
    user.refresh_from_db()
    assert user.role == "user" and not user.is_staff


def test_setting_the_same_role_is_a_no_op(as_admin, admin):
    response = as_admin.put(f"/api/users/{admin.pk}/role", {"role": "admin"}, format="json")
    assert response.status_code == 200 and response.json()["role"] == "admin"


def test_demoting_the_last_admin_is_409(as_admin, admin):
    response = as_admin.put(f"/api/users/{admin.pk}/role", {"role": "user"}, format="json")
    assert response.status_code == 409
    assert "last active administrator" in response.json()["detail"]
    admin.refresh_from_db()
    assert admin.is_admin


def test_an_inactive_admin_does_not_count_as_another_admin(as_admin, admin):
    AdminFactory(is_active=False)
    assert as_admin.put(f"/api/users/{admin.pk}/role", {"role": "user"}, format="json").status_code == 409


def test_an_admin_may_demote_themself_when_another_admin_remains(as_admin, admin):
    AdminFactory()
    assert as_admin.put(f"/api/users/{admin.pk}/role", {"role": "user"}, format="json").status_code == 200
    # The role is read from the database on every request: the old token no longer opens admin doors.
    assert as_admin.get("/api/admin/stats").status_code == 403


@pytest.mark.parametrize("body", [{"role": "owner"}, {}, {"role": ""}])
def test_bad_role_is_400_on_role(as_admin, body):
    user = UserFactory()
    response = as_admin.put(f"/api/users/{user.pk}/role", body, format="json")
    assert response.status_code == 400 and "role" in response.json()


def test_role_of_unknown_user_is_404(as_admin):
    assert as_admin.put("/api/users/987654/role", {"role": "admin"}, format="json").status_code == 404
