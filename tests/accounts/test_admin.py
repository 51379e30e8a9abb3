"""The Django admin: users (email + role) and the read-only refresh-token store."""

import pytest
from django.test import Client

from accounts import tokens
from accounts.models import RefreshToken, User
from tests.factories import AdminFactory, UserFactory
from tests.support.accounts import STRONG_PASSWORD

pytestmark = pytest.mark.django_db

USERS = "/admin/accounts/user/"
TOKENS = "/admin/accounts/refreshtoken/"


@pytest.fixture
def admin_user():
    return AdminFactory(email="root@example.com")


@pytest.fixture
def console(admin_user):
    client = Client()
    client.force_login(admin_user)
    return client


def emails_listed(response) -> set[str]:
    return {str(user) for user in response.context["cl"].result_list}


def test_ordinary_users_cannot_open_the_admin():
    client = Client()
    client.force_login(UserFactory())
    response = client.get(USERS)
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")


def test_user_list_searches_by_email_and_filters_by_role_and_activity(console):
    UserFactory(email="alice@example.com")
    UserFactory(email="bob@example.com", is_active=False)
    AdminFactory(email="carol@example.com")
    assert console.get(USERS).status_code == 200
    assert emails_listed(console.get(USERS, {"q": "ALI"})) == {"alice@example.com"}
    assert emails_listed(console.get(USERS, {"role__exact": "admin"})) == {"carol@example.com", "root@example.com"}
    assert emails_listed(console.get(USERS, {"is_active__exact": "0"})) == {"bob@example.com"}


