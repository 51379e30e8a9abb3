import pytest

from tests.support.provider import catalogue, fake_openrouter, fault_copies  # noqa: F401


@pytest.fixture(autouse=True)
def _media_in_tmp(media_root):
    return media_root


@pytest.fixture
def make_key(db):
    """A personal API key of ``user``: (ApiKey, secret)."""
    from accounts.api_keys import api_key_create

    def make(user, name="script", **fields):
        created = api_key_create(user=user, name=name, **fields)
        return created.key, created.secret

    return make


@pytest.fixture
def key_client():
    """A DRF test client sending ``Authorization: Bearer <secret>``."""
    from rest_framework.test import APIClient

    def make(secret):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
        return client

    return make


@pytest.fixture
def fault_model(catalogue):
    """A copy of a catalogue entry named ``<base>:fault=<fault>``, which the double answers with that fault."""
    return fault_copies("fake/echo")


@pytest.fixture
def served(asgi_server, catalogue, user, make_key):
    """The app served by uvicorn with the double's catalogue, and a key of ``user``:
    (base URL, ApiKey, secret)."""
    key, secret = make_key(user)
    return asgi_server.url, key, secret


@pytest.fixture
def sdk(served):
    """The official openai SDK pointed at our /v1/ with the user's key (no retries)."""
    import openai

    base, _, secret = served

    def make(api_key=None):
        return openai.OpenAI(base_url=f"{base}/v1", api_key=api_key or secret, max_retries=0, timeout=30)

    return make
