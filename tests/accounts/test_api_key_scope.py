"""What a personal API key may reach: its owner's own data with a user's permissions (an
administrator's key included), until a password change or "log out everywhere" revokes it
or its expiry passes, each refusal saying why."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.api_keys import ApiKey, api_key_create
from tests.factories import (
    DEFAULT_PASSWORD,
    AdminFactory,
    GeneratedImageFactory,
    GenerationFactory,
    UserFactory,
    VideoJobFactory,
)
from tests.support.accounts import STRONG_PASSWORD, bearer_client
from tests.support.provider import catalogue, fake_openrouter  # noqa: F401  (fixtures)

pytestmark = pytest.mark.django_db


def key_client(secret: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


def new_key(user, **fields) -> str:
    return api_key_create(user=user, name="script", **fields).secret


# ------------------------------------------------------------------ an admin's key is a user's


def test_an_admins_key_reads_only_the_admins_own_generations_images_and_videos(media_root):
    from django.core.files.base import ContentFile

    from videos.models import VideoJob

    admin, someone = AdminFactory(), UserFactory()
    theirs = GenerationFactory(owner=someone)
    image = GeneratedImageFactory(generation__owner=someone)
    job = VideoJobFactory(owner=someone, status=VideoJob.Status.COMPLETED)
    job.video_file.save("clip.mp4", ContentFile(b"\x00\x00\x00\x18ftypmp42"), save=True)
    mine = GenerationFactory(owner=admin)
    paths = [
        f"/api/generations/{theirs.pk}",
        f"/api/generations/{image.generation_id}",
        image.url,
        f"/generate/video/{job.pk}/file",
    ]
    # The same administrator signed in reads them all (the reach a key must not have)...
    signed_in = bearer_client(admin)
    assert [signed_in.get(path).status_code for path in paths] == [200] * len(paths)
    # ...while the administrator's key is refused each as if it were not there.
    key = key_client(new_key(admin))
    assert [key.get(path).status_code for path in paths] == [404] * len(paths)
    listed = key.get("/api/generations").json()["results"]
    assert [row["id"] for row in listed] == [mine.pk]
    assert key.get(f"/api/generate/video/{job.pk}/events").status_code == 404
    assert key.get(f"/v1/videos/{job.pk}").status_code == 404
    assert key.get(f"/api/generations/{mine.pk}").status_code == 200


def test_an_admins_key_is_not_an_admin_anywhere_it_is_accepted(catalogue):
    from catalogue.models import ProviderModel

    admin = AdminFactory()
    ProviderModel.objects.filter(pk="fake/echo").update(admins_only=True)
    key = key_client(new_key(admin))
    ids = {entry["id"] for entry in key.get("/v1/models").json()["data"]}
    assert "fake/echo" not in ids and ids
    refused = key.post("/api/generate/text", {"prompt": "hi", "model": "fake/echo"}, format="json")
    assert refused.status_code == 400 and "model" in refused.json()
    # Signed in, the administrator may use it.
    assert "fake/echo" in {entry["id"] for entry in bearer_client(admin).get("/api/models?kind=text").json()}


# ------------------------------------------------------------------ revoked by recovery actions


def test_a_password_change_through_the_api_revokes_the_keys_saying_why():
    user = UserFactory()
    secret = new_key(user)
    assert key_client(secret).get("/api/generations").status_code == 200
    changed = bearer_client(user).put(
        "/api/users/me", {"password": STRONG_PASSWORD, "current_password": DEFAULT_PASSWORD}, format="json"
    )
    assert changed.status_code == 200
    refused = key_client(secret).get("/api/generations")
    assert refused.status_code == 401
    assert refused.json()["detail"] == (
        "This API key was revoked when its account's password was changed; create a new key on your profile page."
    )
    assert ApiKey.objects.get(user=user).revoked_reason == "password_changed"


def test_a_password_change_on_the_profile_page_revokes_the_keys():
    user = UserFactory()
    secret = new_key(user)
    client = Client()
    client.force_login(user)
    page = client.get("/users/profile").content.decode()
    assert "revokes your API keys" in page  # said before the change
    client.post(
        "/users/profile",
        {
            "email": user.email,
            "new_password": STRONG_PASSWORD,
            "new_password_confirm": STRONG_PASSWORD,
            "current_password": DEFAULT_PASSWORD,
        },
    )
    assert key_client(secret).get("/api/generations").status_code == 401


@pytest.mark.parametrize("where", ["api", "page"])
def test_log_out_everywhere_revokes_the_keys(where):
    user = UserFactory()
    secret = new_key(user)
    if where == "api":
        assert bearer_client(user).post("/api/users/me/logout-all").status_code == 204
    else:
        client = Client()
        client.force_login(user)
        page = client.get("/users/profile").content.decode()
        assert "Every session ends and every API key is revoked." in page  # the confirmation asks first
        assert client.post("/users/profile/logout-all").status_code == 302
    refused = key_client(secret).get("/v1/models")
    assert refused.status_code == 401
    assert "logged out everywhere" in refused.json()["error"]["message"]


def test_an_email_change_or_a_deactivation_does_not_revoke_keys():
    from accounts import services

    user = UserFactory()
    secret = new_key(user)
    services.user_update(user=user, email="renamed@example.com")
    assert key_client(secret).get("/api/generations").status_code == 200
    services.user_update(user=user, is_active=False)
    assert key_client(secret).get("/api/generations").status_code == 401  # inactive owner
    services.user_update(user=user, is_active=True)
    assert key_client(secret).get("/api/generations").status_code == 200


# ------------------------------------------------------------------ expiry


def test_a_key_can_expire_in_days_and_then_says_so(monkeypatch):
    user = UserFactory()
    client = bearer_client(user)
    response = client.post("/api/keys", {"name": "ci", "expires_in_days": 30}, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    expires = ApiKey.objects.get(pk=body["id"]).expires_at
    assert abs(expires - (timezone.now() + timedelta(days=30))) < timedelta(minutes=1)
    assert key_client(body["key"]).get("/api/generations").status_code == 200
    # 30 days and a minute later (the process keeps the key it read, with its expiry).
    later = expires + timedelta(minutes=1)
    monkeypatch.setattr(timezone, "now", lambda: later)
    refused = key_client(body["key"]).get("/api/generations")
    assert refused.status_code == 401 and refused.json()["detail"].startswith("This API key expired on ")


@pytest.mark.parametrize(
    "body",
    [
        {"name": "x", "expires_in_days": 0},
        {"name": "x", "expires_in_days": 3651},
        {"name": "x", "expires_in_days": 2, "expires_at": "2999-01-01T00:00:00Z"},
    ],
)
def test_a_bad_expiry_in_days_is_400_on_the_field(body):
    response = bearer_client(UserFactory()).post("/api/keys", body, format="json")
    assert response.status_code == 400 and "expires_in_days" in response.json()
    assert not ApiKey.objects.exists()


def test_the_profile_form_takes_an_expiry_in_days():
    user = UserFactory()
    client = Client()
    client.force_login(user)
    response = client.post("/users/profile/keys", {"name": "cli", "expires_in_days": "7"})
    assert response.status_code == 200
    key = ApiKey.objects.get(user=user)
    assert abs(key.expires_at - (timezone.now() + timedelta(days=7))) < timedelta(minutes=1)
    assert client.post("/users/profile/keys", {"name": "bad", "expires_in_days": "0"}).status_code == 400
