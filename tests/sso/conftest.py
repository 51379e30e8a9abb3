import pytest

from tests.support.oidc_provider import OidcTestProvider

CLIENT_ID = "studio"
CLIENT_SECRET = "studio-secret"


@pytest.fixture
def oidc_provider(settings):
    """The local OpenID Connect provider over HTTP, and Studio configured for it (the Django
    test client's host, so the callback is http://testserver/sso/callback)."""
    from sso import client

    with OidcTestProvider(
        client_id=CLIENT_ID, client_secret=CLIENT_SECRET, redirect_uri="http://testserver/sso/callback"
    ) as provider:
        settings.OIDC_ISSUER = provider.issuer
        settings.OIDC_CLIENT_ID = CLIENT_ID
        settings.OIDC_CLIENT_SECRET = CLIENT_SECRET
        settings.OIDC_PROVIDER_NAME = "Test ID"
        client._app.cache_clear()
        yield provider
    client._app.cache_clear()


def sign_in(django_client, provider, *, start: str = "/sso/login"):
    """A browser's round trip: Studio sends it to the provider, the provider (consent given)
    sends it back to the callback; returns the callback's response."""
    import requests

    started = django_client.get(start)
    assert started.status_code == 302, started.content[:300]
    assert started["Location"].startswith(provider.issuer + "/authorize?")
    at_provider = requests.get(started["Location"], allow_redirects=False, timeout=10)
    assert at_provider.status_code == 302, at_provider.text
    back = at_provider.headers["Location"]
    assert back.startswith("http://testserver/sso/callback?")
    return django_client.get(back.removeprefix("http://testserver"))
