"""What every page shares and the accounts' way back in, in a real Chromium: the phone
menu, the remembered dark mode, the skip link, and a password reset through the email
backend (Django's locmem outbox: the server runs in this process)."""

import re

import pytest
from django.core import mail
from playwright.sync_api import expect

from tests.e2e.test_generation_browser import demo_studio, signed_in  # noqa: F401
from tests.factories import DEFAULT_PASSWORD, UserFactory
from tests.support.accounts import STRONG_PASSWORD

pytestmark = pytest.mark.e2e


def test_a_password_reset_by_email_end_to_end(page):
    user = UserFactory(email="forgetful@example.com")
    page.goto("/login")
    page.get_by_test_id("forgot-password").click()
    page.wait_for_url("**/password-reset/")
    page.fill("input[name=email]", user.email)
    page.get_by_test_id("password-reset-send").click()
    expect(page.get_by_test_id("password-reset-sent")).to_be_visible()

    assert len(mail.outbox) == 1 and mail.outbox[0].to == [user.email]
    link = re.search(r"https?://\S+/password-reset/\S+/", mail.outbox[0].body).group(0)
    page.goto(link)
    page.fill("input[name=new_password1]", STRONG_PASSWORD)
    page.fill("input[name=new_password2]", STRONG_PASSWORD)
    page.get_by_test_id("password-reset-save").click()
    expect(page.get_by_test_id("password-reset-complete")).to_be_visible()

    page.goto("/login")
    page.fill("input[name=username]", user.email)
    page.fill("input[name=password]", DEFAULT_PASSWORD)
    page.click("main form button[type=submit]")
    expect(page.locator(".errors")).to_be_visible()  # the old password no longer works
    page.fill("input[name=password]", STRONG_PASSWORD)
    page.click("main form button[type=submit]")
    expect(page.get_by_test_id("header-email")).to_have_text(user.email)
    page.goto(link)
    expect(page.get_by_test_id("password-reset-invalid")).to_be_visible()  # a link works once


def test_the_phone_menu_and_the_remembered_dark_mode(browser, asgi_server):
    context = browser.new_context(base_url=asgi_server.url, viewport={"width": 360, "height": 740})
    page = context.new_page()
    UserFactory(email="phone@example.com")
    page.goto("/login")
    background = "() => getComputedStyle(document.body).backgroundColor"
    light = page.evaluate(background)

    nav = page.locator("#site-nav")
    toggle = page.locator("[data-menu-toggle]")
    assert toggle.is_visible() and nav.is_hidden()
    toggle.click()
    expect(nav).to_be_visible()
    assert toggle.get_attribute("aria-expanded") == "true"
    page.keyboard.press("Escape")
    expect(nav).to_be_hidden()

    toggle.click()
    page.get_by_test_id("theme-toggle").click()
    dark = page.evaluate(background)
    assert dark != light and page.get_by_test_id("theme-toggle").get_attribute("aria-pressed") == "true"
    page.reload()
    assert page.evaluate(background) == dark, "the choice is remembered"
    assert page.evaluate("document.scrollingElement.scrollWidth <= window.innerWidth")

    # The skip link is the first stop of the keyboard (on a page with no autofocus field).
    page.goto("/password-reset/sent/")
    page.keyboard.press("Tab")
    skip = page.locator(".skip-link")
    expect(skip).to_be_focused()
    assert skip.bounding_box()["y"] >= 0
    context.close()


def test_the_system_scheme_is_followed_until_one_is_chosen(browser, asgi_server):
    context = browser.new_context(base_url=asgi_server.url, color_scheme="dark")
    page = context.new_page()
    page.goto("/login")
    assert page.evaluate("getComputedStyle(document.documentElement).colorScheme") == "dark"
    assert page.get_by_test_id("theme-toggle").get_attribute("aria-pressed") == "true"
    page.get_by_test_id("theme-toggle").click()
    assert page.evaluate("getComputedStyle(document.documentElement).colorScheme") == "light"
    context.close()
