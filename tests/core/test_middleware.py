"""The middleware stack under ASGI (core/middleware.py): hooks that only touch headers and
cookies run on the event loop, the ones that may write (a changed session, stored
messages, a CSRF check of a form) still run in a thread, and the deploy checks still see
the security middleware."""

from __future__ import annotations

import re

import httpx
import pytest
from asgiref import sync as asgiref_sync
from django.test import override_settings

from core import middleware
from tests.factories import DEFAULT_PASSWORD


@pytest.fixture
def hooks_in_threads(monkeypatch):
    """The middleware hooks handed to a thread, by name (the real sync_to_async runs them)."""
    handed = []

    def recording(fn, *args, **kwargs):
        handed.append(f"{type(fn.__self__).__name__}.{fn.__name__}")
        return asgiref_sync.sync_to_async(fn, *args, **kwargs)

    monkeypatch.setattr(middleware, "sync_to_async", recording)
    return handed


def _csrf_token(client: httpx.Client, url: str) -> str:
    page = client.get(url)
    assert page.status_code == 200
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    assert match, f"no CSRF token on {url}"
    return match.group(1)


def test_pages_and_api_pass_the_stack_without_threads(asgi_server, user, hooks_in_threads):
    with httpx.Client(base_url=asgi_server.url, timeout=30) as client:
        page = client.get("/login")
        token = client.post("/api/auth/login", json={"email": user.email, "password": DEFAULT_PASSWORD})
        models = client.get("/api/models", headers={"Authorization": f"Bearer {token.json()['access']}"})
    assert page.status_code == 200 and token.status_code == 200 and models.status_code == 200
    # Every hook ran: the headers and the CSRF cookie are there.
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["x-content-type-options"] == "nosniff"
    assert "default-src" in page.headers["content-security-policy"]
    assert "csrftoken" in page.cookies
    assert hooks_in_threads == []


def test_signing_in_and_out_saves_the_session_and_the_message_in_a_thread(asgi_server, user, hooks_in_threads):
    with httpx.Client(base_url=asgi_server.url, timeout=30) as client:
        signed_in = client.post(
            "/login",
            data={
                "csrfmiddlewaretoken": _csrf_token(client, "/login"),
                "username": user.email,
                "password": DEFAULT_PASSWORD,
            },
        )
        assert signed_in.status_code == 302, signed_in.text
        assert "sessionid" in client.cookies
        assert client.get("/users/profile").status_code == 200  # the saved session signs this request in

        logged_out = client.post("/logout", data={"csrfmiddlewaretoken": client.cookies["csrftoken"]})
        assert logged_out.status_code == 302
        after = client.get(logged_out.headers["location"], follow_redirects=True)
    assert "You have logged out." in after.text
    assert "SessionMiddleware.process_response" in hooks_in_threads
    assert "MessageMiddleware.process_response" in hooks_in_threads
    assert "CsrfViewMiddleware.process_view" in hooks_in_threads


def test_a_form_post_without_the_csrf_token_is_refused(asgi_server, user):
    with httpx.Client(base_url=asgi_server.url, timeout=30) as client:
        client.get("/login")
        refused = client.post("/login", data={"username": user.email, "password": DEFAULT_PASSWORD})
    assert refused.status_code == 403
    assert "sessionid" not in refused.cookies


@pytest.mark.parametrize(
    "missing, check_id",
    [
        ("core.middleware.SecurityMiddleware", "core.W001"),
        ("core.middleware.XFrameOptionsMiddleware", "core.W002"),
        ("core.middleware.CsrfViewMiddleware", "core.W003"),
    ],
)
def test_the_deploy_check_names_missing_security_middleware(settings, missing, check_id):
    assert middleware.check_security_middleware() == []
    with override_settings(MIDDLEWARE=[path for path in settings.MIDDLEWARE if path != missing]):
        assert [warning.id for warning in middleware.check_security_middleware()] == [check_id]


def test_the_deploy_check_accepts_djangos_own_classes(settings):
    stock = [
        "django.middleware.security.SecurityMiddleware",
        "django.middleware.csrf.CsrfViewMiddleware",
        "django.middleware.clickjacking.XFrameOptionsMiddleware",
    ]
    with override_settings(MIDDLEWARE=stock):
        assert middleware.check_security_middleware() == []
