"""Single sign-on in a browser: "Sign in with …" on the login page, the round trip through
the local OpenID Connect provider (tests/support/oidc_provider.py, real HTTP), and back on
Studio signed in; a refused sign-in shown on the login page."""

import pytest

from tests.support.oidc_provider import OidcTestProvider

pytestmark = pytest.mark.e2e


@pytest.fixture
def provider(asgi_server, settings):
    from sso import client

    with OidcTestProvider(
        client_id="studio", client_secret="studio-secret", redirect_uri=f"{asgi_server.url}/sso/callback"
    ) as op:
        settings.OIDC_ISSUER = op.issuer
        settings.OIDC_CLIENT_ID = "studio"
        settings.OIDC_CLIENT_SECRET = "studio-secret"
        settings.OIDC_PROVIDER_NAME = "Example ID"
        settings.OIDC_GROUPS_CLAIM = "groups"
        client._app.cache_clear()
        yield op
    client._app.cache_clear()


def test_sign_in_with_the_provider_lands_signed_in(page, provider, settings, admin_user):
    from accounts.models import User
    from teams import services as teams
    from teams.models import Membership

    settings.REGISTRATION = "open"
    research = teams.team_create(by=admin_user, name="Research")
    provider.user = {"sub": "kc-42", "email": "ada@example.com", "email_verified": True, "groups": ["/Research"]}
    page.goto("/login?next=/usage")
    page.get_by_role("link", name="Sign in with Example ID").click()
    page.wait_for_url(lambda url: url.endswith("/usage"))
    assert page.get_by_test_id("header-email").inner_text() == "ada@example.com"
    user = User.objects.get(email="ada@example.com")
    assert Membership.objects.filter(team=research, user=user).exists()
    # The provider saw PKCE (S256) and a nonce, and the token request carried the verifier.
    assert provider.authorize_requests[-1]["code_challenge_method"] == "S256"
    assert provider.authorize_requests[-1]["nonce"]
    assert provider.token_requests[-1]["code_verifier"]
    # Signed in for real: a page that needs a session answers.
    page.goto("/users/profile")
    assert page.url.endswith("/users/profile")


def test_a_refused_sign_in_says_why_on_the_login_page(page, provider, settings):
    settings.REGISTRATION = "closed"
    provider.user = {"sub": "kc-7", "email": "stranger@example.com", "email_verified": True}
    page.goto("/login")
    page.get_by_role("link", name="Sign in with Example ID").click()
    page.wait_for_url(lambda url: "/sso/callback" in url)
    alert = page.get_by_test_id("sso").get_by_role("alert")
    assert "registration is closed" in alert.inner_text()
    assert page.get_by_test_id("header-email").count() == 0
