"""Every page a person or an administrator reaches, at a phone's width (390x844) and a
laptop's (1280x800), in light and dark mode: none is wider than its window, none has an
axe-core violation of any impact, and none needs something the Content-Security-Policy
refuses. Screenshots go to STUDIO_SHOTS when it is set (e.g. var/shots/after)."""

import pytest

from tests.e2e.site import (
    CSP_LISTENER,
    admin_pages,
    anonymous_pages,
    check_loaded_page,
    check_page,
    seed,
    shots_dir,
    user_pages,
)
from tests.factories import DEFAULT_PASSWORD, AdminFactory, UserFactory
from tests.support.two_factor import code_for, enrol

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


def sign_in(page, email: str, *, then: str = "") -> None:
    """The login form; ``then``: the second step's path it leads to (else signed in)."""
    page.goto("/login")
    page.fill("input[name=username]", email)
    page.fill("input[name=password]", DEFAULT_PASSWORD)
    page.click("main form button[type=submit]")
    if then:
        page.wait_for_url(lambda url: url.endswith(then))
    else:
        page.wait_for_url(lambda url: "/login" not in url)


def second_step_problems(browser, server, size: str, scheme: str, shots) -> list[str]:
    """The login's two-factor pages: a code; setting up the authenticator the policy
    requires, and the recovery codes it shows once."""
    from twofactor import services

    problems = []
    enrolled = UserFactory(email="second-step@example.com")
    enrol(enrolled)
    context, page = new_page(browser, server, size, scheme)
    sign_in(page, str(enrolled.email), then="/login/two-factor")
    problems += check_page(page, "/login/two-factor", shots=shots, label="second-step")
    context.close()

    services.policy_set(required="everyone")
    newcomer = UserFactory(email="must-set-up@example.com")
    context, page = new_page(browser, server, size, scheme)
    sign_in(page, str(newcomer.email), then="/login/two-factor/setup")
    problems += check_page(page, "/login/two-factor/setup", shots=shots, label="second-step")
    secret = page.get_by_test_id("two-factor-secret").inner_text().replace(" ", "")
    page.fill("input[name=code]", code_for(secret))
    page.click("main form button[type=submit]")
    page.get_by_test_id("recovery-codes").wait_for()
    problems += check_loaded_page(page, "(recovery codes)", shots=shots, label="second-step")
    context.close()
    return problems


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

    problems += second_step_problems(browser, asgi_server, size, scheme, shots)
    assert not problems, "\n".join(problems)
