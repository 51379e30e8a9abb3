"""The accounts API, row by row: success bodies and every failure answer."""

from datetime import timedelta

import pytest
from django.test import Client
from rest_framework.test import APIClient
from rest_framework_simplejwt import tokens as jwt

from accounts import tokens
from accounts.models import RefreshToken, User
from tests.factories import DEFAULT_PASSWORD, UserFactory
from tests.support.accounts import STRONG_PASSWORD, bearer_client, login_pair

pytestmark = pytest.mark.django_db


def post(client, url, body):
    return client.post(url, body, format="json")


# ------------------------------------------------------------------ register


def test_register_creates_an_ordinary_user(anon_api, production_hashers):
    response = post(anon_api, "/api/auth/register", {"email": "New.Person@Example.com", "password": STRONG_PASSWORD})
    assert response.status_code == 201
    user = User.objects.get()
    assert response.json() == {"id": user.pk, "email": "new.person@example.com", "role": "user", "status": "active"}
    assert user.password.startswith("argon2$") and user.check_password(STRONG_PASSWORD)


def test_register_refuses_an_email_taken_in_another_letter_case(anon_api):
    UserFactory(email="taken@example.com")
    response = post(anon_api, "/api/auth/register", {"email": "TAKEN@example.COM", "password": STRONG_PASSWORD})
    assert response.status_code == 400
    assert list(response.json()) == ["email"]
    assert User.objects.count() == 1


@pytest.mark.parametrize(
    "password, fragment",
    [
        ("short1!", "too short"),
        ("password123", "too common"),
        ("83749261539", "entirely numeric"),
        ("lovelace-example", "too similar"),
    ],
)
def test_register_applies_the_password_validators(anon_api, password, fragment):
    response = post(anon_api, "/api/auth/register", {"email": "lovelace@example.com", "password": password})
    assert response.status_code == 400
    assert fragment in " ".join(response.json()["password"])
    assert not User.objects.exists()


@pytest.mark.parametrize(
    "body, field",
    [
        ({"password": STRONG_PASSWORD}, "email"),
        ({"email": "a@example.com"}, "password"),
        ({"email": "not-an-email", "password": STRONG_PASSWORD}, "email"),
    ],
)
def test_register_names_the_bad_field(anon_api, body, field):
    response = post(anon_api, "/api/auth/register", body)
    assert response.status_code == 400 and field in response.json()


def test_register_refuses_a_non_object_body(anon_api):
    response = post(anon_api, "/api/auth/register", ["a", "b"])
    assert response.status_code == 400


# ------------------------------------------------------------------ login


def test_login_returns_tokens_and_the_user(anon_api):
    user = UserFactory(email="grace@example.com")
    response = post(anon_api, "/api/auth/login", {"email": "Grace@Example.com", "password": DEFAULT_PASSWORD})
    assert response.status_code == 200
    body = response.json()
    assert body["user"] == {"id": user.pk, "email": "grace@example.com", "role": "user"}
    assert jwt.AccessToken(body["access"])["user_id"] == str(user.pk)
    assert RefreshToken.objects.get().jti == jwt.RefreshToken(body["refresh"])["jti"]
    user.refresh_from_db()
    assert user.last_login is not None


def test_login_failures_all_answer_the_same_401(anon_api):
    UserFactory(email="known@example.com")
    UserFactory(email="gone@example.com", is_active=False)
    answers = [
        post(anon_api, "/api/auth/login", {"email": "known@example.com", "password": "wrong-password"}),
        post(anon_api, "/api/auth/login", {"email": "nobody@example.com", "password": DEFAULT_PASSWORD}),
        post(anon_api, "/api/auth/login", {"email": "gone@example.com", "password": DEFAULT_PASSWORD}),
    ]
    assert {r.status_code for r in answers} == {401}
    assert len({r.content for r in answers}) == 1
    assert answers[0].json() == {"detail": "The email address or password is incorrect."}
    assert answers[0]["WWW-Authenticate"].startswith("Bearer")
    assert not RefreshToken.objects.exists()


