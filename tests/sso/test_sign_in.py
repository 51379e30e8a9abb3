"""Signing in with OpenID Connect against a real provider served over HTTP by the test
(tests/support/oidc_provider.py): discovery, code + PKCE, the ID token's checks, accounts
and REGISTRATION, groups and the admin claim."""

import base64
import hashlib
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.auth import get_user_model

from audit.models import AuditEntry
from sso.models import Identity
from teams.models import Membership
from tests.factories import DEFAULT_PASSWORD, AdminFactory, UserFactory
from tests.sso.conftest import sign_in

pytestmark = pytest.mark.django_db
User = get_user_model()


def session_user_id(client):
    return client.session.get("_auth_user_id")


def test_the_login_page_offers_the_provider_and_login_starts_from_discovery(client, oidc_provider):
    page = client.get("/login")
    assert b"Sign in with Test ID" in page.content
    started = client.get("/sso/login")
    assert started.status_code == 302
    url = urlsplit(started["Location"])
    # The endpoint is the discovery document's, not a guess from the issuer.
    assert f"{url.scheme}://{url.netloc}{url.path}" == oidc_provider.discovery()["authorization_endpoint"]
    params = {k: v[0] for k, v in parse_qs(url.query).items()}
    assert params["response_type"] == "code"
    assert params["client_id"] == "studio"
    assert params["redirect_uri"] == "http://testserver/sso/callback"
    assert set(params["scope"].split()) >= {"openid", "email"}
    assert params["code_challenge_method"] == "S256"
    assert len(params["state"]) >= 20 and len(params["nonce"]) >= 20
    assert len(params["code_challenge"]) == 43  # base64url of a SHA-256


def test_code_with_pkce_signs_in_and_creates_the_account(client, oidc_provider, settings):
    settings.REGISTRATION = "open"
    oidc_provider.user = {"sub": "abc-1", "email": "New.Person@Example.com", "email_verified": True}
    response = sign_in(client, oidc_provider)
    assert response.status_code == 302 and response["Location"] == "/"
    user = User.objects.get(email="new.person@example.com")
    assert session_user_id(client) == str(user.pk)
    assert user.is_active and not user.has_usable_password()
    assert Identity.objects.get(user=user).subject == "abc-1"
    # PKCE: the verifier sent to the token endpoint is the one whose S256 was sent first.
    challenge = oidc_provider.authorize_requests[-1]["code_challenge"]
    verifier = oidc_provider.token_requests[-1]["code_verifier"]
    digest = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    assert digest == challenge
    assert oidc_provider.token_requests[-1]["basic_client_id"] == "studio"
    assert client.get("/users/profile").status_code == 200


def test_next_path_is_kept_through_the_round_trip(client, oidc_provider):
    response = sign_in(client, oidc_provider, start="/sso/login?next=/usage")
    assert response.status_code == 302 and response["Location"] == "/usage"


def test_a_foreign_next_is_not_followed(client, oidc_provider):
    response = sign_in(client, oidc_provider, start="/sso/login?next=//evil.example/")
    assert response["Location"] == "/"


def test_an_existing_account_is_matched_by_verified_email_and_the_api_keeps_its_own_tokens(client, oidc_provider):
    existing = UserFactory(email="person@example.com")
    oidc_provider.user = {"sub": "s-9", "email": "PERSON@example.com", "email_verified": True}
    assert sign_in(client, oidc_provider).status_code == 302
    assert session_user_id(client) == str(existing.pk)
    assert User.objects.count() == 1
    # The API's login is untouched: its own JWTs, for the same person.
    answer = client.post(
        "/api/auth/login",
        {"email": "person@example.com", "password": DEFAULT_PASSWORD},
        content_type="application/json",
    )
    assert answer.status_code == 200, answer.content
    access = answer.json()["access"]
    assert "." in access and access.count(".") == 2
    me = client.get("/api/users/me", HTTP_AUTHORIZATION=f"Bearer {access}")
    assert me.status_code == 200 and me.json()["email"] == "person@example.com"


def test_the_linked_identity_decides_even_after_the_address_changes_at_the_provider(client, oidc_provider):
    oidc_provider.user = {"sub": "stable", "email": "first@example.com", "email_verified": True}
    sign_in(client, oidc_provider)
    first = User.objects.get(email="first@example.com")
    client.logout()
    oidc_provider.user = {"sub": "stable", "email": "second@example.com", "email_verified": False}
    assert sign_in(client, oidc_provider).status_code == 302
    assert session_user_id(client) == str(first.pk)
    assert not User.objects.filter(email="second@example.com").exists()


