"""Every page a person or an administrator reaches, at a phone's width (390x844) and a
laptop's (1280x800), in light and dark mode: none is wider than its window, none has an
axe-core violation of any impact, and none needs something the Content-Security-Policy
refuses. Screenshots go to STUDIO_SHOTS when it is set (e.g. var/shots/after)."""

import pytest

from tests.e2e.site import CSP_LISTENER, admin_pages, anonymous_pages, check_page, seed, shots_dir, user_pages
from tests.factories import DEFAULT_PASSWORD, AdminFactory, UserFactory

pytestmark = pytest.mark.e2e

SIZES = {"phone": {"width": 390, "height": 844}, "laptop": {"width": 1280, "height": 800}}


@pytest.fixture
def demo(settings, transactional_db, media_root):
    from catalogue.services import catalogue_sync
    from openrouter.fake import FakeOpenRouter

    with FakeOpenRouter(port=0) as fake:
        settings.DEMO_MODE = True
        settings.OPENROUTER_BASE_URL = fake.base_url
        settings.OPENROUTER_API_KEY = "demo-key"
        catalogue_sync()
        yield fake


@pytest.fixture
def sso(settings, asgi_server):
    """A live OpenID Connect provider, so the login page shows "Sign in with …" and a
    refused sign-in's message is walked too."""
    from sso import client
    from tests.support.oidc_provider import OidcTestProvider

    with OidcTestProvider(client_id="studio", client_secret="s", redirect_uri=f"{asgi_server.url}/sso/callback") as op:
        settings.OIDC_ISSUER, settings.OIDC_CLIENT_ID, settings.OIDC_PROVIDER_NAME = op.issuer, "studio", "Example ID"
        client._app.cache_clear()
        yield op
    client._app.cache_clear()


def new_page(browser, server, size: str, scheme: str):
    context = browser.new_context(base_url=server.url, viewport=SIZES[size], color_scheme=scheme)
    context.set_default_timeout(15_000)
    context.add_init_script(CSP_LISTENER)
    return context, context.new_page()


def sign_in(page, email: str) -> None:
    page.goto("/login")
    page.fill("input[name=username]", email)
    page.fill("input[name=password]", DEFAULT_PASSWORD)
    page.click("main form button[type=submit]")
    page.wait_for_url(lambda url: "/login" not in url)


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("size", ["phone", "laptop"])
def test_every_page_fits_and_passes_axe(demo, browser, asgi_server, sso, tmp_path, size, scheme):
    user = UserFactory(email="walker@example.com")
    admin = AdminFactory(email="admin-walker@example.com")
    rows = seed(user, admin)
    shots = shots_dir(tmp_path) / f"{size}-{scheme}"
    shots.mkdir(exist_ok=True)
    problems = []

    context, page = new_page(browser, asgi_server, size, scheme)
    for path in [*anonymous_pages(), "/sso/callback?code=forged&state=forged"]:
        problems += check_page(page, path, shots=shots, label="anonymous")
    sign_in(page, user.email)
    for path in user_pages(rows):
        problems += check_page(page, path, shots=shots)
    context.close()

    context, page = new_page(browser, asgi_server, size, scheme)
    sign_in(page, admin.email)
    for path in admin_pages(rows, admin):
        problems += check_page(page, path, shots=shots, label="admin")
    context.close()

    assert not problems, "\n".join(problems)
