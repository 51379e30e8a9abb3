"""/v1/embeddings through the official openai SDK against Studio as it runs (uvicorn and
the offline double): vectors whole as floats and as base64, one history row per request,
usage and budgets, and who may call it."""

import base64
import math
import struct
from decimal import Decimal

import openai
import pytest
from rest_framework.test import APIClient

from billing.models import Reservation
from generation.models import Generation
from openrouter.fake.embeddings import vector_for
from tests.support.provider import change_catalogue_rows

MODEL = "openai/text-embedding-3-small"  # 1536 dimensions, may be shortened
FIXED = "mistralai/mistral-embed"  # 1024 dimensions, fixed


def _floats(text: str) -> list[float]:
    raw = base64.b64decode(text)
    return list(struct.unpack(f"<{len(raw) // 4}f", raw))


def test_a_list_of_texts_as_floats_one_history_row(sdk, served, user, fake_openrouter, client):
    _, key, _ = served
    answer = sdk().embeddings.create(model=MODEL, input=["red", "green", "blue"], encoding_format="float")
    assert [item.index for item in answer.data] == [0, 1, 2]
    assert all(len(item.embedding) == 1536 for item in answer.data)
    # The provider's vectors, in input order, unchanged.
    assert answer.data[1].embedding == pytest.approx(vector_for(MODEL, "green", full=1536, size=1536))
    assert answer.model == MODEL and answer.usage.prompt_tokens > 0
    assert answer.usage.total_tokens == answer.usage.prompt_tokens
    [sent] = fake_openrouter.received.matching("POST", "/api/v1/embeddings")
    assert sent.body == {"model": MODEL, "input": ["red", "green", "blue"], "encoding_format": "float"}
    row = Generation.objects.get()
    assert row.kind == "embedding" and row.status == "completed" and row.owner == user and row.api_key == key
    assert row.params == {"inputs": 3, "encoding_format": "float"}
    assert row.prompt.startswith("red") and "2 more inputs" in row.prompt
    assert row.text == "3 vectors of 1536 dimensions"
    assert row.prompt_tokens == answer.usage.prompt_tokens and row.cost > 0
    # Readable in the history, as any generation.
    client.force_login(user)
    assert "red" in client.get("/history").content.decode()
    page = client.get(f"/history/{row.pk}").content.decode()
    assert "3 vectors of 1536 dimensions (float)" in page and "Embedding generation" in page
    profile = client.get("/users/profile").content.decode()
    assert 'data-testid="usage-embedding">1<' in profile


def test_base64_and_dimensions_the_sdk_default(sdk, fake_openrouter):
    # Without encoding_format the SDK asks for base64 and decodes it into floats itself.
    answer = sdk().embeddings.create(model=MODEL, input="one text", dimensions=64)
    [sent] = fake_openrouter.received.matching("POST", "/api/v1/embeddings")
    assert sent.body["encoding_format"] == "base64" and sent.body["dimensions"] == 64
    [item] = answer.data
    assert len(item.embedding) == 64
    assert math.isclose(math.sqrt(sum(v * v for v in item.embedding)), 1.0, rel_tol=1e-4)
    assert item.embedding == pytest.approx(vector_for(MODEL, "one text", full=1536, size=64))
    assert Generation.objects.get().text == "1 vector of 64 dimensions"


def test_base64_asked_is_answered_as_base64(served):
    base, _, secret = served
    raw = openai.OpenAI(base_url=f"{base}/v1", api_key=secret, max_retries=0).with_raw_response
    answer = raw.embeddings.create(model=FIXED, input=["a", "b"], encoding_format="base64").http_response.json()
    vectors = [_floats(item["embedding"]) for item in answer["data"]]
    assert [len(v) for v in vectors] == [1024, 1024]
    assert vectors[0] == pytest.approx(vector_for(FIXED, "a", full=1024, size=1024))


def test_token_lists_are_embedded(sdk, fake_openrouter):
    answer = sdk().embeddings.create(model=MODEL, input=[[1, 2, 3], [4, 5]], encoding_format="float")
    assert len(answer.data) == 2
    [sent] = fake_openrouter.received.matching("POST", "/api/v1/embeddings")
    assert sent.body["input"] == [[1, 2, 3], [4, 5]]


@pytest.mark.parametrize(
    ("model", "status", "param"),
    [
        ("no/such-model", 404, "model"),
        ("openai/gpt-4o-mini", 404, "model"),  # a chat model is not an embedding model
    ],
)
def test_unknown_or_non_embedding_model_is_404_model_not_found(sdk, fake_openrouter, model, status, param):
    with pytest.raises(openai.NotFoundError) as raised:
        sdk().embeddings.create(model=model, input="x")
    assert raised.value.body["code"] == "model_not_found" and raised.value.body["param"] == param
    assert "kind=embedding" in raised.value.body["message"]
    assert not fake_openrouter.received.matching("POST", "/api/v1/embeddings")
    assert not Generation.objects.exists()


