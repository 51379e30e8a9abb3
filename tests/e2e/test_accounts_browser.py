"""Accounts in a real Chromium: register, log in, change the email, log out; an admin
promotes and deletes users from /admin-panel/; the API docs render offline."""

import re

import pytest
from playwright.sync_api import expect

from accounts.models import User
from tests.factories import DEFAULT_PASSWORD, AdminFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PASSWORD = "Lantern-orbit-7-quietly"


def test_register_log_in_change_email_log_out(page, login):
    page.goto("/login")
    page.click("header >> text=Register")
    page.fill("input[name=email]", "Newcomer@Example.com")
    page.fill("input[name=password]", PASSWORD)
    page.fill("input[name=password_confirm]", PASSWORD)
    page.click("form.card button[type=submit]")
    # Registering signs you in.
    page.wait_for_url(re.compile(r"/$"))
    expect(page.locator(".message.success")).to_contain_text("newcomer@example.com has been created")
    expect(page.get_by_test_id("header-email")).to_have_text("newcomer@example.com")
    page.click("header >> text=Log out")
    page.wait_for_url(re.compile(r"/login$"))

    login("newcomer@example.com", PASSWORD)
    expect(page).to_have_url(re.compile(r"/$"))
    header_email = page.get_by_test_id("header-email")
    expect(header_email).to_have_text("newcomer@example.com")

    header_email.click()
    page.wait_for_url(re.compile(r"/users/profile$"))
    # A wrong current password: the error shows next to that field, nothing changes.
    page.fill("input[name=email]", "renamed@example.com")
    page.fill("input[name=current_password]", "not-my-password")
    page.click("form.card button[type=submit]")
    expect(page.locator("#id_current_password_error")).to_contain_text("not correct")
    expect(header_email).to_have_text("newcomer@example.com")

    page.fill("input[name=email]", "renamed@example.com")
    page.fill("input[name=current_password]", PASSWORD)
    page.click("form.card button[type=submit]")
    expect(page.locator(".message.success")).to_contain_text("your email is now renamed@example.com")
    expect(header_email).to_have_text("renamed@example.com")
    expect(page.get_by_test_id("profile-email")).to_have_text("renamed@example.com")
    assert User.objects.get().email == "renamed@example.com"

    page.click("header >> text=Log out")
    page.wait_for_url(re.compile(r"/login$"))
    expect(page.locator(".message")).to_contain_text("You have logged out.")
    expect(page.get_by_test_id("header-email")).to_have_count(0)
    page.goto("/users/profile")
    expect(page).to_have_url(re.compile(r"/login\?next=/users/profile$"))


def test_admin_promotes_a_user_from_the_admin_panel(page, login):
    admin = AdminFactory(email="chief@example.com")
    member = UserFactory(email="member@example.com")
    UserFactory(email="bystander@example.com")
    login(admin.email, DEFAULT_PASSWORD)

    page.click("header nav >> a[href='/admin-panel/']")
    page.wait_for_url(re.compile(r"/admin-panel/$"))
    expect(page.get_by_test_id("stat-admins")).to_have_text("1")
    page.fill("input[name=q]", "member")
    page.click("form.search-form button[type=submit]")
    rows = page.get_by_test_id("user-row")
    expect(rows).to_have_count(1)
    row = page.locator('[data-testid=user-row][data-email="member@example.com"]')
    expect(row.get_by_test_id("user-role")).to_have_text("User")

    # The promotion asks first: declined, nothing changes.
    questions = []
    page.once("dialog", lambda dialog: (questions.append(dialog.message), dialog.dismiss()))
    row.get_by_role("button", name="Promote to admin").click()
    expect(row.get_by_test_id("user-role")).to_have_text("User")
    assert questions and "administrator" in questions[0]
    page.once("dialog", lambda dialog: dialog.accept())
    row.get_by_role("button", name="Promote to admin").click()
    expect(page.locator(".message.success")).to_contain_text("member@example.com is now an admin.")
    expect(page).to_have_url(re.compile(r"/admin-panel/\?q=member$"))  # back on the same listing
    expect(row.get_by_test_id("user-role")).to_have_text("Admin")
    expect(page.get_by_test_id("stat-admins")).to_have_text("2")
    member.refresh_from_db()
    assert member.is_admin
    # Your own row offers no demotion (it would lock you out of these pages).
    page.goto("/admin-panel/?q=chief")
    own = page.locator('[data-testid=user-row][data-email="chief@example.com"]')
    expect(own.get_by_role("button")).to_have_count(0)


def test_admin_deletes_a_user_after_confirming(page, login):
    admin = AdminFactory(email="chief@example.com")
    UserFactory(email="leaving@example.com")
    login(admin.email, DEFAULT_PASSWORD)
    page.goto("/admin-panel/")
    row = page.locator('[data-testid=user-row][data-email="leaving@example.com"]')
    row.get_by_role("link", name="Delete…").click()
    expect(page.locator("h1")).to_have_text("Delete leaving@example.com?")
    page.get_by_role("button", name="Yes, delete leaving@example.com").click()
    expect(page.locator(".message.success")).to_contain_text("leaving@example.com has been deleted.")
    expect(row).to_have_count(0)
    assert not User.objects.filter(email="leaving@example.com").exists()


def test_api_docs_render_in_the_browser(page):
    page.goto("/api/docs/")
    expect(page.locator(".swagger-ui .opblock-summary-path").first).to_be_visible()
    expect(page.locator(".swagger-ui")).to_contain_text("/api/auth/login")
    expect(page.locator(".swagger-ui")).to_contain_text("/api/users/{user_id}/role")
