"""/v1/models in OpenAI's shape (chat models by default, other kinds by filter) and the
errors OpenAI gives for models: 404 model_not_found on every /v1/ endpoint."""

import pytest

from catalogue.models import ProviderModel
from catalogue.selectors import catalogue_entries_changed

pytestmark = pytest.mark.django_db

TEXT = {"openai/gpt-4o-mini", "anthropic/claude-3.5-haiku", "fake/echo", "fake/long-stream"}
IMAGE = {
    "google/gemini-2.5-flash-image",
    "openai/gpt-5-image-mini",
    "openai/dall-e-3",
    "black-forest-labs/flux-1.1-pro",
    "openai/gpt-image-1",
    "bytedance-seed/seedream-4.5",
}
VIDEO = {"google/veo-3.1", "openai/sora-2"}
EMBEDDING = {"openai/text-embedding-3-small", "mistralai/mistral-embed"}


@pytest.fixture
def listed(catalogue, user, make_key, key_client):
    _, secret = make_key(user)
    client = key_client(secret)

    def ids(query: str = "") -> set[str]:
        answer = client.get(f"/v1/models{query}")
        assert answer.status_code == 200, answer.content
        body = answer.json()
        assert body["object"] == "list" and all(set(m) == {"id", "object", "created", "owned_by"} for m in body["data"])
        return {m["id"] for m in body["data"]}

    ids.client = client
    return ids


def test_the_list_holds_chat_models_by_default(listed):
    assert listed() == TEXT
    assert listed("?kind=text") == TEXT


@pytest.mark.parametrize(
    "query, expected",
    [
        ("?kind=image", IMAGE),
        ("?kind=video", VIDEO),
        ("?kind=embedding", EMBEDDING),
        ("?kind=all", TEXT | IMAGE | VIDEO | EMBEDDING),
        ("?output_modalities=all", TEXT | IMAGE | VIDEO | EMBEDDING),
        ("?output_modalities=embeddings", EMBEDDING),
        ("?output_modalities=text,image", {"google/gemini-2.5-flash-image", "openai/gpt-5-image-mini"}),
        ("?output_modalities=image", IMAGE),
        ("?kind=image&output_modalities=text", {"google/gemini-2.5-flash-image", "openai/gpt-5-image-mini"}),
    ],
)
def test_other_kinds_by_kind_or_output_modalities(listed, query, expected):
    assert listed(query) == expected


def test_an_unknown_kind_is_400_naming_it(listed):
    answer = listed.client.get("/v1/models?kind=music")
    assert answer.status_code == 400 and answer.json()["error"]["param"] == "kind"


def test_one_model_of_any_kind_and_model_not_found_otherwise(listed):
    client = listed.client
    for model_id in ("fake/echo", "google/veo-3.1", "openai/text-embedding-3-small"):
        answer = client.get(f"/v1/models/{model_id}")
        assert answer.status_code == 200 and answer.json()["id"] == model_id
    missing = client.get("/v1/models/nobody/nothing")
    assert missing.status_code == 404
    assert missing.json()["error"] | {"message": ""} == {
        "message": "",
        "type": "invalid_request_error",
        "param": "model",
        "code": "model_not_found",
    }


def test_models_an_administrator_withheld_are_not_listed_nor_found(listed):
    ProviderModel.objects.filter(pk="fake/echo").update(enabled=False)
    ProviderModel.objects.filter(pk="openai/gpt-4o-mini").update(admins_only=True)
    catalogue_entries_changed()
    assert listed() == TEXT - {"fake/echo", "openai/gpt-4o-mini"}
    for model_id in ("fake/echo", "openai/gpt-4o-mini"):
        assert listed.client.get(f"/v1/models/{model_id}").json()["error"]["code"] == "model_not_found"
        answer = listed.client.post(
            "/v1/chat/completions", {"model": model_id, "messages": [{"role": "user", "content": "x"}]}, format="json"
        )
        assert answer.status_code == 404 and answer.json()["error"]["code"] == "model_not_found"


@pytest.mark.parametrize(
    "path, body",
    [
        ("/v1/chat/completions", {"model": "nobody/nothing", "messages": [{"role": "user", "content": "x"}]}),
        ("/v1/chat/completions", {"model": "google/veo-3.1", "messages": [{"role": "user", "content": "x"}]}),
        ("/v1/images/generations", {"model": "nobody/nothing", "prompt": "x"}),
        ("/v1/images/generations", {"model": "fake/echo", "prompt": "x"}),
        ("/v1/videos", {"model": "nobody/nothing", "prompt": "x"}),
        ("/v1/videos", {"model": "openai/dall-e-3", "prompt": "x"}),
    ],
)
def test_every_endpoint_answers_model_not_found_with_404(listed, fake_openrouter, path, body):
    answer = listed.client.post(path, body, format="json")
    assert answer.status_code == 404, answer.content
    error = answer.json()["error"]
    assert (error["type"], error["param"], error["code"]) == ("invalid_request_error", "model", "model_not_found")
    assert "GET /v1/models" in error["message"]
    assert not [r for r in fake_openrouter.received if r.method == "POST"]


def test_the_rest_api_keeps_its_400_on_model(catalogue, user_api):
    answer = user_api.post("/api/generate/text", {"model": "nobody/nothing", "prompt": "x"}, format="json")
    assert answer.status_code == 400 and "GET /api/models?kind=text" in answer.json()["model"][0]


def test_models_authorization(catalogue, client, client_for, user, other_user, admin_user, make_key, key_client):
    """Keys only: anonymous, a JWT and a web session are 401; every key sees its owner's models."""
    from accounts import tokens

    ProviderModel.objects.filter(pk="fake/echo").update(admins_only=True)
    catalogue_entries_changed()
    for path in ("/v1/models", "/v1/models/openai/gpt-4o-mini"):
        assert client_for().get(path).status_code == 401
        jwt = client_for()
        jwt.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens.access_token_for(user=user)}")
        assert jwt.get(path).status_code == 401
        client.force_login(user)
        assert client.get(path).status_code == 401
    seen = {}
    for who in (user, other_user, admin_user):
        answer = key_client(make_key(who)[1]).get("/v1/models")
        assert answer.status_code == 200
        seen[who.pk] = {m["id"] for m in answer.json()["data"]}
    assert seen[user.pk] == seen[other_user.pk] == TEXT - {"fake/echo"}
    # An admin's key lists exactly what it may use: what its detail finds (whether an
    # admins-only model is among them is the key's permissions' business, not the list's).
    admin_key = key_client(make_key(admin_user, name="x")[1])
    assert seen[admin_user.pk] >= TEXT - {"fake/echo"}
    for model_id in TEXT:
        found = admin_key.get(f"/v1/models/{model_id}").status_code == 200
        assert found == (model_id in seen[admin_user.pk]), model_id
    assert key_client(make_key(user, name="y")[1]).get("/v1/models/fake/echo").status_code == 404