@pytest.mark.parametrize(
    ("fields", "param"),
    [
        ({"input": ""}, "input"),
        ({"input": []}, "input"),
        ({"input": [{"text": "x"}]}, "input"),
        ({"input": "x", "dimensions": 0}, "dimensions"),
        ({"input": "x", "encoding_format": "int8"}, "encoding_format"),
        ({"input": "x", "made_up": 1}, "made_up"),
    ],
)
def test_bad_input_is_400_naming_the_field(served, fields, param, fake_openrouter):
    base, _, secret = served
    client = openai.OpenAI(base_url=f"{base}/v1", api_key=secret, max_retries=0)
    with pytest.raises(openai.BadRequestError) as raised:
        client.post("/embeddings", body={"model": MODEL, **fields}, cast_to=object)
    assert raised.value.body["param"] == param
    assert not Generation.objects.exists()


def test_the_providers_refusal_is_kept_on_a_failed_row(sdk, fake_openrouter):
    # The fixed-size model refuses dimensions upstream: a 400, the row failed, nothing reserved left.
    with pytest.raises(openai.BadRequestError):
        sdk().embeddings.create(model=FIXED, input="x", dimensions=8)
    row = Generation.objects.get()
    assert row.status == "failed" and "dimensions" in row.error


# ------------------------------------------------------------------ usage and budgets


def test_counted_in_usage_and_settled_in_the_budget(sdk, user, settings):
    settings.DEFAULT_DAILY_BUDGET_USD = Decimal("1")
    answer = sdk().embeddings.create(model=FIXED, input=["alpha", "beta"], encoding_format="float")
    row = Generation.objects.get()
    [reservation] = Reservation.objects.all()
    assert reservation.kind == "embedding" and reservation.status == "settled"
    assert reservation.generation_id == row.pk and reservation.amount_settled == row.cost > 0
    assert reservation.amount_reserved >= reservation.amount_settled
    # The double bills prompt tokens at the model's prompt price.
    assert row.cost == Decimal("0.0000001") * answer.usage.prompt_tokens
    api = APIClient()
    api.force_authenticate(user)
    spend = api.get("/api/usage").json()
    [model] = spend["by_model"]
    assert model["model"] == FIXED and model["kind"] == "embedding" and Decimal(str(model["cost"])) == row.cost
    assert Decimal(str(spend["by_kind"]["embedding"]["cost"])) == row.cost


def test_over_budget_is_402_insufficient_quota_and_nothing_is_sent(sdk, settings, fake_openrouter):
    settings.DEFAULT_DAILY_BUDGET_USD = Decimal("0.00000001")
    with pytest.raises(openai.APIStatusError) as raised:
        sdk().embeddings.create(model=FIXED, input="a text that costs more than a millionth of a cent")
    assert raised.value.status_code == 402 and raised.value.body["code"] == "insufficient_quota"
    assert raised.value.body["type"] == "insufficient_quota"
    assert not fake_openrouter.received.matching("POST", "/api/v1/embeddings")
    assert not Generation.objects.exists() and not Reservation.objects.exists()


# ------------------------------------------------------------------ who may call it


def test_anonymous_a_bad_key_and_a_session_token_are_401(served, user, fake_openrouter):
    base, _, _ = served
    from accounts import tokens

    for key in ("missing", "sk-studio-nope", str(tokens.access_token_for(user=user))):
        client = openai.OpenAI(base_url=f"{base}/v1", api_key=key, max_retries=0)
        with pytest.raises(openai.AuthenticationError):
            client.embeddings.create(model=MODEL, input="x")
    assert not fake_openrouter.received.matching("POST", "/api/v1/embeddings")


def test_each_key_writes_its_own_owners_row(sdk, user, other_user, make_key):
    _, other_secret = make_key(other_user)
    sdk().embeddings.create(model=MODEL, input="mine", encoding_format="float")
    sdk(other_secret).embeddings.create(model=MODEL, input="theirs", encoding_format="float")
    assert Generation.objects.get(owner=user).prompt == "mine"
    assert Generation.objects.get(owner=other_user).prompt == "theirs"
    # Another user's row is not on your history page.
    api = APIClient()
    api.force_authenticate(user)
    assert api.get(f"/api/generations/{Generation.objects.get(owner=other_user).pk}").status_code == 404


def test_an_admins_only_model_is_refused_to_every_key_an_admins_too(sdk, admin_user, make_key):
    """A key acts with a user's permissions whatever its owner's role (accounts.authentication)."""
    change_catalogue_rows(FIXED, admins_only=True)
    _, admin_secret = make_key(admin_user)
    for secret in (None, admin_secret):
        with pytest.raises(openai.NotFoundError) as raised:
            sdk(secret).embeddings.create(model=FIXED, input="x")
        assert raised.value.body["code"] == "model_not_found"
    change_catalogue_rows(FIXED, admins_only=False)
    answer = sdk(admin_secret).embeddings.create(model=FIXED, input="x", encoding_format="float")
    assert len(answer.data[0].embedding) == 1024
    assert Generation.objects.get().owner == admin_user
