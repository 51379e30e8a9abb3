"""The web pages: the login's second step (the session is not signed in before the code),
setting up an authenticator the policy requires, the profile's page, the admin panel's
page, and who may open each."""

import re

import pytest
from django.test import Client

from audit.models import AuditEntry
from tests.factories import DEFAULT_PASSWORD, AdminFactory, UserFactory
from tests.support.two_factor import code_for, enrol
from twofactor import services

pytestmark = pytest.mark.django_db


def password_step(client: Client, user, next_path: str = ""):
    data = {"username": user.email, "password": DEFAULT_PASSWORD}
    if next_path:
        data["next"] = next_path
    return client.post("/login", data)


def signed_in(client: Client) -> bool:
    return client.get("/users/profile").status_code == 200


def test_the_password_alone_does_not_sign_in_an_account_with_a_second_factor():
    user = UserFactory()
    secret, _ = enrol(user)
    client = Client()
    response = password_step(client, user, next_path="/history")
    assert response.status_code == 302 and response["Location"] == "/login/two-factor"
    assert not signed_in(client)
    wrong = client.post("/login/two-factor", {"code": code_for(secret, steps=8)})
    assert wrong.status_code == 400 and b"The code is not correct." in wrong.content
    assert not signed_in(client)
    right = client.post("/login/two-factor", {"code": code_for(secret)})
    assert right.status_code == 302 and right["Location"] == "/history"
    assert signed_in(client)


def test_without_a_second_factor_the_password_signs_in():
    client = Client()
    response = password_step(client, UserFactory())
    assert response.status_code == 302 and response["Location"] == "/"
    assert signed_in(client)


def test_the_second_step_without_a_pending_login_goes_back_to_the_login():
    response = Client().get("/login/two-factor")
    assert response.status_code == 302 and response["Location"] == "/login"


def test_a_pending_login_expires(settings):
    user = UserFactory()
    secret, _ = enrol(user)
    client = Client()
    password_step(client, user)
    settings.TWO_FACTOR_CHALLENGE_SECONDS = -1
    response = client.post("/login/two-factor", {"code": code_for(secret)})
    assert response.status_code == 302 and response["Location"] == "/login"
    assert not signed_in(client)


def test_a_recovery_code_signs_in_once():
    user = UserFactory()
    _, codes = enrol(user)
    first = Client()
    password_step(first, user)
    assert first.post("/login/two-factor", {"code": codes[0]}).status_code == 302
    assert signed_in(first)
    second = Client()
    password_step(second, user)
    refused = second.post("/login/two-factor", {"code": codes[0]})
    assert refused.status_code == 400
    assert not signed_in(second)


def test_wrong_codes_on_the_page_are_throttled(settings):
    settings.LOGIN_ACCOUNT_FAILURES = 2
    user = UserFactory()
    secret, _ = enrol(user)
    client = Client()
    password_step(client, user)
    statuses = [client.post("/login/two-factor", {"code": code_for(secret, steps=8)}).status_code for _ in range(3)]
    assert statuses == [400, 429, 429]
    refused = client.post("/login/two-factor", {"code": code_for(secret)})
    assert refused.status_code == 429 and int(refused["Retry-After"]) > 0
    assert not signed_in(client)


def test_the_policy_makes_a_covered_account_set_up_an_authenticator_before_it_is_signed_in(settings):
    settings.TWO_FACTOR_REQUIRED = "admins"
    admin = AdminFactory()
    client = Client()
    response = password_step(client, admin)
    assert response["Location"] == "/login/two-factor/setup"
    page = client.get("/login/two-factor/setup")
    assert page.status_code == 200 and b"data:image/svg+xml" in page.content
    assert not signed_in(client)
    secret = (
        re.search(rb'data-testid="two-factor-secret">([A-Z2-7 ]+)<', page.content).group(1).decode().replace(" ", "")
    )
    done = client.post("/login/two-factor/setup", {"code": code_for(secret)})
    assert done.status_code == 200
    assert len(re.findall(rb'data-testid="recovery-code"', done.content)) == 10
    assert signed_in(client)
    assert services.is_enrolled(admin)
    # An ordinary user is not covered.
    user_client = Client()
    assert password_step(user_client, UserFactory())["Location"] == "/"


def test_registration_where_everyone_needs_a_second_factor_goes_to_the_set_up(settings):
    settings.TWO_FACTOR_REQUIRED = "everyone"
    client = Client()
    response = client.post(
        "/register",
        {
            "email": "new@example.com",
            "password": "Lantern-orbit-7-quietly",
            "password_confirm": "Lantern-orbit-7-quietly",
        },
    )
    assert response.status_code == 302 and response["Location"] == "/login/two-factor/setup"
    assert not signed_in(client)