def test_login_with_missing_fields_is_400(anon_api):
    response = post(anon_api, "/api/auth/login", {"email": "a@example.com"})
    assert response.status_code == 400 and "password" in response.json()


def test_a_stale_authorization_header_does_not_block_login(anon_api):
    UserFactory(email="stale@example.com")
    anon_api.credentials(HTTP_AUTHORIZATION="Bearer expired.or.garbage")
    response = post(anon_api, "/api/auth/login", {"email": "stale@example.com", "password": DEFAULT_PASSWORD})
    assert response.status_code == 200


# ------------------------------------------------------------------ refresh and logout


def test_refresh_rotates(anon_api):
    first = login_pair(UserFactory())
    response = post(anon_api, "/api/auth/refresh", {"refresh": first["refresh"]})
    assert response.status_code == 200
    second = response.json()
    assert set(second) == {"access", "refresh"} and second["refresh"] != first["refresh"]
    assert post(anon_api, "/api/auth/refresh", {"refresh": second["refresh"]}).status_code == 200


def test_refresh_with_a_used_token_is_401_and_ends_the_family(anon_api):
    first = login_pair(UserFactory())
    second = post(anon_api, "/api/auth/refresh", {"refresh": first["refresh"]}).json()
    replay = post(anon_api, "/api/auth/refresh", {"refresh": first["refresh"]})
    assert replay.status_code == 401
    assert "already used" in replay.json()["detail"]
    assert post(anon_api, "/api/auth/refresh", {"refresh": second["refresh"]}).status_code == 401


@pytest.mark.parametrize("token", ["garbage", "a.b.c"])
def test_refresh_with_garbage_is_401(anon_api, token):
    response = post(anon_api, "/api/auth/refresh", {"refresh": token})
    assert response.status_code == 401 and response["WWW-Authenticate"].startswith("Bearer")


def test_refresh_with_an_access_token_is_401(anon_api):
    pair = login_pair(UserFactory())
    assert post(anon_api, "/api/auth/refresh", {"refresh": pair["access"]}).status_code == 401


def test_refresh_without_the_field_is_400(anon_api):
    response = post(anon_api, "/api/auth/refresh", {})
    assert response.status_code == 400 and "refresh" in response.json()


def test_refresh_for_a_deactivated_user_is_401(anon_api):
    user = UserFactory()
    pair = login_pair(user)
    User.objects.filter(pk=user.pk).update(is_active=False)
    assert post(anon_api, "/api/auth/refresh", {"refresh": pair["refresh"]}).status_code == 401


def test_logout_revokes_the_refresh_token(anon_api):
    pair = login_pair(UserFactory())
    response = post(anon_api, "/api/auth/logout", {"refresh": pair["refresh"]})
    assert response.status_code == 204 and response.content == b""
    assert RefreshToken.objects.get().revoked_reason == "logout"
    assert post(anon_api, "/api/auth/refresh", {"refresh": pair["refresh"]}).status_code == 401


def test_logout_with_a_bad_token_is_401_and_without_one_400(anon_api):
    assert post(anon_api, "/api/auth/logout", {"refresh": "garbage"}).status_code == 401
    assert post(anon_api, "/api/auth/logout", {}).status_code == 400


# ------------------------------------------------------------------ /api/users/me


def test_me_returns_the_callers_account():
    user = UserFactory(email="me@example.com")
    response = bearer_client(user).get("/api/users/me")
    assert response.status_code == 200
    body = response.json()
    assert {k: body[k] for k in ("id", "email", "role")} == {"id": user.pk, "email": "me@example.com", "role": "user"}
    assert body["date_joined"].startswith(str(user.date_joined.year))


def test_me_requires_a_valid_access_token(anon_api):
    assert anon_api.get("/api/users/me").status_code == 401
    anon_api.credentials(HTTP_AUTHORIZATION="Bearer garbage")
    assert anon_api.get("/api/users/me").status_code == 401


def test_an_expired_access_token_is_401():
    user = UserFactory()
    access = tokens.access_token_for(user=user)
    access.set_exp(lifetime=timedelta(seconds=-1))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    assert client.get("/api/users/me").status_code == 401


