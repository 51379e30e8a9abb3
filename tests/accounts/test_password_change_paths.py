"""Every way to change a password ends the user's other sessions (access tokens refused,
refresh tokens revoked, other web sessions ended) and revokes their API keys, as the
profile does: the Django admin's own "change password", its "set password" for a user
(a new password, or password sign-in turned off), `manage.py changepassword`, and a
shell's ``set_password()`` + ``save()``."""

import pytest
from django.contrib.auth.management.commands import changepassword
from django.core.management import call_command
from django.test import Client
from rest_framework.test import APIClient

from accounts.api_keys import ApiKey, api_key_create
from accounts.models import RefreshToken, User
from tests.factories import DEFAULT_PASSWORD, AdminFactory, UserFactory
from tests.support.accounts import STRONG_PASSWORD, login_pair

pytestmark = pytest.mark.django_db


def bearer(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


class Credentials:
    """An access/refresh pair, a second web session and an API key of ``user``, made
    before the change; `assert_ended` checks that none of them works any more."""

    def __init__(self, user):
        self.user = user
        self.pair = login_pair(user)
        self.browser = Client()
        self.browser.force_login(user)
        self.key = api_key_create(user=user, name="script").secret
        assert bearer(self.pair["access"]).get("/api/users/me").status_code == 200
        assert bearer(self.key).get("/api/generations").status_code == 200

    def assert_ended(self):
        assert bearer(self.pair["access"]).get("/api/users/me").status_code == 401
        refreshed = APIClient().post("/api/auth/refresh", {"refresh": self.pair["refresh"]}, format="json")
        assert refreshed.status_code == 401 and "password" in refreshed.json()["detail"]
        assert not RefreshToken.objects.filter(user=self.user).active().exists()
        assert self.browser.get("/").status_code == 302  # to the login page
        refused = bearer(self.key).get("/api/generations")
        assert refused.status_code == 401 and "password was changed" in refused.json()["detail"]
        assert ApiKey.objects.get(user=self.user).revoked_reason == ApiKey.RevokeReason.PASSWORD_CHANGED


def test_the_admins_own_password_change_page_ends_their_other_sessions():
    admin = AdminFactory()
    before = Credentials(admin)
    here = Client()
    here.force_login(admin)
    response = here.post(
        "/admin/password_change/",
        {"old_password": DEFAULT_PASSWORD, "new_password1": STRONG_PASSWORD, "new_password2": STRONG_PASSWORD},
    )
    assert response.status_code == 302 and response["Location"] == "/admin/password_change/done/"
    before.assert_ended()
    assert here.get("/admin/").status_code == 200  # the page it was changed on stays signed in
    assert login_pair(admin, STRONG_PASSWORD)["access"]


@pytest.mark.parametrize("usable", ["true", "false"], ids=["new password", "password sign-in off"])
def test_the_admins_set_password_page_for_a_user_ends_their_sessions(usable):
    user = UserFactory()
    before = Credentials(user)
    admin = Client()
    admin.force_login(AdminFactory())
    form = {"password1": STRONG_PASSWORD, "password2": STRONG_PASSWORD, "usable_password": usable}
    form["set-password" if usable == "true" else "unset-password"] = "1"  # the page's two buttons
    response = admin.post(f"/admin/accounts/user/{user.pk}/password/", form)
    assert response.status_code == 302 and response["Location"].endswith(f"/user/{user.pk}/change/")
    before.assert_ended()
    user.refresh_from_db()
    assert user.has_usable_password() is (usable == "true")


def test_manage_py_changepassword_ends_every_session(monkeypatch):
    user = UserFactory()
    before = Credentials(user)
    # The command asks twice on a terminal; here it is answered.
    monkeypatch.setattr(changepassword.Command, "_get_pass", lambda self, prompt="": STRONG_PASSWORD)
    call_command("changepassword", user.email, stdout=None)
    before.assert_ended()
    assert login_pair(user, STRONG_PASSWORD)["access"]


def test_set_password_and_save_anywhere_ends_every_session():
    user = UserFactory()
    before = Credentials(user)
    user = User.objects.get(pk=user.pk)
    user.set_password(STRONG_PASSWORD)
    user.save()
    before.assert_ended()


def test_saving_a_user_without_a_new_password_ends_nothing():
    user = UserFactory()
    pair = login_pair(user)
    user = User.objects.get(pk=user.pk)
    user.save()
    # A login that upgrades the stored hash (same password) is no change either.
    user.check_password(DEFAULT_PASSWORD)
    assert bearer(pair["access"]).get("/api/users/me").status_code == 200
    assert RefreshToken.objects.filter(user=user).active().count() == 1
