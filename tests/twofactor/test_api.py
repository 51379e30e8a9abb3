"""The API login with a second factor: the first step answers a challenge and no tokens,
the second the tokens for a right code; wrong codes, replays, a recovery code used once,
throttling like passwords; and each new endpoint's authorization."""

import pytest
from rest_framework.test import APIClient

from accounts.api_keys import api_key_create
from tests.factories import DEFAULT_PASSWORD, AdminFactory, UserFactory
from tests.support.accounts import bearer_client
from tests.support.two_factor import code_for, enrol
from twofactor import services

pytestmark = pytest.mark.django_db


def first_step(user, password=DEFAULT_PASSWORD):
    return APIClient().post("/api/auth/login", {"email": user.email, "password": password}, format="json")


def second_step(challenge, code, client=None):
    return (client or APIClient()).post("/api/auth/login/2fa", {"challenge": challenge, "code": code}, format="json")


def test_without_a_second_factor_the_password_answers_the_tokens():
    user = UserFactory()
    response = first_step(user)
    assert response.status_code == 200
    assert {"access", "refresh", "user"} <= set(response.json())


def test_the_first_step_answers_a_challenge_and_no_tokens_the_second_the_tokens():
    user = UserFactory()
    secret, _ = enrol(user)
    first = first_step(user)
    assert first.status_code == 202, first.content
    body = first.json()
    assert body["two_factor_required"] is True and body["challenge"] and body["expires_at"]
    assert "access" not in body and "refresh" not in body
    second = second_step(body["challenge"], code_for(secret))
    assert second.status_code == 200, second.content
    tokens = second.json()
    assert tokens["user"]["email"] == user.email
    me = APIClient()
    me.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    assert me.get("/api/users/me").status_code == 200
    refreshed = APIClient().post("/api/auth/refresh", {"refresh": tokens["refresh"]}, format="json")
    assert refreshed.status_code == 200


def test_a_wrong_password_gets_no_challenge():
    user = UserFactory()
    enrol(user)
    response = first_step(user, password="not-the-password")
    assert response.status_code == 401
    assert "challenge" not in response.json()


def test_a_wrong_code_is_401_and_the_challenge_stays_usable():
    user = UserFactory()
    secret, _ = enrol(user)
    challenge = first_step(user).json()["challenge"]
    wrong = code_for(secret, steps=7)
    response = second_step(challenge, wrong)
    assert response.status_code == 401
    assert response.json()["detail"] == "The code is not correct."
    assert second_step(challenge, code_for(secret)).status_code == 200


def test_the_challenge_is_single_use_and_a_code_cannot_be_replayed():
    user = UserFactory()
    secret, _ = enrol(user)
    challenge = first_step(user).json()["challenge"]
    code = code_for(secret)
    assert second_step(challenge, code).status_code == 200
    used = second_step(challenge, code_for(secret, steps=1))
    assert used.status_code == 401 and "log in again" in used.json()["detail"]
    # The same code on a fresh challenge: refused within its time step.
    fresh = first_step(user).json()["challenge"]
    replay = second_step(fresh, code)
    assert replay.status_code == 401
    assert "already used" in replay.json()["detail"]


def test_an_unknown_challenge_and_missing_fields():
    unknown = second_step("made-up", "123456")
    assert unknown.status_code == 401 and "log in again" in unknown.json()["detail"]
    response = APIClient().post("/api/auth/login/2fa", {"challenge": "x"}, format="json")
    assert response.status_code == 400 and "code" in response.json()


def test_a_recovery_code_logs_in_once():
    user = UserFactory()
    _, codes = enrol(user)
    assert second_step(first_step(user).json()["challenge"], codes[3]).status_code == 200
    again = second_step(first_step(user).json()["challenge"], codes[3])
    assert again.status_code == 401
    assert services.recovery_codes_left(user) == 9