def test_add_user_with_email_role_and_password(console, production_hashers):
    response = console.post(
        f"{USERS}add/",
        {
            "email": "Added@Example.com",
            "role": "admin",
            "password1": STRONG_PASSWORD,
            "password2": STRONG_PASSWORD,
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    user = User.objects.get(email="added@example.com")
    assert user.role == "admin" and user.check_password(STRONG_PASSWORD) and user.password.startswith("argon2$")


def test_add_user_refuses_a_taken_email_and_a_weak_password(console):
    UserFactory(email="taken@example.com")
    response = console.post(
        f"{USERS}add/",
        {
            "email": "TAKEN@example.com",
            "role": "user",
            "password1": "123",
            "password2": "123",
        },
    )
    errors = response.context["adminform"].form.errors
    assert "email" in errors and "password2" in errors
    assert User.objects.count() == 2


def _change(console, user, **fields):
    body = {"email": user.email, "role": user.role, "is_active": "on" if user.is_active else ""}
    body.update(fields)
    body = {k: v for k, v in body.items() if v != ""}
    return console.post(f"{USERS}{user.pk}/change/", body)


def test_change_form_edits_email_and_role(console):
    user = UserFactory(email="old@example.com")
    response = _change(console, user, email="New@Example.com", role="admin")
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.email == "new@example.com" and user.role == "admin"


def test_change_form_refuses_to_demote_or_deactivate_the_last_admin(console, admin_user):
    response = _change(console, admin_user, role="user")
    assert "last active administrator" in str(response.context["adminform"].form.errors["role"])
    response = _change(console, admin_user, is_active="")
    assert "is_active" in response.context["adminform"].form.errors
    admin_user.refresh_from_db()
    assert admin_user.role == "admin" and admin_user.is_active


def test_deactivating_in_the_change_form_revokes_tokens(console):
    user = UserFactory()
    tokens.token_pair_issue(user=user)
    assert _change(console, user, is_active="").status_code == 302
    user.refresh_from_db()
    assert not user.is_active
    assert RefreshToken.objects.get().revoked_reason == "deactivated"


def test_actions_promote_demote_deactivate(console, admin_user):
    a, b = UserFactory(), UserFactory()
    tokens.token_pair_issue(user=b)
    console.post(USERS, {"action": "promote", "_selected_action": [a.pk, b.pk]})
    assert set(User.objects.filter(role="admin").values_list("pk", flat=True)) == {admin_user.pk, a.pk, b.pk}
    console.post(USERS, {"action": "demote", "_selected_action": [a.pk]})
    console.post(USERS, {"action": "deactivate", "_selected_action": [b.pk]})
    a.refresh_from_db(), b.refresh_from_db()
    assert a.role == "user" and not b.is_active
    assert not RefreshToken.objects.active().exists()


def test_actions_keep_the_rules(console, admin_user):
    response = console.post(USERS, {"action": "deactivate", "_selected_action": [admin_user.pk]}, follow=True)
    assert b"You cannot deactivate your own account." in response.content
    response = console.post(USERS, {"action": "demote", "_selected_action": [admin_user.pk]}, follow=True)
    assert b"last active administrator" in response.content
    admin_user.refresh_from_db()
    assert admin_user.is_active and admin_user.is_admin


def test_no_bulk_delete_and_no_self_delete(console, admin_user):
    listing = console.get(USERS)
    assert "delete_selected" not in listing.context["cl"].model_admin.get_actions(listing.wsgi_request)
    assert console.get(f"{USERS}{admin_user.pk}/delete/").status_code == 403  # last: see below


def test_deleting_a_user_deletes_their_tokens(console):
    user = UserFactory()
    tokens.token_pair_issue(user=user)
    response = console.post(f"{USERS}{user.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not User.objects.filter(pk=user.pk).exists() and not RefreshToken.objects.exists()


def test_setting_a_password_in_the_admin_revokes_tokens(console):
    user = UserFactory()
    tokens.token_pair_issue(user=user)
    response = console.post(
        f"{USERS}{user.pk}/password/",
        {
            "password1": STRONG_PASSWORD,
            "password2": STRONG_PASSWORD,
            "usable_password": "true",
        },
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password(STRONG_PASSWORD)
    assert RefreshToken.objects.get().revoked_reason == "password_changed"


def test_token_store_lists_filters_and_revokes(console):
    user = UserFactory(email="holder@example.com")
    tokens.token_pair_issue(user=user)
    tokens.token_pair_issue(user=user)
    row = RefreshToken.objects.first()
    listing = console.get(TOKENS, {"q": "holder@"})
    assert listing.status_code == 200 and len(listing.context["cl"].result_list) == 2
    detail = console.get(f"{TOKENS}{row.pk}/change/")
    assert detail.status_code == 200 and b'name="jti"' not in detail.content  # view only
    console.post(TOKENS, {"action": "revoke", "_selected_action": [row.pk]})
    row.refresh_from_db()
    assert row.revoked_reason == "admin"
    assert RefreshToken.objects.active().count() == 1
    assert len(console.get(TOKENS, {"state": "revoked"}).context["cl"].result_list) == 1
    assert len(console.get(TOKENS, {"state": "active"}).context["cl"].result_list) == 1


# Each refusal below is the test's last request: the admin refuses inside its atomic block,
# and on a store without savepoints that ends the test's transaction.


def test_token_store_refuses_additions(console):
    assert console.get(f"{TOKENS}add/").status_code == 403


def test_token_store_refuses_changes(console):
    tokens.token_pair_issue(user=UserFactory())
    row = RefreshToken.objects.get()
    assert console.post(f"{TOKENS}{row.pk}/change/", {"revoked_reason": "logout"}).status_code == 403


def test_token_store_refuses_deletions(console):
    tokens.token_pair_issue(user=UserFactory())
    row = RefreshToken.objects.get()
    assert console.get(f"{TOKENS}{row.pk}/delete/").status_code == 403


def test_changing_the_last_admins_email_and_demoting_them_at_once_saves_nothing(console, admin_user):
    response = _change(console, admin_user, email="renamed@example.com", role="user")
    assert response.status_code == 200
    assert "last active administrator" in str(response.context["adminform"].form.errors["role"])
    admin_user.refresh_from_db()
    assert admin_user.email == "root@example.com" and admin_user.role == "admin"


def test_change_form_refuses_a_taken_email_on_the_email_field(console):
    UserFactory(email="taken@example.com")
    user = UserFactory(email="mine@example.com")
    response = _change(console, user, email="Taken@example.com", role="admin")
    assert "already exists" in str(response.context["adminform"].form.errors["email"])
    user.refresh_from_db()
    assert user.email == "mine@example.com" and user.role == "user"
