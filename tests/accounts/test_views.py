"""The account web pages: register, log in/out, dashboard, profile (session auth, CSRF on)."""

import re

import pytest
from django.test import Client

from accounts import tokens
from accounts.models import RefreshToken, User
from tests.factories import DEFAULT_PASSWORD, UserFactory
from tests.support.accounts import STRONG_PASSWORD

pytestmark = pytest.mark.django_db


def field_block(html: str, name: str) -> str:
    """The markup of one form field's block (label, input, its errors)."""
    match = re.search(r'<div class="field[^"]*">\s*<label for="id_%s">.*?</div>' % name, html, re.S)
    assert match, f"no field {name}"
    return match.group(0)


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


# ------------------------------------------------------------------ register


def test_register_page_renders_with_csrf():
    response = Client().get("/register")
    assert response.status_code == 200
    assert b"csrfmiddlewaretoken" in response.content and b'name="password_confirm"' in response.content


def test_register_creates_the_account_and_signs_in():
    client = Client()
    response = client.post(
        "/register",
        {
            "email": "Fresh@Example.com",
            "password": STRONG_PASSWORD,
            "password_confirm": STRONG_PASSWORD,
        },
        follow=True,
    )
    assert response.redirect_chain[-1][0] == "/"
    assert b"fresh@example.com has been created; you are signed in" in response.content
    user = User.objects.get()
    assert user.email == "fresh@example.com"
    assert response.wsgi_request.user == user and response.wsgi_request.user.is_authenticated


def test_register_of_an_inactive_account_sends_to_login(monkeypatch):
    from accounts import services

    def register_inactive(**fields):
        user = UserFactory(email=fields["email"], is_active=False)
        return user

    monkeypatch.setattr(services, "user_register", register_inactive)
    response = Client().post(
        "/register",
        {
            "email": "idle@example.com",
            "password": STRONG_PASSWORD,
            "password_confirm": STRONG_PASSWORD,
        },
        follow=True,
    )
    assert response.redirect_chain[-1][0] == "/login"
    assert not response.wsgi_request.user.is_authenticated


def test_register_errors_are_shown_next_to_their_fields():
    UserFactory(email="taken@example.com")
    response = Client().post(
        "/register",
        {
            "email": "TAKEN@example.com",
            "password": "123",
            "password_confirm": "456",
        },
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "already exists" in field_block(html, "email")
    assert "differ" in field_block(html, "password_confirm")
    assert User.objects.count() == 1


def test_register_shows_a_weak_password_together_with_a_taken_email():
    # Both at once: the password error used to appear only after the email was fixed.
    UserFactory(email="taken@example.com")
    response = Client().post(
        "/register",
        {
            "email": "taken@example.com",
            "password": "short",
            "password_confirm": "short",
        },
    )
    html = response.content.decode()
    assert "already exists" in field_block(html, "email")
    assert "too short" in field_block(html, "password")
    assert User.objects.count() == 1


def test_register_weak_password_error_is_on_the_password_field():
    response = Client().post(
        "/register",
        {
            "email": "weak@example.com",
            "password": "password",
            "password_confirm": "password",
        },
    )
    assert "too common" in field_block(response.content.decode(), "password")
    assert not User.objects.exists()


def test_register_page_enforces_csrf():
    client = Client(enforce_csrf_checks=True)
    response = client.post(
        "/register", {"email": "x@example.com", "password": STRONG_PASSWORD, "password_confirm": STRONG_PASSWORD}
    )
    assert response.status_code == 403 and not User.objects.exists()


# ------------------------------------------------------------------ login and logout


def test_login_redirects_to_the_dashboard():
    UserFactory(email="ada@example.com")
    client = Client()
    response = client.post("/login", {"username": "ADA@example.com", "password": DEFAULT_PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/"
    page = client.get("/")
    assert page.status_code == 200
    assert b'data-testid="header-email">ada@example.com<' in page.content


def test_login_honours_next_for_a_path_on_this_site():
    UserFactory(email="ada@example.com")
    response = Client().post(
        "/login?next=/users/profile", {"username": "ada@example.com", "password": DEFAULT_PASSWORD}
    )
    assert response["Location"] == "/users/profile"


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example/",
        "https://evil.example/",
        "http://testserver/users/profile",
        "/\\evil.example",
        "javascript:alert(1)",
        "users/profile",
    ],
)
def test_login_ignores_next_that_is_not_a_same_site_path(target):
    UserFactory(email="ada@example.com")
    response = Client().post("/login", {"username": "ada@example.com", "password": DEFAULT_PASSWORD, "next": target})
    assert response["Location"] == "/"


def test_login_page_carries_next_into_the_form():
    response = Client().get("/login?next=/users/profile")
    assert b'name="next" value="/users/profile"' in response.content
    response = Client().get("/login?next=https://evil.example/")
    assert b"evil.example" not in response.content


def test_wrong_credentials_show_one_message():
    UserFactory(email="ada@example.com")
    UserFactory(email="off@example.com", is_active=False)
    for body in (
        {"username": "ada@example.com", "password": "wrong"},
        {"username": "off@example.com", "password": DEFAULT_PASSWORD},
        {"username": "nobody@example.com", "password": DEFAULT_PASSWORD},
    ):
        response = Client().post("/login", body)
        assert response.status_code == 200
        assert b"The email address or password is incorrect." in response.content
        assert "_auth_user_id" not in response.wsgi_request.session


def test_web_login_is_throttled_after_failed_attempts_only(settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "auth_ip": "3/min"},
    }
    UserFactory(email="ada@example.com")
    for _ in range(4):  # successful logins do not count
        assert Client().post("/login", {"username": "ada@example.com", "password": DEFAULT_PASSWORD}).status_code == 302
    for _ in range(3):
        assert Client().post("/login", {"username": "ada@example.com", "password": "wrong"}).status_code == 200
    blocked = Client().post("/login", {"username": "ada@example.com", "password": DEFAULT_PASSWORD})
    assert blocked.status_code == 429 and int(blocked["Retry-After"]) > 0
    assert b"Too many failed sign-ins from this address" in blocked.content
    assert "_auth_user_id" not in blocked.wsgi_request.session


