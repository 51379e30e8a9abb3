"""The Content-Security-Policy in a real Chromium: injected inline code does not run, and
the pages that need script (the delete confirm, Swagger UI, the admin, DRF's browsable
API) still work under it.

Browser tests run under the policy too, so `page.wait_for_function` takes a function
("() => ..."): an expression string is eval()ed in the page, which script-src 'self' refuses
(`page.evaluate` of an expression is fine: the DevTools protocol runs it)."""

import pytest
from playwright.sync_api import expect

from generation.models import Generation
from tests.factories import DEFAULT_PASSWORD, AdminFactory, GenerationFactory, UserFactory

pytestmark = pytest.mark.e2e

# Every violation the page reports, from before its first script runs.
RECORD_VIOLATIONS = """
window.__violations = [];
document.addEventListener('securitypolicyviolation', (e) => window.__violations.push(
    {directive: e.effectiveDirective, blocked: e.blockedURI, sample: e.sample}));
"""


def violations(page) -> list:
    page.wait_for_timeout(300)  # the events are queued, not fired synchronously
    return page.evaluate("window.__violations")


def test_injected_inline_code_is_refused(page, login):
    user = UserFactory()
    login(user.email, DEFAULT_PASSWORD)
    page.add_init_script(RECORD_VIOLATIONS)
    response = page.goto("/history")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    # What a sanitizer slip would let into the DOM: a handler attribute and a script element.
    page.evaluate("""() => {
        window.__ran = [];
        document.body.insertAdjacentHTML('beforeend',
            '<img src="/static/no-such-image.png" onerror="window.__ran.push(\\'onerror\\')">');
        const script = document.createElement('script');
        script.textContent = "window.__ran.push('script')";
        document.body.appendChild(script);
    }""")
    page.wait_for_function("() => window.__violations.length >= 2")
    assert page.evaluate("window.__ran") == []
    directives = {v["directive"] for v in violations(page)}
    assert directives == {"script-src-attr", "script-src-elem"}


def test_delete_asks_first_under_the_policy(page, login):
    user = UserFactory()
    generation = GenerationFactory(owner=user, text="An answer")
    login(user.email, DEFAULT_PASSWORD)
    page.add_init_script(RECORD_VIOLATIONS)
    response = page.goto(f"/history/{generation.pk}")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    asked = []

    def answer(dialog, accept):
        asked.append((dialog.type, dialog.message))
        dialog.accept() if accept else dialog.dismiss()

    page.once("dialog", lambda dialog: answer(dialog, accept=False))
    page.get_by_test_id("delete").click()
    page.wait_for_timeout(300)
    assert asked == [("confirm", "Delete this generation and its files?")]
    assert Generation.objects.filter(pk=generation.pk).exists(), "cancelled, so not deleted"
    assert page.url.endswith(f"/history/{generation.pk}")

    page.once("dialog", lambda dialog: answer(dialog, accept=True))
    page.get_by_test_id("delete").click()
    page.wait_for_url(lambda url: url.endswith("/history"))
    assert len(asked) == 2
    assert not Generation.objects.filter(pk=generation.pk).exists()
    assert violations(page) == []


def test_swagger_ui_renders_under_the_policy(page):
    page.add_init_script(RECORD_VIOLATIONS)
    response = page.goto("/api/docs/")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    expect(page.locator(".swagger-ui .opblock-summary-path").first).to_be_visible()
    expect(page.locator(".swagger-ui")).to_contain_text("/api/auth/login")
    # Its interactive part works: an operation opens.
    page.locator(".opblock-summary-path", has_text="/api/auth/login").first.click()
    expect(page.locator(".opblock.is-open").first).to_be_visible()
    assert violations(page) == []


def test_admin_and_browsable_api_work_under_the_policy(page, login):
    admin = AdminFactory()
    login(admin.email, DEFAULT_PASSWORD)
    page.add_init_script(RECORD_VIOLATIONS)

    response = page.goto("/admin/accounts/user/")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    expect(page.locator("#result_list")).to_be_visible()
    # The changelist's script runs: "select all" ticks every row.
    page.locator("#action-toggle").check()
    expect(page.locator("input.action-select").first).to_be_checked()
    page.goto(f"/admin/accounts/user/{admin.pk}/change/")
    expect(page.locator("#content-main form")).to_be_visible()
    # Its scripts ran: the translation catalogue (/admin/jsi18n/) and django.jQuery.
    assert page.evaluate("typeof window.gettext === 'function' && typeof django.jQuery === 'function'")
    assert violations(page) == []

    page.goto("/api/users/me")
    expect(page.locator(".response-info")).to_contain_text(admin.email)
    assert page.evaluate("typeof window.jQuery") == "function"
    # Bootstrap's dropdown (script) opens the format menu.
    page.locator(".btn-group .dropdown-toggle").first.click()
    expect(page.locator(".btn-group.open .dropdown-menu").first).to_be_visible()
    assert violations(page) == []