def test_a_refresh_token_is_not_an_access_token():
    pair = login_pair(UserFactory())
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {pair['refresh']}")
    assert client.get("/api/users/me").status_code == 401


def test_access_tokens_of_a_deleted_or_deactivated_user_stop_working():
    gone, off = UserFactory(), UserFactory()
    gone_client, off_client = bearer_client(gone), bearer_client(off)
    gone.delete()
    User.objects.filter(pk=off.pk).update(is_active=False)
    assert gone_client.get("/api/users/me").status_code == 401
    assert off_client.get("/api/users/me").status_code == 401


def test_me_works_in_the_browsable_api_for_a_signed_in_session():
    user = UserFactory(email="browser@example.com")
    client = Client()
    client.force_login(user)
    response = client.get("/api/users/me", HTTP_ACCEPT="text/html")
    assert response.status_code == 200
    assert b"browser@example.com" in response.content and b"Studio API" in response.content


def test_session_writes_to_the_api_need_the_csrf_token():
    user = UserFactory()
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    response = client.patch(
        "/api/users/me",
        {"current_password": DEFAULT_PASSWORD, "email": "x@example.com"},
        content_type="application/json",
    )
    assert response.status_code == 403
    user.refresh_from_db()
    assert user.email != "x@example.com"


@pytest.mark.parametrize("method", ["put", "patch"])
def test_change_email(method):
    user = UserFactory()
    response = getattr(bearer_client(user), method)(
        "/api/users/me", {"email": "New@Example.com", "current_password": DEFAULT_PASSWORD}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["email"] == "new@example.com"
    user.refresh_from_db()
    assert user.email == "new@example.com"


def test_change_email_to_a_taken_one_is_400_on_email():
    UserFactory(email="taken@example.com")
    user = UserFactory()
    response = bearer_client(user).patch(
        "/api/users/me", {"email": "Taken@example.com", "current_password": DEFAULT_PASSWORD}, format="json"
    )
    assert response.status_code == 400 and list(response.json()) == ["email"]


@pytest.mark.parametrize("current", [None, "", "wrong-password"])
def test_changes_need_the_current_password(current):
    user = UserFactory(email="keep@example.com")
    body = {"email": "changed@example.com", "password": STRONG_PASSWORD}
    if current is not None:
        body["current_password"] = current
    response = bearer_client(user).patch("/api/users/me", body, format="json")
    assert response.status_code == 400 and "current_password" in response.json()
    user.refresh_from_db()
    assert user.email == "keep@example.com" and user.check_password(DEFAULT_PASSWORD)


def test_change_password_revokes_all_refresh_tokens_and_the_old_password():
    user = UserFactory()
    sessions = [login_pair(user) for _ in range(2)]
    response = bearer_client(user).put(
        "/api/users/me", {"password": STRONG_PASSWORD, "current_password": DEFAULT_PASSWORD}, format="json"
    )
    assert response.status_code == 200
    anon_api = APIClient()
    for pair in sessions:
        assert post(anon_api, "/api/auth/refresh", {"refresh": pair["refresh"]}).status_code == 401
    assert post(anon_api, "/api/auth/login", {"email": user.email, "password": DEFAULT_PASSWORD}).status_code == 401
    assert post(anon_api, "/api/auth/login", {"email": user.email, "password": STRONG_PASSWORD}).status_code == 200


def test_a_token_ended_by_a_password_change_says_so_and_is_not_called_reuse():
    user = UserFactory()
    pair = login_pair(user)
    bearer_client(user).put(
        "/api/users/me", {"password": STRONG_PASSWORD, "current_password": DEFAULT_PASSWORD}, format="json"
    )
    anon_api = APIClient()
    for path in ("/api/auth/refresh", "/api/auth/logout"):
        response = post(anon_api, path, {"refresh": pair["refresh"]})
        assert response.status_code == 401
        assert "password of this account was changed" in response.json()["detail"]
        assert "already used" not in response.json()["detail"]
    assert set(RefreshToken.objects.values_list("revoked_reason", flat=True)) == {"password_changed"}


def test_a_weak_new_password_is_400_on_password():
    user = UserFactory()
    response = bearer_client(user).patch(
        "/api/users/me", {"password": "12345678", "current_password": DEFAULT_PASSWORD}, format="json"
    )
    assert response.status_code == 400 and "password" in response.json()
    user.refresh_from_db()
    assert user.check_password(DEFAULT_PASSWORD)


def test_nothing_to_change_is_a_200_no_op():
    user = UserFactory()
    login_pair(user)
    response = bearer_client(user).patch(
        "/api/users/me", {"email": user.email.upper(), "current_password": DEFAULT_PASSWORD}, format="json"
    )
    assert response.status_code == 200 and response.json()["email"] == user.email
    assert RefreshToken.objects.active().count() == 1


# ------------------------------------------------------------------ throttles


def test_login_is_throttled_per_client_address(anon_api, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "auth_ip": "3/min"},
    }
    for n in range(3):
        body = {"email": f"p{n}@example.com", "password": "whatever-it-is"}
        assert post(anon_api, "/api/auth/login", body).status_code == 401
    response = post(anon_api, "/api/auth/login", {"email": "p9@example.com", "password": "whatever-it-is"})
    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= 60
    # Another address is not affected.
    other = APIClient(REMOTE_ADDR="10.0.0.2")
    assert post(other, "/api/auth/login", {"email": "p9@example.com", "password": "x"}).status_code == 401


