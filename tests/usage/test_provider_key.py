"""The provider key's own usage and limit (GET /key): the client, and the admin stats."""

import socket

import pytest

from openrouter import parsing
from openrouter.client import OpenRouterClient
from openrouter.config import ClientConfig
from openrouter.errors import ProviderAuthError, ProviderMalformedResponse
from openrouter.types import KeyInfo
from tests.factories import AdminFactory, UserFactory
from tests.support.accounts import bearer_client
from tests.support.provider import fake_openrouter  # noqa: F401
from usage import services

pytestmark = pytest.mark.django_db


def test_parsing_reads_usage_limit_and_remaining():
    info = parsing.key_info(
        {
            "data": {
                "label": "sk-or-v1-abc",
                "usage": "1.25",
                "limit": 10,
                "limit_remaining": 8.75,
                "is_free_tier": False,
            }
        }
    )
    assert info == KeyInfo(label="sk-or-v1-abc", usage=1.25, limit=10.0, limit_remaining=8.75, is_free_tier=False)
    assert parsing.key_info({"data": {"usage": 0, "limit": None}}).limit is None
    with pytest.raises(ProviderMalformedResponse):
        parsing.key_info({"label": "no data object"})


def test_the_client_asks_the_double_for_the_key(fake_openrouter):  # noqa: F811
    config = ClientConfig(base_url=fake_openrouter.base_url, api_key="test-key", max_retries=0)
    client = OpenRouterClient(config)
    try:
        assert client.key_info() == KeyInfo(label="fake-openrouter", usage=0.0, limit=None, limit_remaining=None)
    finally:
        client.close()
    assert [r.path for r in fake_openrouter.received][-1:] == ["/api/v1/key"]


def test_admin_stats_show_the_keys_usage_and_limit(fake_openrouter, settings):  # noqa: F811
    settings.DEMO_MODE = True  # the double answers /key in demo mode too: shown, and said so
    stats = bearer_client(AdminFactory()).get("/api/admin/stats").json()

    assert stats["provider_key"] == {
        "label": "fake-openrouter",
        "usage": 0.0,
        "limit": None,
        "limit_remaining": None,
        "is_free_tier": False,
        "demo_mode": True,
    }


def test_the_answer_is_cached_for_a_minute(fake_openrouter):  # noqa: F811
    services.provider_key_stats()
    services.provider_key_stats()
    assert sum(r.path == "/api/v1/key" for r in fake_openrouter.received) == 1


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_provider_that_does_not_answer_is_a_message_not_an_error(settings):
    settings.OPENROUTER_BASE_URL = f"http://127.0.0.1:{_closed_port()}/api/v1"
    settings.OPENROUTER_MAX_RETRIES = 5  # the stats ask once anyway

    response = bearer_client(AdminFactory()).get("/api/admin/stats")

    assert response.status_code == 200
    assert response.json()["provider_key"]["error"].startswith("The provider did not report the key's usage")
    assert "users" in response.json()


def test_a_refused_key_shows_the_reason_on_the_admin_page(monkeypatch, client):
    def refuse(self):
        raise ProviderAuthError("User not found.")

    monkeypatch.setattr(OpenRouterClient, "key_info", refuse)
    client.force_login(AdminFactory())

    html = client.get("/admin-panel/").content.decode()

    assert "Provider key" in html and "The provider did not report the key&#x27;s usage" in html


def test_the_admin_page_shows_the_key_and_links_to_site_usage(fake_openrouter, client):  # noqa: F811
    client.force_login(AdminFactory())
    html = client.get("/admin-panel/").content.decode()
    assert 'data-testid="stat-label">fake-openrouter<' in html
    assert 'data-testid="stat-limit">none<' in html
    assert 'href="/admin-panel/usage"' in html


def test_the_key_is_never_shown_to_non_admins(fake_openrouter):  # noqa: F811
    assert bearer_client(UserFactory()).get("/api/admin/stats").status_code == 403
