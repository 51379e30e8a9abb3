"""The registry of sections apps add to other apps' pages and to the admin stats."""

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.test import RequestFactory

from core import sections


@pytest.fixture
def registry(monkeypatch):
    """An empty registry for the test (the apps' registrations come back afterwards)."""
    monkeypatch.setattr(sections, "_admin_stats", {})
    monkeypatch.setattr(sections, "_page_sections", {page: [] for page in sections.PAGES})


def test_the_apps_register_their_page_sections_in_order():
    assert sections.page_sections("dashboard") == [
        "generation/_dashboard_recent.html",
        "conversations/_dashboard_recent.html",
        "videos/_dashboard_recent.html",
    ]
    assert sections.page_sections("profile") == [
        "generation/_usage_summary.html",
        "twofactor/_profile_section.html",
    ]


def test_the_registered_templates_pass_the_system_check():
    assert sections.check_page_section_templates() == []
    call_command("check")  # raises SystemCheckError on any error


def test_a_missing_template_is_a_system_check_error(registry):
    sections.register_page_section("dashboard", "generation/_no_such_section.html")
    errors = sections.check_page_section_templates()
    assert [e.id for e in errors] == ["core.E001"] and "_no_such_section" in errors[0].msg


def test_an_unknown_page_is_refused_at_registration(registry):
    with pytest.raises(ImproperlyConfigured, match="dashbord"):
        sections.register_page_section("dashbord", "generation/_dashboard_recent.html")


def test_a_section_renders_its_providers_context_over_the_pages(registry, tmp_path, settings):
    (tmp_path / "section.html").write_text("{{ greeting }} {{ name }} {{ request.path }}")
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [tmp_path, *settings.TEMPLATES[0]["DIRS"]]}]
    asked = []

    def context(request):
        asked.append(request)
        return {"name": "section"}

    sections.register_page_section("dashboard", "section.html", context=context)
    request = RequestFactory().get("/here")

    rendered = sections.render_page_sections("dashboard", request, {"greeting": "hi", "name": "page"})

    assert rendered == ["hi section /here"] and asked == [request]
    assert sections.page_sections("dashboard") == ["section.html"]


def test_a_section_without_a_provider_renders_the_pages_context(registry, tmp_path, settings):
    (tmp_path / "plain.html").write_text("{{ greeting }}")
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [tmp_path, *settings.TEMPLATES[0]["DIRS"]]}]
    sections.register_page_section("profile", "plain.html")

    assert sections.render_page_sections("profile", RequestFactory().get("/"), {"greeting": "hi"}) == ["hi"]


def test_a_section_context_must_be_callable_and_registered_once(registry):
    with pytest.raises(ImproperlyConfigured, match="not callable"):
        sections.register_page_section("dashboard", "a.html", context={"recent": []})
    sections.register_page_section("dashboard", "a.html", context=dict)
    sections.register_page_section("dashboard", "a.html", context=dict)  # ready() run twice is fine
    with pytest.raises(ImproperlyConfigured, match="twice"):
        sections.register_page_section("dashboard", "a.html", context=list)
    assert sections.page_sections("dashboard") == ["a.html"]


def test_a_provider_must_be_callable_and_registered_once(registry):
    with pytest.raises(ImproperlyConfigured, match="not callable"):
        sections.register_admin_stats("videos", "videos.selectors.video_stats")
    sections.register_admin_stats("videos", dict)
    sections.register_admin_stats("videos", dict)  # the same again (ready() run twice) is fine
    assert sections.admin_stats_providers() == {"videos": dict}
    with pytest.raises(ImproperlyConfigured, match="twice"):
        sections.register_admin_stats("videos", list)
    assert sections.admin_stats_providers() == {"videos": dict}
