"""Login limits that one client cannot turn against others, sessions that end when they
should, and JWTs signed with a key of their own."""

import hashlib
import hmac
import logging
import threading
import time

import jwt as pyjwt
import pytest
from django.db import connection, connections
from django.test import Client
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from accounts import services, throttles, tokens
from accounts.checks import check_proxy_addresses
from accounts.models import RefreshToken, User
from core.errors import Conflict
from tests.conftest import run_manage
from tests.factories import DEFAULT_PASSWORD, AdminFactory, UserFactory
from tests.support.accounts import STRONG_PASSWORD, bearer_client, login_pair

pytestmark = pytest.mark.django_db


def rates(settings, **scoped):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], **scoped},
    }


def api_login(address: str, email: str, password: str):
    return APIClient(REMOTE_ADDR=address).post("/api/auth/login", {"email": email, "password": password}, format="json")


def web_login(address: str, email: str, password: str, next_path: str = ""):
    url = "/login" + (f"?next={next_path}" if next_path else "")
    return Client(REMOTE_ADDR=address).post(url, {"username": email, "password": password})


def bearer(access: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return client


# ------------------------------------------------------------------ 5: the Django admin's login


def test_the_admin_login_page_is_the_sites_login_page():
    response = Client().get("/admin/login/", {"next": "/admin/accounts/user/"})
    assert response.status_code == 302
    assert response["Location"] == "/login?next=%2Fadmin%2Faccounts%2Fuser%2F"
    assert Client().get("/admin/login/")["Location"] == "/login?next=%2Fadmin%2F"


def test_passwords_posted_to_the_admin_login_are_never_checked(monkeypatch):
    admin = AdminFactory()
    checked = []
    monkeypatch.setattr(User, "check_password", lambda self, raw: checked.append(raw) or True)
    client = Client()
    response = client.post("/admin/login/?next=/admin/", {"username": admin.email, "password": "guess"})
    assert response.status_code == 302 and response["Location"].startswith("/login?next=")
    assert checked == [] and "_auth_user_id" not in client.session


def test_admin_sign_in_has_the_sites_failed_login_limits(settings):
    rates(settings, auth_ip="3/min")
    admin = AdminFactory()
    for _ in range(3):
        assert web_login("10.9.0.1", admin.email, "guess", "/admin/").status_code == 200
    assert web_login("10.9.0.1", admin.email, DEFAULT_PASSWORD, "/admin/").status_code == 429
    # From another address the right password signs in and lands in the admin.
    client = Client(REMOTE_ADDR="10.9.0.2")
    response = client.post("/login?next=/admin/", {"username": admin.email, "password": DEFAULT_PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200
    assert client.get("/admin/login/")["Location"] == "/admin/"


def test_a_signed_in_user_without_admin_rights_is_not_sent_round_in_circles():
    client = Client()
    client.force_login(UserFactory())
    response = client.get("/admin/login/", {"next": "/admin/"}, follow=True)
    assert response.redirect_chain[-1][0] == "/"
    assert b"no access to the administration" in response.content


# ------------------------------------------------------------------ 6: addresses behind a proxy


def _setting(env: dict, tmp_path, expression: str) -> str:
    result = run_manage(
        "shell",
        "-c",
        f"from django.conf import settings; print({expression})",
        env={"DATA_DIR": str(tmp_path), "JWT_SIGNING_KEY": "", **env},
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


@pytest.mark.parametrize(
    "env, expected",
    [
        ({}, "0"),
        ({"HTTPS": "true"}, "1"),
        ({"SECURE_PROXY_SSL": "true"}, "1"),
        ({"HTTPS": "true", "NUM_PROXIES": "2"}, "2"),
    ],
)
def test_behind_https_the_app_counts_one_proxy_by_default(tmp_path, env, expected):
    assert _setting(env, tmp_path, "settings.REST_FRAMEWORK['NUM_PROXIES']") == expected


def test_check_deploy_warns_about_https_without_a_proxy_count(settings):
    settings.SECURE_SSL_REDIRECT = True
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 0}
    assert [w.id for w in check_proxy_addresses()] == ["accounts.W001"]
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    assert check_proxy_addresses() == []
    settings.SECURE_SSL_REDIRECT, settings.HTTPS = False, False
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 0}
    assert check_proxy_addresses() == []


def test_a_forwarded_for_header_without_num_proxies_is_logged_once(monkeypatch, caplog):
    monkeypatch.setattr(throttles, "_warned_unused_forwarded_for", False)
    with caplog.at_level(logging.WARNING, logger="accounts.throttles"):
        for n in range(3):
            APIClient().post(
                "/api/auth/login",
                {"email": f"f{n}@example.com", "password": "guess"},
                format="json",
                HTTP_X_FORWARDED_FOR=f"203.0.113.{n}",
            )
    warnings = [r for r in caplog.records if "NUM_PROXIES is 0" in r.getMessage()]
    assert len(warnings) == 1


def test_behind_a_proxy_one_clients_failures_do_not_lock_out_another(settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    user = UserFactory()
    proxy = APIClient(REMOTE_ADDR="127.0.0.1")
    for n in range(30):
        proxy.post(
            "/api/auth/login",
            {"email": f"g{n}@example.com", "password": "guess"},
            format="json",
            HTTP_X_FORWARDED_FOR="203.0.113.66",
        )
    response = proxy.post(
        "/api/auth/login",
        {"email": user.email, "password": DEFAULT_PASSWORD},
        format="json",
        HTTP_X_FORWARDED_FOR="198.51.100.7",
    )
    assert response.status_code == 200


def test_api_login_counts_failures_not_successes_per_email(settings):
    rates(settings, auth_email="2/min")
    user = UserFactory()
    for n in range(3):
        assert api_login(f"10.2.0.{n}", user.email, DEFAULT_PASSWORD).status_code == 200
    assert api_login("10.2.0.9", user.email, "guess").status_code == 401


@pytest.mark.parametrize("login", [api_login, web_login], ids=["api", "web"])
def test_during_an_accounts_delay_the_right_password_is_refused_unchecked(settings, monkeypatch, login):
    settings.LOGIN_ACCOUNT_FAILURES = 2
    user = UserFactory()
    failed = 401 if login is api_login else 200
    assert login("10.3.0.1", user.email.upper(), "guess").status_code == failed
    delayed = login("10.3.0.2", user.email, "guess")
    assert delayed.status_code == 429 and delayed["Retry-After"] == "60"
    assert b"Too many failed sign-ins for this account; try again in 1 minute." in delayed.content
    checked = []
    monkeypatch.setattr(User, "check_password", lambda self, raw: checked.append(raw) or True)
    assert login("10.3.0.8", user.email, DEFAULT_PASSWORD).status_code == 429
    assert checked == []
    monkeypatch.undo()
    # Another email is not affected.
    assert login("10.3.0.8", "someone-else@example.com", "guess").status_code == failed


@pytest.mark.parametrize("login", [api_login, web_login], ids=["api", "web"])
def test_an_address_with_too_many_failures_is_refused_before_any_password_check(settings, monkeypatch, login):
    rates(settings, auth_ip="2/min")
    user = UserFactory()
    for _ in range(2):
        login("10.4.0.1", user.email, "guess")
    checked = []
    monkeypatch.setattr(User, "check_password", lambda self, raw: checked.append(raw) or True)
    assert login("10.4.0.1", user.email, DEFAULT_PASSWORD).status_code == 429
    assert checked == []


# ------------------------------------------------------------------ 7: access tokens and sessions end


def test_a_password_change_refuses_the_access_tokens_already_issued():
    user = UserFactory()
    access = login_pair(user)["access"]
    assert bearer(access).get("/api/users/me").status_code == 200
    changed = bearer(access).put(
        "/api/users/me", {"password": STRONG_PASSWORD, "current_password": DEFAULT_PASSWORD}, format="json"
    )
    assert changed.status_code == 200
    refused = bearer(access).get("/api/users/me")
    assert refused.status_code == 401 and refused.json()["code"] == "token_not_valid"
    assert bearer(login_pair(user, STRONG_PASSWORD)["access"]).get("/api/users/me").status_code == 200


def test_log_out_everywhere_through_the_api_ends_every_session():
    user = UserFactory()
    first, second = login_pair(user), login_pair(user)
    browser = Client()
    browser.force_login(user)
    assert bearer(first["access"]).post("/api/users/me/logout-all").status_code == 204
    for pair in (first, second):
        assert bearer(pair["access"]).get("/api/users/me").status_code == 401
        refreshed = APIClient().post("/api/auth/refresh", {"refresh": pair["refresh"]}, format="json")
        assert refreshed.status_code == 401 and "log out everywhere" in refreshed.json()["detail"]
    assert not RefreshToken.objects.active().exists()
    assert browser.get("/").status_code == 302  # the web session ended too
    assert APIClient().post("/api/users/me/logout-all").status_code == 401


def test_the_profile_pages_log_out_everywhere_button_ends_every_session():
    user = UserFactory()
    pair = login_pair(user)
    here, elsewhere = Client(), Client()
    here.force_login(user)
    elsewhere.force_login(user)
    assert b'data-testid="logout-all"' in here.get("/users/profile").content
    response = here.post("/users/profile/logout-all", follow=True)
    assert response.redirect_chain[-1][0] == "/login"
    assert b"logged out everywhere" in response.content
    assert here.get("/").status_code == 302 and elsewhere.get("/").status_code == 302
    assert bearer(pair["access"]).get("/api/users/me").status_code == 401
    assert Client().get("/users/profile/logout-all").status_code == 302  # to the login page


def test_a_web_password_change_keeps_this_session_and_ends_the_others():
    user = UserFactory()
    here, elsewhere = Client(), Client()
    here.force_login(user)
    elsewhere.force_login(user)
    access = login_pair(user)["access"]
    response = here.post(
        "/users/profile",
        {
            "email": user.email,
            "new_password": STRONG_PASSWORD,
            "new_password_confirm": STRONG_PASSWORD,
            "current_password": DEFAULT_PASSWORD,
        },
    )
    assert response.status_code == 302
    assert here.get("/").status_code == 200 and elsewhere.get("/").status_code == 302
    assert bearer(access).get("/api/users/me").status_code == 401


def test_deactivation_refuses_old_access_tokens_even_after_reactivation():
    user = UserFactory()
    access = login_pair(user)["access"]
    services.user_update(user=user, is_active=False)
    services.user_update(user=user, is_active=True)
    assert bearer(access).get("/api/users/me").status_code == 401


def test_the_version_check_costs_no_query_of_its_own():
    user = UserFactory()
    client = bearer_client(user)
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/api/users/me").status_code == 200
    assert len(queries) == 1, [q["sql"] for q in queries]


def test_tokens_carry_the_version_and_older_ones_are_refused():
    user = UserFactory()
    pair = tokens.token_pair_issue(user=user)
    assert pyjwt.decode(pair.access, options={"verify_signature": False})["ver"] == 0
    assert pyjwt.decode(pair.refresh, options={"verify_signature": False})["ver"] == 0
    # A refresh row that outlived the end of all sessions is still refused by its version.
    User.objects.filter(pk=user.pk).update(token_version=1)
    refreshed = APIClient().post("/api/auth/refresh", {"refresh": pair.refresh}, format="json")
    assert refreshed.status_code == 401 and refreshed.json()["detail"] == tokens.STALE_VERSION_MESSAGE
    assert bearer(pair.access).get("/api/users/me").status_code == 401


def test_the_schema_documents_log_out_everywhere_and_the_new_throttles():
    import yaml

    schema = yaml.safe_load(Client().get("/api/schema/").content)
    operation = schema["paths"]["/api/users/me/logout-all"]["post"]
    assert {"204", "401"} <= set(operation["responses"]) and {"jwtAuth": []} in operation["security"]
    for path, method in (
        ("/api/auth/refresh", "post"),
        ("/api/auth/logout", "post"),
        ("/api/users/me", "put"),
        ("/api/users/me", "patch"),
    ):
        assert "429" in schema["paths"][path][method]["responses"], (path, method)


# ------------------------------------------------------------------ 8: refresh racing a password change


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_refresh_racing_a_password_change_does_not_survive_it(monkeypatch):
    if connection.vendor != "postgresql":
        pytest.skip("row locks: PostgreSQL only (DuckDB refuses the second writer instead)")
    user = UserFactory()
    old = tokens.token_pair_issue(user=user)
    issued, release = threading.Event(), threading.Event()
    original = tokens.token_pair_issue

    def held_issue(**kwargs):
        pair = original(**kwargs)  # the new row is inserted, not yet committed
        issued.set()
        release.wait(timeout=10)
        return pair

    monkeypatch.setattr(tokens, "token_pair_issue", held_issue)
    results = {}

    def run(name, call):
        try:
            results[name] = call()
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            results[name] = exc
        finally:
            connections.close_all()

    rotation = threading.Thread(target=run, args=("rotation", lambda: tokens.refresh_token_rotate(token=old.refresh)))
    rotation.start()
    assert issued.wait(timeout=10)
    change = threading.Thread(
        target=run,
        args=("change", lambda: services.user_update(user=User.objects.get(pk=user.pk), password=STRONG_PASSWORD)),
    )
    change.start()
    time.sleep(0.5)  # the password change is now waiting (fixed) or has run its revocation (not)
    release.set()
    rotation.join(timeout=20)
    change.join(timeout=20)
    assert not rotation.is_alive() and not change.is_alive()
    new = results["rotation"]
    assert isinstance(new, tokens.TokenPair), new
    assert isinstance(results["change"], User), results["change"]
    assert not RefreshToken.objects.active().exists(), "the rotation's new token outlived the password change"
    refreshed = APIClient().post("/api/auth/refresh", {"refresh": new.refresh}, format="json")
    assert refreshed.status_code == 401
    assert bearer(new.access).get("/api/users/me").status_code == 401


@pytest.mark.django_db(transaction=True)
def test_on_duckdb_a_refresh_and_a_password_change_at_once_cannot_both_win(monkeypatch):
    if connection.vendor != "duckdb":
        pytest.skip("DuckDB's write conflicts; PostgreSQL has the row-lock test above")
    user = UserFactory()
    old = tokens.token_pair_issue(user=user)
    issued, release = threading.Event(), threading.Event()
    original = tokens.token_pair_issue
    results = {}

    def held_issue(**kwargs):
        pair = original(**kwargs)
        issued.set()
        release.wait(timeout=10)
        return pair

    def rotate():
        try:
            results["rotation"] = tokens.refresh_token_rotate(token=old.refresh)
        except BaseException as exc:  # noqa: BLE001
            results["rotation"] = exc
        finally:
            connections.close_all()

    monkeypatch.setattr(tokens, "token_pair_issue", held_issue)
    rotation = threading.Thread(target=rotate)
    rotation.start()
    assert issued.wait(timeout=10)
    try:
        services.user_update(user=User.objects.get(pk=user.pk), password=STRONG_PASSWORD)
        changed = True
    except Conflict:
        changed = False
    finally:
        release.set()
        rotation.join(timeout=20)
    new = results["rotation"]
    if changed:  # the password change won: nothing the rotation issued is usable
        assert not RefreshToken.objects.active().exists()
        if isinstance(new, tokens.TokenPair):
            assert APIClient().post("/api/auth/refresh", {"refresh": new.refresh}, format="json").status_code == 401
    else:  # the rotation won: its token lives, the password is unchanged
        assert isinstance(new, tokens.TokenPair), new
        assert User.objects.get(pk=user.pk).check_password(DEFAULT_PASSWORD)


def test_refresh_and_logout_are_throttled_per_address(settings):
    rates(settings, token="2/min")
    client = APIClient(REMOTE_ADDR="10.5.0.1")
    assert client.post("/api/auth/refresh", {"refresh": "x"}, format="json").status_code == 401
    assert client.post("/api/auth/logout", {"refresh": "x"}, format="json").status_code == 401
    blocked = client.post("/api/auth/refresh", {"refresh": "x"}, format="json")
    assert blocked.status_code == 429 and "Retry-After" in blocked
    assert (
        APIClient(REMOTE_ADDR="10.5.0.2").post("/api/auth/logout", {"refresh": "x"}, format="json").status_code == 401
    )


def test_profile_changes_are_throttled_per_user_but_reading_is_not(settings):
    rates(settings, profile="2/min")
    user = UserFactory()
    client = bearer_client(user)
    for _ in range(2):
        assert client.put("/api/users/me", {"current_password": "guess"}, format="json").status_code == 400
    blocked = client.patch("/api/users/me", {"current_password": DEFAULT_PASSWORD}, format="json")
    assert blocked.status_code == 429 and "Retry-After" in blocked
    assert client.get("/api/users/me").status_code == 200
    assert (
        bearer_client(UserFactory()).put("/api/users/me", {"current_password": "guess"}, format="json").status_code
        == 400
    )
    page = Client()
    page.force_login(user)
    assert page.post("/users/profile", {"email": user.email, "current_password": "guess"}).status_code == 429


# ------------------------------------------------------------------ 9: the JWT signing key


def test_jwts_are_not_signed_with_the_secret_key(settings):
    assert settings.SIMPLE_JWT["SIGNING_KEY"] != settings.SECRET_KEY
    user = UserFactory()
    claims = pyjwt.decode(str(tokens.access_token_for(user=user)), options={"verify_signature": False})
    forged = pyjwt.encode(claims, settings.SECRET_KEY, algorithm="HS256")
    assert bearer(forged).get("/api/users/me").status_code == 401


def test_the_signing_key_is_its_own_setting_or_derived_from_the_secret_key(tmp_path):
    secret = "s" * 60
    derived = hmac.new(secret.encode(), b"studio jwt signing", hashlib.sha256).hexdigest()
    key = "settings.SIMPLE_JWT['SIGNING_KEY']"
    assert _setting({"SECRET_KEY": secret}, tmp_path, key) == derived
    assert _setting({"SECRET_KEY": secret, "JWT_SIGNING_KEY": "k" * 64}, tmp_path, key) == "k" * 64
