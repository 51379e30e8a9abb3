"""Helpers for tests that sign in through the accounts API (accounts, admin panel), and
run_at_once for races between threads."""

from rest_framework.test import APIClient

from accounts import tokens
from tests.factories import DEFAULT_PASSWORD
from tests.support.threads import run_at_once  # noqa: F401  (imported from here by older tests)

STRONG_PASSWORD = "Lantern-orbit-7-quietly"


def bearer_client(user) -> APIClient:
    """An API client sending a fresh access token for `user`."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens.access_token_for(user=user)}")
    return client


def login_pair(user, password: str = DEFAULT_PASSWORD) -> dict:
    """Log in through the API; the response body (access, refresh, user)."""
    response = APIClient().post("/api/auth/login", {"email": user.email, "password": password}, format="json")
    assert response.status_code == 200, response.content
    return response.json()