@pytest.mark.parametrize(
    ("misbehaviour", "value"),
    [("audience", "another-client"), ("sign_with_foreign_key", True), ("nonce", "not-the-one-sent"), ("expired", True)],
)
def test_an_id_token_that_fails_a_check_is_refused(client, oidc_provider, misbehaviour, value):
    setattr(oidc_provider, misbehaviour, value)
    response = sign_in(client, oidc_provider)
    assert response.status_code == 400
    assert b"could not be verified" in response.content
    assert session_user_id(client) is None
    assert not User.objects.exists()


def test_a_token_response_without_an_id_token_is_refused(client, oidc_provider):
    oidc_provider.omit_id_token = True
    response = sign_in(client, oidc_provider)
    assert response.status_code == 400
    assert session_user_id(client) is None
    assert not User.objects.exists()


def test_discovery_is_read_again_once_it_is_old(client, oidc_provider, monkeypatch):
    from sso import client as sso_client

    assert sign_in(client, oidc_provider).status_code == 302
    first = sso_client._client()
    monkeypatch.setitem(
        first.server_metadata, "_loaded_at", first.server_metadata["_loaded_at"] - 2 * sso_client.METADATA_MAX_AGE
    )
    assert sso_client._client() is not first


def test_a_token_for_another_audience_is_refused_even_when_it_names_us_as_azp(client, oidc_provider):
    oidc_provider.audience, oidc_provider.azp = "another-client", "studio"
    response = sign_in(client, oidc_provider)
    assert response.status_code == 400
    assert session_user_id(client) is None


def test_a_wrong_client_secret_is_refused_by_the_provider(client, oidc_provider, settings):
    settings.OIDC_CLIENT_SECRET = "wrong"
    response = sign_in(client, oidc_provider)
    assert response.status_code == 400
    assert session_user_id(client) is None


def test_a_callback_with_another_state_or_replayed_is_refused(client, oidc_provider):
    import requests

    started = client.get("/sso/login")
    back = requests.get(started["Location"], allow_redirects=False, timeout=10).headers["Location"]
    path = back.removeprefix("http://testserver")
    forged = path.replace("state=", "state=x")
    assert client.get(forged).status_code == 400
    assert session_user_id(client) is None
    # The real one still works once, not twice.
    assert client.get(path).status_code == 302
    client.logout()
    assert client.get(path).status_code == 400
    assert session_user_id(client) is None


def test_an_unverified_email_is_not_matched_to_an_existing_account(client, oidc_provider):
    existing = UserFactory(email="victim@example.com")
    oidc_provider.user = {"sub": "attacker", "email": "victim@example.com", "email_verified": False}
    response = sign_in(client, oidc_provider)
    assert response.status_code == 403
    assert b"has not verified the email address" in response.content
    assert session_user_id(client) is None
    assert not Identity.objects.filter(user=existing).exists()


def test_no_email_verified_claim_counts_as_unverified(client, oidc_provider):
    UserFactory(email="person@example.com")
    oidc_provider.user = {"sub": "x", "email": "person@example.com"}
    assert sign_in(client, oidc_provider).status_code == 403


def test_registration_closed_admits_existing_accounts_only(client, oidc_provider, settings):
    settings.REGISTRATION = "closed"
    oidc_provider.user = {"sub": "u1", "email": "stranger@example.com", "email_verified": True}
    refused = sign_in(client, oidc_provider)
    assert refused.status_code == 403 and b"registration is closed" in refused.content
    assert not User.objects.exists()
    member = UserFactory(email="member@example.com")
    oidc_provider.user = {"sub": "u2", "email": "member@example.com", "email_verified": True}
    assert sign_in(client, oidc_provider).status_code == 302
    assert session_user_id(client) == str(member.pk)


def test_registration_approval_creates_the_account_and_holds_it(client, oidc_provider, settings, admin_user):
    from accounts import services

    settings.REGISTRATION = "approval"
    oidc_provider.user = {"sub": "u1", "email": "waiting@example.com", "email_verified": True}
    held = sign_in(client, oidc_provider)
    assert held.status_code == 401 and b"waiting for approval" in held.content
    user = User.objects.get(email="waiting@example.com")
    assert user.is_pending and session_user_id(client) is None
    assert sign_in(client, oidc_provider).status_code == 401  # still held, no second account
    assert User.objects.filter(email="waiting@example.com").count() == 1
    services.user_approve(user=user)
    assert sign_in(client, oidc_provider).status_code == 302
    assert session_user_id(client) == str(user.pk)