def test_a_forged_forwarded_for_header_does_not_escape_the_address_throttle(anon_api, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "auth_ip": "2/min"},
    }
    statuses = [
        anon_api.post(
            "/api/auth/login",
            {"email": f"x{n}@example.com", "password": "guess"},
            format="json",
            HTTP_X_FORWARDED_FOR=f"203.0.113.{n}",
        ).status_code
        for n in range(3)
    ]
    assert statuses == [401, 401, 429]


def test_behind_a_proxy_the_forwarded_address_is_used(anon_api, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "NUM_PROXIES": 1,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "auth_ip": "1/min"},
    }
    statuses = [
        anon_api.post(
            "/api/auth/login",
            {"email": f"y{n}@example.com", "password": "guess"},
            format="json",
            HTTP_X_FORWARDED_FOR=f"198.51.100.{n}",
        ).status_code
        for n in (1, 2, 2)
    ]
    assert statuses == [401, 401, 429]


def test_after_too_many_failures_an_account_waits_whatever_the_address(settings):
    settings.LOGIN_ACCOUNT_FAILURES = 2
    user = UserFactory(email="target@example.com")
    assert (
        post(
            APIClient(REMOTE_ADDR="10.0.1.0"), "/api/auth/login", {"email": "TARGET@example.com", "password": "guess"}
        ).status_code
        == 401
    )
    # The second failure starts the delay, and says so.
    blocked = post(APIClient(REMOTE_ADDR="10.0.1.1"), "/api/auth/login", {"email": user.email, "password": "guess"})
    assert blocked.status_code == 429 and blocked["Retry-After"] == "60"
    assert blocked.json()["detail"] == "Too many failed sign-ins for this account; try again in 1 minute."
    # During the delay the right password is refused too, from any address.
    right = post(
        APIClient(REMOTE_ADDR="10.0.1.8"), "/api/auth/login", {"email": user.email, "password": DEFAULT_PASSWORD}
    )
    assert right.status_code == 429
    other = post(
        APIClient(REMOTE_ADDR="10.0.1.9"), "/api/auth/login", {"email": "someone-else@example.com", "password": "guess"}
    )
    assert other.status_code == 401


def test_register_is_throttled_per_client_address(anon_api, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "auth_ip": "2/min"},
    }
    for n in range(2):
        assert (
            post(
                anon_api, "/api/auth/register", {"email": f"r{n}@example.com", "password": STRONG_PASSWORD}
            ).status_code
            == 201
        )
    response = post(anon_api, "/api/auth/register", {"email": "r9@example.com", "password": STRONG_PASSWORD})
    assert response.status_code == 429 and "Retry-After" in response
    assert not User.objects.filter(email="r9@example.com").exists()
