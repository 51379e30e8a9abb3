"""An access token's signature and claims are checked once per process, its expiry on
every use; what may change while it lives (the user, its sessions) still on every request."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from rest_framework.test import APIClient
from rest_framework_simplejwt.backends import TokenBackend

from accounts import tokens
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def bearer(access: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return client


@pytest.fixture
def decodes(monkeypatch):
    """How many times a token was decoded (its signature checked)."""
    count = [0]
    real = TokenBackend.decode

    def decode(self, token, verify=True):
        count[0] += 1
        return real(self, token, verify)

    monkeypatch.setattr(TokenBackend, "decode", decode)
    return count


def test_a_token_is_decoded_once_then_kept(decodes):
    access = tokens.token_pair_issue(user=UserFactory()).access

    assert bearer(access).get("/api/users/me").status_code == 200
    assert bearer(access).get("/api/users/me").status_code == 200
    assert decodes[0] == 1


def test_a_kept_token_is_refused_once_it_expires(settings):
    settings.SIMPLE_JWT = {**settings.SIMPLE_JWT, "ACCESS_TOKEN_LIFETIME": timedelta(seconds=1)}
    access = tokens.token_pair_issue(user=UserFactory()).access
    assert bearer(access).get("/api/users/me").status_code == 200

    time.sleep(1.1)

    refused = bearer(access).get("/api/users/me")
    assert refused.status_code == 401 and refused.json()["code"] == "token_not_valid"


def test_a_kept_token_of_a_deactivated_user_is_refused_at_the_next_request():
    user = UserFactory()
    access = tokens.token_pair_issue(user=user).access
    assert bearer(access).get("/api/users/me").status_code == 200

    user.is_active = False
    user.save()

    assert bearer(access).get("/api/users/me").status_code == 401