def test_a_deactivated_account_is_refused(client, oidc_provider):
    UserFactory(email="person@example.com", is_active=False)
    response = sign_in(client, oidc_provider)
    assert response.status_code == 403 and b"deactivated" in response.content
    assert session_user_id(client) is None


def test_the_groups_claim_maps_to_existing_groups_with_audit_entries(client, oidc_provider, settings, admin_user):
    from teams import services as teams

    settings.OIDC_GROUPS_CLAIM = "groups"
    research = teams.team_create(by=admin_user, name="Research")
    ops = teams.team_create(by=admin_user, name="Ops")
    design = teams.team_create(by=admin_user, name="Design")
    oidc_provider.user = {
        "sub": "g1",
        "email": "member@example.com",
        "email_verified": True,
        "groups": ["research", "/Company/Ops", "No Such Group"],
    }
    sign_in(client, oidc_provider)
    user = User.objects.get(email="member@example.com")
    assert set(Membership.objects.filter(user=user).values_list("team__name", flat=True)) == {"Research", "Ops"}
    added = AuditEntry.objects.filter(action=AuditEntry.Action.GROUP_MEMBERSHIP_CHANGED, after__user_id=user.pk)
    assert added.count() == 2
    # An administrator's own addition is not the provider's to take away.
    teams.member_add(team=design, user=user, by=admin_user)
    client.logout()
    oidc_provider.user = {**oidc_provider.user, "groups": ["Research"]}
    sign_in(client, oidc_provider)
    assert set(Membership.objects.filter(user=user).values_list("team__name", flat=True)) == {"Research", "Design"}
    assert not Membership.objects.filter(user=user, team=ops).exists()
    assert Membership.objects.filter(user=user, team=research).exists()


def test_without_a_groups_claim_setting_memberships_are_left_alone(client, oidc_provider, admin_user):
    from teams import services as teams

    team = teams.team_create(by=admin_user, name="Research")
    oidc_provider.user = {"sub": "g1", "email": "m@example.com", "email_verified": True, "groups": ["Research"]}
    sign_in(client, oidc_provider)
    assert not Membership.objects.filter(team=team).exists()


def test_the_admin_claim_promotes_and_its_loss_demotes_only_whom_it_promoted(client, oidc_provider, settings):
    settings.OIDC_ADMIN_CLAIM = "roles"
    settings.OIDC_ADMIN_VALUE = "studio-admin"
    AdminFactory()  # someone else stays an administrator
    oidc_provider.user = {"sub": "a1", "email": "boss@example.com", "email_verified": True, "roles": ["studio-admin"]}
    sign_in(client, oidc_provider)
    boss = User.objects.get(email="boss@example.com")
    assert boss.is_admin
    assert AuditEntry.objects.filter(action=AuditEntry.Action.USER_ROLE_CHANGED, target_id=str(boss.pk)).exists()
    client.logout()
    oidc_provider.user = {**oidc_provider.user, "roles": ["viewer"]}
    sign_in(client, oidc_provider)
    boss.refresh_from_db()
    assert not boss.is_admin
    # An administrator made in Studio keeps the role without the claim.
    local_admin = AdminFactory(email="local@example.com")
    client.logout()
    oidc_provider.user = {"sub": "a2", "email": "local@example.com", "email_verified": True, "roles": []}
    sign_in(client, oidc_provider)
    local_admin.refresh_from_db()
    assert local_admin.is_admin


def test_a_provider_that_does_not_answer_is_a_502_on_the_login_page(client, settings):
    from sso import client as sso_client
    from tests.support.asgi import free_port

    settings.OIDC_ISSUER = f"http://127.0.0.1:{free_port()}"
    settings.OIDC_CLIENT_ID = "studio"
    settings.OIDC_TIMEOUT = 2
    sso_client._app.cache_clear()
    response = client.get("/sso/login")
    assert response.status_code == 502
    assert b"could not be reached" in response.content
    sso_client._app.cache_clear()


