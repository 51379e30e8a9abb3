import pytest

from tests.factories import AdminFactory, UserFactory
from tests.provider_fixtures import catalogue, fake_openrouter  # noqa: F401


@pytest.fixture(autouse=True)
def _media_in_tmp(media_root):
    """Every generation test stores its files in its own temporary MEDIA_ROOT."""
    return media_root


@pytest.fixture
def user(db):
    return UserFactory()


@pytest.fixture
def other_user(db):
    return UserFactory()


@pytest.fixture
def admin_user(db):
    return AdminFactory()


@pytest.fixture
def api(user):
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def client_for():
    """An API client signed in as the given user (None: anonymous)."""
    from rest_framework.test import APIClient

    def make(user=None):
        client = APIClient()
        if user is not None:
            client.force_authenticate(user)
        return client
    return make