def test_signed_in_visitors_skip_the_login_page():
    response = signed_in(UserFactory()).get("/login")
    assert response.status_code == 302 and response["Location"] == "/"


def test_logout_needs_post():
    client = signed_in(UserFactory())
    assert client.get("/logout").status_code == 405
    response = client.post("/logout", follow=True)
    assert response.redirect_chain[-1][0] == "/login"
    assert b"You have logged out." in response.content
    assert client.get("/").status_code == 302


def test_logout_enforces_csrf():
    client = Client(enforce_csrf_checks=True)
    client.force_login(UserFactory())
    assert client.post("/logout").status_code == 403
    assert client.get("/").status_code == 200


def test_dashboard_sends_anonymous_visitors_to_login():
    response = Client().get("/")
    assert response.status_code == 302 and response["Location"] == "/login?next=/"


# ------------------------------------------------------------------ profile


def test_profile_shows_the_account_and_the_usage_block():
    user = UserFactory(email="me@example.com")
    response = signed_in(user).get("/users/profile")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-testid="profile-email">me@example.com<' in html
    assert 'value="me@example.com"' in field_block(html, "email")


def test_profile_sends_anonymous_visitors_to_login():
    response = Client().get("/users/profile")
    assert response.status_code == 302 and response["Location"] == "/login?next=/users/profile"


def test_change_email_on_the_profile_page_updates_the_header_at_once():
    user = UserFactory(email="old@example.com")
    client = signed_in(user)
    response = client.post(
        "/users/profile",
        {
            "email": "New@Example.com",
            "current_password": DEFAULT_PASSWORD,
        },
        follow=True,
    )
    assert response.redirect_chain[-1][0] == "/users/profile"
    html = response.content.decode()
    assert 'data-testid="header-email">new@example.com<' in html
    assert "Saved: your email is now new@example.com." in html
    user.refresh_from_db()
    assert user.email == "new@example.com"


def test_wrong_current_password_is_shown_next_to_that_field():
    user = UserFactory(email="old@example.com")
    response = signed_in(user).post(
        "/users/profile",
        {
            "email": "new@example.com",
            "current_password": "wrong",
        },
    )
    assert response.status_code == 200
    assert "not correct" in field_block(response.content.decode(), "current_password")
    assert b'data-testid="header-email">old@example.com<' in response.content
    user.refresh_from_db()
    assert user.email == "old@example.com"


def test_taken_email_and_weak_password_errors_are_next_to_their_fields():
    UserFactory(email="taken@example.com")
    user = UserFactory()
    response = signed_in(user).post(
        "/users/profile",
        {
            "email": "taken@example.com",
            "new_password": "1234",
            "new_password_confirm": "1234",
            "current_password": DEFAULT_PASSWORD,
        },
    )
    html = response.content.decode()
    assert "already exists" in field_block(html, "email")
    assert "too short" in field_block(html, "new_password")


def test_mismatched_new_passwords_are_refused():
    user = UserFactory()
    response = signed_in(user).post(
        "/users/profile",
        {
            "email": user.email,
            "new_password": STRONG_PASSWORD,
            "new_password_confirm": STRONG_PASSWORD + "x",
            "current_password": DEFAULT_PASSWORD,
        },
    )
    assert "differ" in field_block(response.content.decode(), "new_password_confirm")
    user.refresh_from_db()
    assert user.check_password(DEFAULT_PASSWORD)


def test_password_change_keeps_this_session_and_revokes_refresh_tokens():
    user = UserFactory()
    tokens.token_pair_issue(user=user)
    other_session = signed_in(user)
    client = signed_in(user)
    response = client.post(
        "/users/profile",
        {
            "email": user.email,
            "new_password": STRONG_PASSWORD,
            "new_password_confirm": STRONG_PASSWORD,
            "current_password": DEFAULT_PASSWORD,
        },
        follow=True,
    )
    assert b"your password has been changed" in response.content
    assert client.get("/users/profile").status_code == 200  # still signed in here
    assert other_session.get("/users/profile").status_code == 302  # signed out elsewhere
    assert not RefreshToken.objects.active().exists()
    user.refresh_from_db()
    assert user.check_password(STRONG_PASSWORD)


def test_profile_without_changes_says_so():
    user = UserFactory()
    response = signed_in(user).post(
        "/users/profile", {"email": user.email, "current_password": DEFAULT_PASSWORD}, follow=True
    )
    assert b"Nothing to change." in response.content
