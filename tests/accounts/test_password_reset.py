"""Password reset by email (accounts/password_reset.py): Django's own views, a one-time
link mailed through the configured backend, the new password set by the accounts service
(every session ends), and requests throttled per client address and per email asked about."""

import re

import pytest
from django.core import mail
from django.test import Client

from accounts.models import User
from tests.accounts.test_hardening import rates
from tests.factories import DEFAULT_PASSWORD, UserFactory
from tests.support.accounts import STRONG_PASSWORD

pytestmark = pytest.mark.django_db

LINK = re.compile(r"https?://[^/\s]+(/password-reset/[^/\s]+/[^/\s]+/)")


def ask(client, email, address="10.0.0.1"):
    return client.post("/password-reset/", {"email": email}, REMOTE_ADDR=address)


def reset_link(message) -> str:
    found = LINK.search(message.body)
    assert found is not None, message.body
    return found.group(1)


def test_the_login_page_offers_a_reset(client):
    html = client.get("/login").content.decode()
    assert 'href="/password-reset/"' in html and "Forgot password?" in html


def test_a_known_address_gets_a_link_and_an_unknown_one_the_same_answer(client):
    user = UserFactory(email="forgetful@example.com")
    known = ask(client, "Forgetful@Example.com")
    unknown = ask(client, "nobody@example.com")
    # Both answers look alike: the page tells nobody which addresses have accounts.
    assert known.status_code == unknown.status_code == 302
    assert known["Location"] == unknown["Location"] == "/password-reset/sent/"
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [user.email] and "new password" in message.subject.lower()
    assert reset_link(message).startswith("/password-reset/")


def test_a_pending_account_gets_no_link(client):
    UserFactory(email="waiting@example.com", is_active=False, approved_at=None)
    assert ask(client, "waiting@example.com").status_code == 302
    assert mail.outbox == []


def test_the_link_sets_a_new_password_once_and_ends_every_session(client):
    user = UserFactory(email="forgetful@example.com")
    signed_in = Client()
    signed_in.force_login(user)
    version = user.token_version
    ask(client, user.email)
    link = reset_link(mail.outbox[0])

    form = client.get(link, follow=True)
    assert form.status_code == 200 and 'name="new_password1"' in form.content.decode()
    set_password_url = form.redirect_chain[-1][0]
    weak = client.post(set_password_url, {"new_password1": "short", "new_password2": "short"})
    assert weak.status_code == 200 and 'id="id_new_password2_error"' in weak.content.decode()
    done = client.post(set_password_url, {"new_password1": STRONG_PASSWORD, "new_password2": STRONG_PASSWORD})
    assert done.status_code == 302 and done["Location"] == "/password-reset/complete/"

    user.refresh_from_db()
    assert user.check_password(STRONG_PASSWORD) and not user.check_password(DEFAULT_PASSWORD)
    assert user.token_version == version + 1
    assert signed_in.get("/users/profile").status_code == 302  # that session ended
    again = client.get(link, follow=True).content.decode()
    assert 'data-testid="password-reset-invalid"' in again
    login = Client().post("/login", {"username": user.email, "password": STRONG_PASSWORD})
    assert login.status_code == 302


def test_requests_for_one_email_are_limited(client, settings):
    rates(settings, password_reset_email="2/hour", password_reset_ip="100/hour")
    UserFactory(email="target@example.com")
    for address in ("10.0.0.1", "10.0.0.2"):
        assert ask(client, "target@example.com", address).status_code == 302
    refused = ask(client, "target@example.com", "10.0.0.3")
    assert refused.status_code == 429 and int(refused["Retry-After"]) > 0
    assert "Too many requests" in refused.content.decode()
    assert len(mail.outbox) == 2
    assert ask(client, "someone-else@example.com", "10.0.0.3").status_code == 302


def test_requests_from_one_address_are_limited(client, settings):
    rates(settings, password_reset_email="100/hour", password_reset_ip="2/hour")
    for email in ("a@example.com", "b@example.com"):
        assert ask(client, email).status_code == 302
    assert ask(client, "c@example.com").status_code == 429
    assert ask(client, "c@example.com", "10.9.9.9").status_code == 302


@pytest.mark.parametrize("who", ["anonymous", "user", "admin"])
def test_the_pages_open_to_anyone(client, who):
    if who != "anonymous":
        client.force_login(UserFactory(role=User.Role.ADMIN if who == "admin" else User.Role.USER))
    for path in ("/password-reset/", "/password-reset/sent/", "/password-reset/complete/"):
        assert client.get(path).status_code == 200, path
    assert 'data-testid="password-reset-invalid"' in client.get("/password-reset/MQ/bad-token/").content.decode()
