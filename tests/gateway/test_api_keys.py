"""Personal API keys: /api/keys, the profile page, authentication, and what a key may not do."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.api_keys import ApiKey, hash_secret
from tests.factories import DEFAULT_PASSWORD

pytestmark = pytest.mark.django_db

KEYS = "/api/keys"


def test_create_answers_the_secret_once_and_stores_only_its_hash(user_api, user):
    response = user_api.post(KEYS, {"name": "laptop"}, format="json")
    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"id", "name", "key", "prefix", "created_at", "expires_at"}
    assert body["key"].startswith("sk-studio-") and len(body["key"]) > 40
    assert body["key"].startswith(body["prefix"])
    key = ApiKey.objects.get(pk=body["id"])
    assert key.user == user and key.key_hash == hash_secret(body["key"])
    assert body["key"] not in {getattr(key, f.attname) for f in ApiKey._meta.fields}
    listed = user_api.get(KEYS).json()
    assert [k["id"] for k in listed] == [body["id"]]
    assert "key" not in listed[0] and listed[0]["state"] == "active"


def test_create_checks_name_and_expiry(user_api):
    assert user_api.post(KEYS, {"name": " "}, format="json").status_code == 400
    past = (timezone.now() - timedelta(hours=1)).isoformat()
    response = user_api.post(KEYS, {"name": "x", "expires_at": past}, format="json")
    assert response.status_code == 400 and "expires_at" in response.json()


def test_authorization_matrix(client_for, user, other_user, admin_user, make_key):
    key, _ = make_key(user)
    anonymous = client_for()
    assert anonymous.get(KEYS).status_code == 401
    assert anonymous.post(KEYS, {"name": "x"}, format="json").status_code == 401
    assert anonymous.delete(f"{KEYS}/{key.pk}").status_code == 401
    # Another user neither sees nor revokes it.
    other = client_for(other_user)
    assert other.get(KEYS).json() == []
    assert other.delete(f"{KEYS}/{key.pk}").status_code == 404
    key.refresh_from_db()
    assert key.revoked_at is None
    # The owner revokes it; revoking again changes nothing.
    owner = client_for(user)
    assert owner.delete(f"{KEYS}/{key.pk}").status_code == 204
    key.refresh_from_db()
    revoked_at = key.revoked_at
    assert revoked_at is not None
    assert owner.delete(f"{KEYS}/{key.pk}").status_code == 204
    key.refresh_from_db()
    assert key.revoked_at == revoked_at
    # An admin revokes anyone's key.
    second, _ = make_key(user, name="second")
    assert client_for(admin_user).delete(f"{KEYS}/{second.pk}").status_code == 204
    second.refresh_from_db()
    assert second.revoked_at is not None
    assert client_for(admin_user).delete(f"{KEYS}/999999").status_code == 404


def test_a_key_cannot_manage_keys_or_the_password(user, make_key, key_client):
    _, secret = make_key(user)
    client = key_client(secret)
    assert client.get(KEYS).status_code == 403
    assert client.post(KEYS, {"name": "more"}, format="json").status_code == 403
    assert client.delete(f"{KEYS}/1").status_code == 403
    response = client.put(
        "/api/users/me", {"current_password": DEFAULT_PASSWORD, "password": "a-new-pass-1234"}, format="json"
    )
    assert response.status_code == 403
    assert client.get("/api/users/me").status_code == 403
    assert client.post("/api/users/me/logout-all").status_code == 403
    user.refresh_from_db()
    assert user.check_password(DEFAULT_PASSWORD)
    assert ApiKey.objects.filter(user=user).count() == 1


def test_a_key_authenticates_the_generation_apis_and_notes_its_use(user, make_key, key_client, monkeypatch):
    key, secret = make_key(user)
    assert key_client(secret).get("/api/generations").status_code == 200
    key.refresh_from_db()
    first_use = key.last_used_at
    assert first_use is not None
    key_client(secret).get("/api/generations")
    key.refresh_from_db()
    assert key.last_used_at == first_use  # at most one write a minute
    # Two minutes later (the process keeps the key it read, with the use it noted).
    later = first_use + timedelta(minutes=2)
    monkeypatch.setattr(timezone, "now", lambda: later)
    key_client(secret).get("/api/generations")
    key.refresh_from_db()
    assert key.last_used_at == later


@pytest.mark.parametrize("state", ["unknown", "revoked", "expired", "owner deactivated"])
def test_unusable_keys_answer_401(user, make_key, key_client, state):
    key, secret = make_key(user)
    if state == "unknown":
        secret = "sk-studio-" + "x" * 43
    elif state == "revoked":
        ApiKey.objects.filter(pk=key.pk).update(revoked_at=timezone.now())
    elif state == "expired":
        ApiKey.objects.filter(pk=key.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    else:
        type(user).objects.filter(pk=user.pk).update(is_active=False)
    response = key_client(secret).get("/api/generations")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_keys_go_with_their_user(user, make_key):
    make_key(user)
    user.delete()
    assert not ApiKey.objects.exists()


def test_profile_page_creates_shows_once_lists_and_revokes(client, user):
    client.force_login(user)
    response = client.post(reverse("accounts:api-key-create"), {"name": "cli"})
    assert response.status_code == 200
    secret = response.context["new_api_key"].secret
    assert secret in response.content.decode()
    key = ApiKey.objects.get(user=user)
    page = client.get(reverse("accounts:profile")).content.decode()
    assert "cli" in page and key.prefix in page and secret not in page
    response = client.post(reverse("accounts:api-key-revoke", args=[key.pk]))
    assert response.status_code == 302
    key.refresh_from_db()
    assert key.state == "revoked"
    assert client.post(reverse("accounts:api-key-create"), {"name": ""}).status_code == 400


def test_admin_lists_and_revokes_every_key(client, admin_user, user, make_key):
    key, _ = make_key(user)
    client.force_login(admin_user)
    listing = client.get(reverse("admin:accounts_apikey_changelist"))
    assert listing.status_code == 200 and key.prefix in listing.content.decode()
    client.post(reverse("admin:accounts_apikey_changelist"), {"action": "revoke", "_selected_action": [key.pk]})
    key.refresh_from_db()
    assert key.revoked_at is not None


def test_a_key_on_the_generation_api_marks_the_history_row(catalogue, user, make_key, key_client):
    from generation.models import Generation

    key, secret = make_key(user)
    response = key_client(secret).post("/api/generate/text", {"prompt": "hello", "model": "fake/echo"}, format="json")
    assert response.status_code == 200, response.content
    assert Generation.objects.get().api_key_id == key.pk
    # A JWT or a session leaves the row unmarked.
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(user)
    client.post("/api/generate/text", {"prompt": "again", "model": "fake/echo"}, format="json")
    assert Generation.objects.filter(api_key__isnull=True).count() == 1


def test_a_gateway_row_reads_back_with_its_key(served, user, other_user, admin_user):
    """Through uvicorn: a chat completion on /v1/ with a key, then the history API names that key."""
    import httpx
    from rest_framework_simplejwt.tokens import AccessToken

    base, key, secret = served

    def bearer(token):
        return {"Authorization": f"Bearer {token}"}

    answer = httpx.post(
        f"{base}/v1/chat/completions",
        headers=bearer(secret),
        timeout=30,
        json={"model": "fake/echo", "messages": [{"role": "user", "content": "from a script"}]},
    )
    assert answer.status_code == 200, answer.text
    expected = {"id": key.pk, "name": "script", "prefix": key.prefix}

    owner = bearer(AccessToken.for_user(user))
    [row] = httpx.get(f"{base}/api/generations", headers=owner, timeout=30).json()["results"]
    assert row["prompt"] == "from a script" and row["api_key"] == expected
    assert secret not in str(row) and key.key_hash not in str(row)
    detail = f"{base}/api/generations/{row['id']}"
    assert httpx.get(detail, headers=owner, timeout=30).json()["api_key"] == expected
    assert httpx.get(detail, headers=bearer(secret), timeout=30).json()["api_key"] == expected
    # Someone else never learns the row exists; an admin reads it, key and all.
    assert httpx.get(detail, headers=bearer(AccessToken.for_user(other_user)), timeout=30).status_code == 404
    as_admin = httpx.get(detail, headers=bearer(AccessToken.for_user(admin_user)), timeout=30)
    assert as_admin.status_code == 200 and as_admin.json()["api_key"] == expected
