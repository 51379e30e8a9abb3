"""Two-factor authentication in a real Chromium: set up an authenticator from the profile
(the QR code drawn on the page, the key read from it and its codes computed here as a phone
would), log out, log in with a code, then with a recovery code, which works once."""

import re

import pytest
from playwright.sync_api import expect

from tests.factories import DEFAULT_PASSWORD, UserFactory
from tests.support.two_factor import code_for
from twofactor import services

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def password_step(page, email: str) -> None:
    page.goto("/login")
    page.fill("input[name=username]", email)
    page.fill("input[name=password]", DEFAULT_PASSWORD)
    page.click("main form button[type=submit]")
    page.wait_for_url(re.compile(r"/login/two-factor$"))
    # Not signed in yet: the header offers no account.
    expect(page.get_by_test_id("header-email")).to_have_count(0)


def code_step(page, code: str) -> None:
    page.fill("input[name=code]", code)
    page.click("main form button[type=submit]")


def log_out(page) -> None:
    page.click("header >> text=Log out")
    page.wait_for_url(re.compile(r"/login$"))


def test_enrol_log_in_with_a_code_and_with_a_recovery_code_once(page, login):
    user = UserFactory(email="careful@example.com")
    login(user.email, DEFAULT_PASSWORD)

    page.goto("/users/profile")
    page.get_by_test_id("two-factor-manage").click()
    page.get_by_test_id("two-factor-setup").click()
    qr = page.get_by_test_id("two-factor-qr")
    expect(qr).to_be_visible()
    assert page.evaluate("document.querySelector('[data-testid=two-factor-qr]').naturalWidth") > 100
    secret = page.get_by_test_id("two-factor-secret").inner_text().replace(" ", "")
    page.fill("input[name=code]", code_for(secret))
    page.click("[data-testid=two-factor-confirm] button[type=submit]")
    codes = page.get_by_test_id("recovery-code").all_inner_texts()
    assert len(codes) == 10
    assert services.is_enrolled(user)
    page.goto("/users/profile/two-factor")
    expect(page.get_by_test_id("recovery-codes-left")).to_have_text("10")
    log_out(page)

    # The password, then a code of the next step (this step's was used to confirm).
    password_step(page, user.email)
    code_step(page, code_for(secret, steps=1))
    page.wait_for_url(re.compile(r"/$"))
    expect(page.get_by_test_id("header-email")).to_have_text(user.email)
    log_out(page)

    # A recovery code instead of the app's.
    password_step(page, user.email)
    code_step(page, codes[0])
    page.wait_for_url(re.compile(r"/$"))
    expect(page.locator(".message")).to_contain_text("recovery code; 9 left")
    log_out(page)

    # The same recovery code again: refused, still not signed in.
    password_step(page, user.email)
    code_step(page, codes[0])
    expect(page.locator("#id_code_error")).to_contain_text("already used")
    expect(page).to_have_url(re.compile(r"/login/two-factor$"))
    expect(page.get_by_test_id("header-email")).to_have_count(0)
