"""Browser tests: Playwright driving Debian's Chromium against Studio served by uvicorn."""

import os
from pathlib import Path

import pytest

from tests.conftest import ON_CI

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
# Chromium's background services try to reach the internet, which this machine refuses.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


# Package-scoped: Playwright's sync API keeps an event loop running in this thread, which
# later (non-browser) tests that run their own loop must not find.
@pytest.fixture(scope="package")
def browser():
    if not Path(CHROMIUM).exists():
        message = f"Chromium not found at {CHROMIUM} (apt-get install chromium)"
        if ON_CI:
            pytest.fail(message)
        pytest.skip(message)
    # Django refuses synchronous ORM calls while an event loop runs in the same thread;
    # Playwright's sync API keeps one running, and tests touch the ORM between steps.
    # Restored afterwards: subprocesses started by later tests must not inherit it.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    try:
        with sync_playwright() as pw:
            instance = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            yield instance
            instance.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def page(browser, asgi_server):
    context = browser.new_context(base_url=asgi_server.url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def login(page):
    """Sign in through the login form, as a person would."""

    def _login(email: str, password: str):
        page.goto("/login")
        page.fill("input[name=username]", email)
        page.fill("input[name=password]", password)
        page.click("form.card button[type=submit]")
        page.wait_for_url(lambda url: "/login" not in url)

    return _login
