"""Generation sections on pages other apps own: the dashboard, the profile, admin stats."""

import pytest
from django.template.loader import render_to_string
from django.test import RequestFactory

from generation import sections
from generation.models import Generation

pytestmark = pytest.mark.django_db


@pytest.fixture
def web(client, user):
    client.force_login(user)
    return client


def request_for(user, path="/"):
    request = RequestFactory().get(path)
    request.user = user
    return request


def test_dashboard_and_profile_pages_include_the_generation_sections(catalogue, web):
    web.post("/generate/text", {"model": "fake/echo", "prompt": "on the dashboard"})

    dashboard = web.get("/").content.decode()
    assert 'data-testid="dashboard-generation"' in dashboard and "on the dashboard" in dashboard
    assert 'href="/generate/image"' in dashboard
    profile = web.get("/users/profile").content.decode()
    assert 'data-testid="usage-summary"' in profile


def test_the_dashboard_context_is_the_users_newest_generations(catalogue, web, user, other_user):
    for prompt in ("one", "two", "three", "four", "five", "six"):
        web.post("/generate/text", {"model": "fake/echo", "prompt": prompt})

    recent = sections.dashboard_context(request_for(user))["recent"]

    assert [entry.generation.prompt for entry in recent] == ["six", "five", "four", "three", "two"]
    assert sections.dashboard_context(request_for(other_user)) == {"recent": []}


def test_dashboard_section_links_everything_and_shows_recent(catalogue, web):
    web.post("/generate/text", {"model": "fake/echo", "prompt": "my recent prompt"})
    request = request_for(Generation.objects.get().owner)

    html = render_to_string("generation/_dashboard_recent.html", sections.dashboard_context(request), request=request)

    for link in ("/generate/text", "/generate/image", "/history"):
        assert f'href="{link}"' in html
    assert "my recent prompt" in html


def test_usage_summary_section(catalogue, web, user):
    web.post("/generate/text", {"model": "openai/gpt-4o-mini", "prompt": "count me"})

    context = sections.profile_context(request_for(user, "/users/profile"))
    html = render_to_string("generation/_usage_summary.html", context)

    cost = Generation.objects.get().cost
    assert context["usage"]["by_kind"]["text"] == 1
    assert 'data-testid="usage-summary"' in html and f"${cost:.6f}" in html


def test_admin_stats_include_generation_counts_and_cost(catalogue, web, client_for, admin_user):
    web.post("/generate/text", {"model": "openai/gpt-4o-mini", "prompt": "count me"})

    stats = client_for(admin_user).get("/api/admin/stats")

    assert stats.status_code == 200
    generations = stats.json()["generations"]
    assert generations["by_kind"]["text"] == 1 and generations["total_cost"] > 0


def test_the_profile_usage_table_counts_video_jobs_and_their_cost(web, user, other_user):
    from decimal import Decimal

    from tests.factories import GenerationFactory, VideoJobFactory
    from videos.models import VideoJob

    GenerationFactory(owner=user, cost=Decimal("0.25"))
    VideoJobFactory(owner=user, status=VideoJob.Status.COMPLETED, cost=Decimal("1.5"))
    VideoJobFactory(owner=user, status=VideoJob.Status.FAILED, cost=None)
    VideoJobFactory(owner=user, status=VideoJob.Status.QUEUED)
    VideoJobFactory(owner=other_user, status=VideoJob.Status.COMPLETED, cost=Decimal("9"))

    html = web.get("/users/profile").content.decode()

    assert 'data-testid="usage-videos">3 (1 completed)<' in html
    assert 'data-testid="usage-failed">0 generations, 1 video job<' in html
    assert 'data-testid="usage-cost">$1.75<' in html
    assert 'data-testid="usage-video-cost">$1.50<' in html
    assert sections.profile_context(request_for(other_user))["usage"]["videos"]["total"] == 1
