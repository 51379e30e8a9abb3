"""Who may approve an account: POST /api/users/{id}/approve and the admin panel's Approve
button, for anonymous, the user, another user and an admin. "the user" is an active user
acting on the pending account; the pending person themself holds no usable token."""

import pytest
from django.test import Client
from rest_framework.test import APIClient

from accounts import tokens
from accounts.models import User
from tests.factories import AdminFactory, UserFactory
from tests.support.accounts import bearer_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    return {
        "pending": UserFactory(email="pending@example.com", is_active=False, approved_at=None),
        "user": UserFactory(email="owner@example.com"),
        "other": UserFactory(email="other@example.com"),
        "admin": AdminFactory(email="admin@example.com"),
    }


@pytest.mark.parametrize("actor, expected", [("anonymous", 401), ("user", 403), ("other", 403), ("admin", 200)])
def test_approve_api_authorization_matrix(world, actor, expected):
    client = APIClient() if actor == "anonymous" else bearer_client(world[actor])

    response = client.post(f"/api/users/{world['pending'].pk}/approve")

    assert response.status_code == expected, response.content
    world["pending"].refresh_from_db()
    assert world["pending"].is_pending is (expected != 200)


def test_approve_api_for_an_unknown_user_is_404(world):
    assert bearer_client(world["admin"]).post("/api/users/987654/approve").status_code == 404


def test_the_pending_person_cannot_approve_themself(world):
    pending = world["pending"]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens.access_token_for(user=pending)}")

    assert client.post(f"/api/users/{pending.pk}/approve").status_code == 401
    pending.refresh_from_db()
    assert pending.is_pending


@pytest.mark.parametrize("actor, expected", [("anonymous", 302), ("user", 403), ("other", 403), ("admin", 302)])
def test_approve_button_authorization_matrix(world, actor, expected):
    client = Client()
    if actor != "anonymous":
        client.force_login(world[actor])

    response = client.post(f"/admin-panel/users/{world['pending'].pk}/approve")

    assert response.status_code == expected
    if actor == "anonymous":
        assert response["Location"].startswith("/login")
    world["pending"].refresh_from_db()
    assert world["pending"].is_pending is (actor != "admin")
    assert User.objects.get(pk=world["pending"].pk).is_active is (actor == "admin")
