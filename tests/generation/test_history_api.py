"""History: GET/DELETE /api/generations, ownership of every endpoint, usage, throttling."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.api_keys import api_key_create, api_key_revoke
from generation import selectors
from generation.models import GeneratedImage, Generation
from tests.factories import GenerationFactory, UserFactory

pytestmark = pytest.mark.django_db


def _make(owner, *, kind="text", status="completed", cost="0.001", minutes_ago=0, **fields):
    return GenerationFactory(
        owner=owner,
        kind=kind,
        prompt=f"{kind} prompt",
        status=status,
        cost=Decimal(cost),
        total_tokens=10,
        created_at=timezone.now() - timedelta(minutes=minutes_ago),
        **fields,
    )


def test_history_lists_own_generations_newest_first(user_api, user, other_user):
    old = _make(user, minutes_ago=10)
    new = _make(user, kind="image", minutes_ago=1)
    _make(other_user)

    body = user_api.get("/api/generations").json()

    assert body["count"] == 2
    assert [item["id"] for item in body["results"]] == [new.pk, old.pk]
    item = body["results"][1]
    assert set(item) >= {"id", "kind", "model", "status", "prompt", "text", "images", "usage", "created_at", "error"}
    assert "error_detail" not in item


def test_history_filters_by_kind_and_paginates(user_api, user):
    for minutes in range(21):
        _make(user, kind="image", minutes_ago=minutes)
    _make(user, kind="text", minutes_ago=100)

    images = user_api.get("/api/generations?kind=image").json()
    assert images["count"] == 21 and len(images["results"]) == 20 and images["next"]
    assert user_api.get("/api/generations?kind=image&page=2").json()["results"][0]["kind"] == "image"
    texts = user_api.get("/api/generations", {"kind": "text"}).json()
    assert [item["kind"] for item in texts["results"]] == ["text"]
    assert user_api.get("/api/generations?kind=video").status_code == 400
    assert user_api.get("/api/generations?page=99").status_code == 404


def test_generation_detail_and_delete_remove_files(
    catalogue, user_api, user, stored_files, django_capture_on_commit_callbacks
):
    created = user_api.post(
        "/api/generate/image", {"prompt": "Fox", "model": "openai/gpt-image-1", "n": 2}, format="json"
    ).json()
    assert len(stored_files()) == 2
    url = f"/api/generations/{created['id']}"

    detail = user_api.get(url).json()
    assert detail["kind"] == "image" and len(detail["images"]) == 2 and detail["status"] == "completed"

    with django_capture_on_commit_callbacks(execute=True):
        assert user_api.delete(url).status_code == 204
    assert user_api.get(url).status_code == 404
    assert not GeneratedImage.objects.exists()
    assert stored_files() == []


def test_deleting_a_user_removes_their_files(
    catalogue, user_api, user, stored_files, django_capture_on_commit_callbacks
):
    user_api.post("/api/generate/image", {"prompt": "Fox", "model": "openai/dall-e-3"}, format="json")
    assert stored_files()
    with django_capture_on_commit_callbacks(execute=True):
        user.delete()
    assert stored_files() == [] and not Generation.objects.exists()


def test_history_names_the_api_key_a_row_was_made_with(user_api, user):
    created = api_key_create(user=user, name="nightly script")
    by_key = _make(user, api_key=created.key, minutes_ago=1)
    by_web = _make(user, minutes_ago=2)

    listed = {item["id"]: item for item in user_api.get("/api/generations").json()["results"]}
    detail = user_api.get(f"/api/generations/{by_key.pk}").json()

    expected = {"id": created.key.pk, "name": "nightly script", "prefix": created.key.prefix}
    assert listed[by_key.pk]["api_key"] == expected and detail["api_key"] == expected
    assert listed[by_web.pk]["api_key"] is None
    assert user_api.get(f"/api/generations/{by_web.pk}").json()["api_key"] is None
    answered = user_api.get("/api/generations").content.decode()
    assert created.secret not in answered and created.key.key_hash not in answered


def test_a_revoked_key_stays_named_and_a_deleted_one_becomes_null(user_api, user):
    revoked = api_key_create(user=user, name="old laptop").key
    deleted = api_key_create(user=user, name="gone").key
    by_revoked = _make(user, api_key=revoked)
    by_deleted = _make(user, api_key=deleted)
    api_key_revoke(key_id=revoked.pk, by=user)
    deleted.delete()

    assert user_api.get(f"/api/generations/{by_revoked.pk}").json()["api_key"] == {
        "id": revoked.pk,
        "name": "old laptop",
        "prefix": revoked.prefix,
    }
    assert user_api.get(f"/api/generations/{by_deleted.pk}").json()["api_key"] is None
    assert Generation.objects.filter(pk=by_deleted.pk).exists()


def test_history_list_reads_the_keys_in_the_same_query(user_api, user):
    def queries_for_list() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert user_api.get("/api/generations").status_code == 200
        return len(captured)

    _make(user, api_key=api_key_create(user=user, name="first").key)
    one = queries_for_list()
    for index in range(5):
        _make(user, api_key=api_key_create(user=user, name=f"key {index}").key)

    assert queries_for_list() == one


ENDPOINTS = [
    ("get", "/api/models"),
    ("post", "/api/generate/text"),
    ("post", "/api/generate/image"),
    ("get", "/api/generations"),
    ("get", "/api/generations/{id}"),
    ("delete", "/api/generations/{id}"),
]


@pytest.mark.parametrize("method, path", ENDPOINTS)
@pytest.mark.parametrize("who", ["anonymous", "owner", "other", "admin"])
def test_authorization_matrix(catalogue, client_for, user, other_user, admin_user, method, path, who):
    """Anonymous: 401 everywhere. Another user's generation: 404. Admins read any, delete none of others'."""
    generation = _make(user)
    client = client_for({"anonymous": None, "owner": user, "other": other_user, "admin": admin_user}[who])
    body = {"prompt": "hi", "model": "fake/echo"} if "text" in path else {"prompt": "hi", "model": "openai/dall-e-3"}
    kwargs = {"data": body, "format": "json"} if method == "post" else {}

    response = getattr(client, method)(path.format(id=generation.pk), **kwargs)

    if who == "anonymous":
        assert response.status_code == 401
    elif "{id}" in path and who == "other":
        assert response.status_code == 404
    elif "{id}" in path and who == "admin":
        assert response.status_code == (200 if method == "get" else 404)
    else:
        assert response.status_code in (200, 201, 204), (response.status_code, response.content)
    assert Generation.objects.filter(pk=generation.pk).exists() == (not (method == "delete" and who == "owner"))


def test_history_list_never_shows_others(client_for, user, other_user, admin_user):
    _make(user)
    assert client_for(other_user).get("/api/generations").json()["count"] == 0
    assert client_for(admin_user).get("/api/generations").json()["count"] == 0


# ------------------------------------------------------------------ usage and stats


def test_generation_stats_and_user_usage_summary(catalogue, user_api, user, other_user, fault_model):
    user_api.post("/api/generate/text", {"prompt": "hi", "model": "openai/gpt-4o-mini"}, format="json")
    user_api.post("/api/generate/image", {"prompt": "Fox", "model": "openai/dall-e-3"}, format="json")
    user_api.post("/api/generate/text", {"prompt": "hi", "model": fault_model("server_error")}, format="json")
    _make(other_user, cost="0.5")

    stats = selectors.generation_stats()
    assert stats["by_kind"] == {"text": 3, "image": 1, "embedding": 0} and stats["total"] == 4
    assert stats["by_status"]["completed"] == 3 and stats["by_status"]["failed"] == 1
    recorded = sum(Generation.objects.values_list("cost", flat=True), Decimal(0))
    assert stats["total_cost"] == recorded and stats["total_cost"] > Decimal("0.54")

    mine = selectors.user_usage_summary(user=user)
    assert mine["by_kind"] == {"text": 2, "image": 1, "embedding": 0} and mine["failed"] == 1 and mine["images"] == 1
    assert mine["total_cost"] == recorded - Decimal("0.5") > 0
    assert mine["total_tokens"] == mine["prompt_tokens"] + mine["completion_tokens"] > 0
    assert selectors.user_usage_summary(user=UserFactory())["total"] == 0


# ------------------------------------------------------------------ throttling


def test_generation_is_throttled_per_user(catalogue, user_api, client_for, other_user, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "generation": "2/min"},
    }
    body = {"prompt": "hi", "model": "fake/echo"}

    answers = [user_api.post("/api/generate/text", body, format="json").status_code for _ in range(2)]
    throttled = user_api.post("/api/generate/image", {"prompt": "x", "model": "openai/dall-e-3"}, format="json")

    assert answers == [200, 200]
    assert throttled.status_code == 429 and int(throttled["Retry-After"]) >= 1
    assert client_for(other_user).post("/api/generate/text", body, format="json").status_code == 200
    assert user_api.get("/api/generations").status_code == 200  # reading history is not throttled
