"""Generation sections on pages other apps own: the dashboard, the profile, admin stats."""
import pytest

pytestmark = pytest.mark.django_db


@pytest.fixture
def web(client, user):
    client.force_login(user)
    return client


def test_dashboard_and_profile_pages_include_the_generation_sections(catalogue, web):
    web.post("/generate/text", {"model": "fake/echo", "prompt": "on the dashboard"})

    dashboard = web.get("/").content.decode()
    assert 'data-testid="dashboard-generation"' in dashboard and "on the dashboard" in dashboard
    assert 'href="/generate/image"' in dashboard
    profile = web.get("/users/profile").content.decode()
    assert 'data-testid="usage-summary"' in profile


def test_admin_stats_include_generation_counts_and_cost(catalogue, web, client_for, admin_user):
    web.post("/generate/text", {"model": "openai/gpt-4o-mini", "prompt": "count me"})

    stats = client_for(admin_user).get("/api/admin/stats")

    assert stats.status_code == 200
    generations = stats.json()["generations"]
    assert generations["by_kind"]["text"] == 1 and generations["total_cost"] > 0