def test_enrolment_from_the_profile_shows_the_recovery_codes_once():
    user = UserFactory()
    client = Client()
    client.force_login(user)
    profile = client.get("/users/profile")
    assert b'data-testid="profile-two-factor"' in profile.content
    assert client.post("/users/profile/two-factor/setup").status_code == 302
    page = client.get("/users/profile/two-factor")
    secret = (
        re.search(rb'data-testid="two-factor-secret">([A-Z2-7 ]+)<', page.content).group(1).decode().replace(" ", "")
    )
    wrong = client.post("/users/profile/two-factor/confirm", {"code": code_for(secret, steps=8)})
    assert wrong.status_code == 400 and not services.is_enrolled(user)
    done = client.post("/users/profile/two-factor/confirm", {"code": code_for(secret)})
    assert done.status_code == 200 and len(re.findall(rb'data-testid="recovery-code"', done.content)) == 10
    after = client.get("/users/profile/two-factor")
    assert secret.encode() not in after.content.replace(b" ", b"")
    assert b'data-testid="recovery-codes-left">10<' in after.content


def test_renewing_codes_and_turning_off_need_the_password_or_a_code():
    user = UserFactory()
    secret, _ = enrol(user)
    client = Client()
    client.force_login(user)
    refused = client.post("/users/profile/two-factor/disable", {"password": "wrong"})
    assert refused.status_code == 400 and services.is_enrolled(user)
    renewed = client.post("/users/profile/two-factor/recovery-codes", {"code": code_for(secret)})
    assert renewed.status_code == 200 and len(re.findall(rb'data-testid="recovery-code"', renewed.content)) == 10
    off = client.post("/users/profile/two-factor/disable", {"password": DEFAULT_PASSWORD})
    assert off.status_code == 302 and not services.is_enrolled(user)


def test_the_profile_pages_need_a_signed_in_user_and_act_on_their_own_account():
    owner, other = UserFactory(), UserFactory()
    enrol(owner)
    for path in ("/users/profile/two-factor",):
        assert Client().get(path)["Location"].startswith("/login")
    for path in (
        "/users/profile/two-factor/setup",
        "/users/profile/two-factor/confirm",
        "/users/profile/two-factor/recovery-codes",
        "/users/profile/two-factor/disable",
    ):
        assert Client().post(path)["Location"].startswith("/login")
    client = Client()
    client.force_login(other)
    # Another user's calls reach only their own (empty) state: the owner's stays on.
    assert client.post("/users/profile/two-factor/disable", {"password": DEFAULT_PASSWORD}).status_code == 302
    assert services.is_enrolled(owner)
    admin = Client()
    admin.force_login(AdminFactory())
    assert b"Set up two-factor" in admin.get("/users/profile/two-factor").content


def test_the_admin_page_sets_the_policy_and_resets_a_second_factor():
    admin, user = AdminFactory(), UserFactory()
    enrol(user)
    assert Client().get("/admin-panel/two-factor")["Location"].startswith("/login")
    member = Client()
    member.force_login(UserFactory())
    assert member.get("/admin-panel/two-factor").status_code == 403
    assert member.post("/admin-panel/two-factor", {"required": "none"}).status_code == 403
    assert member.post(f"/admin-panel/two-factor/users/{user.pk}/reset").status_code == 403
    owner = Client()
    owner.force_login(user)
    assert owner.post(f"/admin-panel/two-factor/users/{user.pk}/reset").status_code == 403
    assert services.is_enrolled(user)
    client = Client()
    client.force_login(admin)
    page = client.get("/admin-panel/two-factor")
    assert page.status_code == 200 and user.email.encode() in page.content
    assert client.post("/admin-panel/two-factor", {"required": "bogus"}).status_code == 400
    assert client.post("/admin-panel/two-factor", {"required": "everyone"}).status_code == 302
    assert services.policy() == "everyone"
    assert client.post(f"/admin-panel/two-factor/users/{user.pk}/reset").status_code == 302
    assert not services.is_enrolled(user)
    assert client.post(f"/admin-panel/two-factor/users/{user.pk + 999}/reset").status_code == 404
    assert AuditEntry.objects.filter(action=AuditEntry.Action.TWO_FACTOR_RESET, actor_id=admin.pk).count() == 1