def test_wrong_codes_are_throttled_like_passwords(settings):
    settings.LOGIN_ACCOUNT_FAILURES = 3
    user = UserFactory()
    secret, _ = enrol(user)
    right, wrong = code_for(secret), code_for(secret, steps=9)
    challenge = first_step(user).json()["challenge"]
    statuses = [second_step(challenge, wrong).status_code for _ in range(4)]
    assert statuses[:2] == [401, 401] and statuses[2:] == [429, 429]
    refused = second_step(challenge, right)
    assert refused.status_code == 429 and int(refused["Retry-After"]) > 0
    # A right password does not clear the count of wrong codes.
    again = first_step(user)
    assert again.status_code == 202
    assert second_step(again.json()["challenge"], right).status_code == 429


def test_the_address_limit_counts_wrong_codes(settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "auth_ip": "3/min"},
    }
    user = UserFactory()
    secret, _ = enrol(user)
    challenge = first_step(user).json()["challenge"]
    statuses = [second_step(challenge, code_for(secret, steps=9)).status_code for _ in range(4)]
    assert statuses == [401, 401, 401, 429]


def test_an_account_the_policy_covers_without_a_second_factor_is_refused_at_the_api(settings):
    settings.TWO_FACTOR_REQUIRED = "admins"
    admin = AdminFactory()
    response = first_step(admin)
    assert response.status_code == 403
    assert response.json()["code"] == "two_factor_setup_required"
    assert first_step(UserFactory()).status_code == 200
    assert first_step(admin, password="wrong").status_code == 401


def test_personal_api_keys_are_unaffected():
    user = UserFactory()
    enrol(user)
    created = api_key_create(user=user, name="script")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {created.secret}")
    assert client.get("/v1/models").status_code == 200


# ------------------------------------------------------------------ authorization


def test_my_two_factor_state():
    assert APIClient().get("/api/users/me/two-factor").status_code == 401
    user, other = UserFactory(), UserFactory()
    enrol(user)
    assert bearer_client(user).get("/api/users/me/two-factor").json() == {
        "enabled": True,
        "required": False,
        "recovery_codes_left": 10,
    }
    # Another user (and an administrator) sees their own state only.
    assert bearer_client(other).get("/api/users/me/two-factor").json()["enabled"] is False
    assert bearer_client(AdminFactory()).get("/api/users/me/two-factor").json()["enabled"] is False


def test_reset_is_for_administrators_only():
    user, other, admin = UserFactory(), UserFactory(), AdminFactory()
    enrol(user)
    url = f"/api/users/{user.pk}/two-factor"
    assert APIClient().delete(url).status_code == 401
    assert bearer_client(user).delete(url).status_code == 403  # the owner: not on their own
    assert bearer_client(other).delete(url).status_code == 403
    assert services.is_enrolled(user)
    assert bearer_client(admin).delete(url).status_code == 204
    assert not services.is_enrolled(user)
    assert bearer_client(admin).delete(url).status_code == 409
    assert bearer_client(admin).delete(f"/api/users/{user.pk + 999}/two-factor").status_code == 404


def test_the_policy_is_for_administrators_only(settings):
    settings.TWO_FACTOR_REQUIRED = "none"
    user, admin = UserFactory(), AdminFactory()
    url = "/api/admin/two-factor"
    assert APIClient().get(url).status_code == 401
    assert APIClient().put(url, {"required": "everyone"}, format="json").status_code == 401
    assert bearer_client(user).get(url).status_code == 403
    assert bearer_client(user).put(url, {"required": "none"}, format="json").status_code == 403
    assert bearer_client(admin).get(url).json() == {"required": "none", "default": "none"}
    changed = bearer_client(admin).put(url, {"required": "everyone"}, format="json")
    assert changed.status_code == 200 and changed.json()["required"] == "everyone"
    bad = bearer_client(admin).put(url, {"required": "some"}, format="json")
    assert bad.status_code == 400 and "required" in bad.json()
    assert services.policy() == "everyone"


def test_the_second_step_is_public_and_ignores_a_stale_token():
    user, other = UserFactory(), UserFactory()
    secret, _ = enrol(user)
    challenge = first_step(user).json()["challenge"]
    # Whoever calls (another user's token, an administrator's) gets the challenge's user.
    answer = second_step(challenge, code_for(secret), client=bearer_client(other))
    assert answer.status_code == 200 and answer.json()["user"]["email"] == user.email
    assert (
        second_step(first_step(user).json()["challenge"], "000000", client=bearer_client(AdminFactory())).status_code
        == 401
    )
