import pytest

from tests.provider_fixtures import catalogue, fake_openrouter  # noqa: F401


@pytest.fixture
def api(client_for, user):
    return client_for(user)