def test_without_configuration_there_is_no_button_and_no_flow(client, settings):
    settings.OIDC_ISSUER = ""
    assert b"Sign in with" not in client.get("/login").content
    assert client.get("/sso/login").status_code == 404
    assert client.get("/sso/callback?code=x&state=y").status_code == 404


@pytest.mark.parametrize("who", ["anonymous", "user", "other_user", "admin"])
def test_authorization_of_the_sso_endpoints(client, oidc_provider, who):
    """Anyone may start a sign-in; a signed-in person is sent on instead; a callback that is
    not the answer to this browser's own request signs nobody in or out, whoever asks."""
    person = {"anonymous": None, "user": UserFactory(), "other_user": UserFactory(), "admin": AdminFactory()}[who]
    if person is not None:
        client.force_login(person)
    started = client.get("/sso/login")
    assert started.status_code == 302
    if person is None:
        assert started["Location"].startswith(oidc_provider.issuer)
    else:
        assert started["Location"] == "/"
    forged = client.get("/sso/callback?code=stolen&state=made-up")
    assert forged.status_code == 400
    assert session_user_id(client) == (str(person.pk) if person else None)


def test_failed_sign_ins_count_against_the_address_like_failed_passwords(client, oidc_provider, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "auth_ip": "2/min"},
    }
    assert sign_in(client, oidc_provider).status_code == 302  # a success uses nothing up
    client.logout()
    assert client.get("/sso/callback?code=x&state=forged").status_code == 400
    assert client.get("/sso/callback?code=x&state=forged").status_code == 400
    refused = client.get("/sso/login")
    assert refused.status_code == 429 and int(refused["Retry-After"]) >= 1
    assert b"Too many attempts" in refused.content
    assert client.get("/sso/callback?code=x&state=forged").status_code == 429


def test_an_account_waiting_for_approval_is_not_a_failed_attempt(client, oidc_provider, settings):
    settings.REGISTRATION = "approval"
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "auth_ip": "1/min"},
    }
    for _ in range(3):
        assert sign_in(client, oidc_provider).status_code == 401


def test_a_discovery_document_of_another_issuer_is_refused(client, oidc_provider, settings):
    from sso import client as sso_client

    settings.OIDC_ISSUER = oidc_provider.issuer.replace("127.0.0.1", "localhost")
    sso_client._app.cache_clear()
    response = client.get("/sso/login")
    assert response.status_code == 502 and b"names another issuer" in response.content


def test_a_sign_in_cancelled_at_the_provider_says_so(client, oidc_provider):
    client.get("/sso/login")
    state = next(key for key in client.session.keys() if key.startswith("_state_oidc_")).removeprefix("_state_oidc_")
    response = client.get(f"/sso/callback?error=access_denied&state={state}")
    assert response.status_code == 400 and b"cancelled at the identity provider" in response.content


def test_an_account_made_by_single_sign_on_gets_a_personal_api_key_from_its_web_session(client, oidc_provider):
    import re

    oidc_provider.user = {"sub": "k1", "email": "keys@example.com", "email_verified": True}
    assert sign_in(client, oidc_provider).status_code == 302
    page = client.post("/users/profile/keys", {"name": "laptop"})
    assert page.status_code == 200
    secret = re.search(rb"sk-studio-[A-Za-z0-9_\-]+", page.content).group().decode()
    models = client.get("/v1/models", HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert models.status_code == 200 and models.json()["object"] == "list"
    # The provider's tokens are not Studio's: neither its access token nor its ID token opens the API.
    issued = oidc_provider.issued_tokens[-1]
    for foreign in (issued["access_token"], issued["id_token"]):
        assert client.get("/api/users/me", HTTP_AUTHORIZATION=f"Bearer {foreign}").status_code == 401


def test_an_account_with_a_second_factor_takes_that_step_after_the_provider(client, oidc_provider):
    from tests.support.two_factor import code_for, enrol

    existing = UserFactory(email="person@example.com")
    secret, _ = enrol(existing)
    oidc_provider.user = {"sub": "s-2fa", "email": "person@example.com", "email_verified": True}
    back = sign_in(client, oidc_provider, start="/sso/login?next=/history")
    assert back.status_code == 302 and back["Location"] == "/login/two-factor"
    assert session_user_id(client) is None  # not signed in before the code
    done = client.post("/login/two-factor", {"code": code_for(secret)})
    assert done.status_code == 302 and done["Location"] == "/history"
    assert session_user_id(client) == str(existing.pk)
