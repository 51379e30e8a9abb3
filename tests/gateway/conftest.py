import pytest

from tests.support.provider import catalogue, fake_openrouter  # noqa: F401


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
