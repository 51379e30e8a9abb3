"""The admin panel's list of every API key and its Revoke button."""

import pytest
from django.test import Client
from rest_framework.test import APIClient

from accounts.api_keys import api_key_create
from tests.factories import AdminFactory, UserFactory

pytestmark = pytest.mark.django_db

PAGE = "/admin-panel/api-keys"


@pytest.fixture
def world():
    owner = UserFactory(email="owner@example.com")
    created = api_key_create(user=owner, name="laptop")
    return {
        "user": owner,
        "other": UserFactory(email="other@example.com"),
        "admin": AdminFactory(email="admin@example.com"),
        "key": created.key,
        "secret": created.secret,
    }


def web(world, actor) -> Client:
    client = Client(enforce_csrf_checks=True)
    if actor != "anonymous":
        client.force_login(world[actor])
    return client


def bearer(secret) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


def csrf_post(client, url, data=None):
    """POST as the page's form does: with the CSRF token the list page set."""
    client.get(PAGE)
    token = client.cookies["csrftoken"].value
    return client.post(url, {"csrfmiddlewaretoken": token, **(data or {})})


@pytest.mark.parametrize("actor, status", [("anonymous", 302), ("user", 403), ("other", 403), ("admin", 200)])
def test_list_matrix(world, actor, status):
    response = web(world, actor).get(PAGE)
    assert response.status_code == status
    if actor == "anonymous":
        assert response["Location"].startswith("/login?next=")
    elif status == 403:
        assert "laptop" not in response.content.decode()
    else:
        html = response.content.decode()
        assert "owner@example.com" in html and "laptop" in html and world["key"].prefix in html
        assert 'data-testid="admin-api-key-revoke"' in html


@pytest.mark.parametrize("actor, status", [("anonymous", 302), ("user", 403), ("other", 403)])
def test_only_an_admin_revokes(world, actor, status):
    client = Client()
    if actor != "anonymous":
        client.force_login(world[actor])
    response = client.post(f"{PAGE}/{world['key'].pk}/revoke")
    assert response.status_code == status
    world["key"].refresh_from_db()
    assert world["key"].revoked_at is None


def test_revoke_needs_post_and_csrf(world):
    url = f"{PAGE}/{world['key'].pk}/revoke"
    client = web(world, "admin")
    assert client.get(url).status_code == 405
    assert client.post(url).status_code == 403  # no CSRF token
    world["key"].refresh_from_db()
    assert world["key"].revoked_at is None


def test_the_index_links_to_the_list(world):
    html = web(world, "admin").get("/admin-panel/").content.decode()
    assert f'href="{PAGE}"' in html


def test_revoke_stops_the_key(world):
    assert bearer(world["secret"]).get("/v1/models").status_code == 200
    client = web(world, "admin")
    response = csrf_post(client, f"{PAGE}/{world['key'].pk}/revoke", {"next": PAGE})
    assert response.status_code == 302 and response["Location"] == PAGE
    world["key"].refresh_from_db()
    assert world["key"].state == "revoked"
    assert bearer(world["secret"]).get("/v1/models").status_code == 401
    html = client.get(PAGE).content.decode()
    assert "revoked" in html and 'data-testid="admin-api-key-revoke"' not in html
    # Revoking again changes nothing; an unknown key is a 404.
    revoked_at = world["key"].revoked_at
    assert csrf_post(client, f"{PAGE}/{world['key'].pk}/revoke").status_code == 302
    world["key"].refresh_from_db()
    assert world["key"].revoked_at == revoked_at
    assert csrf_post(client, f"{PAGE}/999999/revoke").status_code == 404
