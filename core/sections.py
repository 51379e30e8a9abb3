"""Sections an app adds to pages and stats that other apps own, so that the owners
(accounts' dashboard and profile, admin_panel's stats) never import the contributors.

Each app registers its sections in its ``AppConfig.ready()``:

    register_admin_stats("videos", video_stats)          # nested under "videos"
    register_page_section("dashboard", "videos/_dashboard_recent.html", context=dashboard_context)

A page section is a template and, optionally, a context provider: a callable taking the
request and returning the dict the template renders (it calls the app's selectors), so
section templates only render. The owning page's view calls ``render_page_sections``.

A misregistration fails at start-up, never silently: an unknown page, a provider that is
not callable or a section registered twice (with another provider) raise
ImproperlyConfigured at once, and a template that does not exist is an error of the
system check below (``manage.py check``, run by runserver and migrate).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.core import checks
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest
from django.template import TemplateDoesNotExist
from django.template.loader import get_template, render_to_string
from django.utils.safestring import SafeString

# The pages that include sections: the dashboard and the profile page (accounts).
PAGES = ("dashboard", "profile")

_admin_stats: dict[str, Callable[[], dict]] = {}


@dataclass(frozen=True)
class PageSection:
    template_name: str
    context: Callable[[HttpRequest], dict] | None = None

    def render(self, request: HttpRequest, page_context: dict | None = None) -> SafeString:
        context = {**(page_context or {}), **(self.context(request) if self.context else {})}
        return render_to_string(self.template_name, context, request=request)


_page_sections: dict[str, list[PageSection]] = {page: [] for page in PAGES}


def register_admin_stats(section: str, provider: Callable[[], dict]) -> None:
    """Add ``provider`` (no arguments, returns a JSON-serialisable dict of counts) to the
    admin stats. Section "" merges its counts at the top level; any other section nests
    them under its name."""
    if not callable(provider):
        raise ImproperlyConfigured(f"admin stats section {section!r}: {provider!r} is not callable")
    known = _admin_stats.get(section)
    if known is not None and known is not provider:
        raise ImproperlyConfigured(f"admin stats section {section!r} is registered twice")
    _admin_stats[section] = provider


def admin_stats_providers() -> dict[str, Callable[[], dict]]:
    """Section name -> provider, in the order of registration."""
    return dict(_admin_stats)


def register_page_section(page: str, template_name: str, context: Callable[[HttpRequest], dict] | None = None) -> None:
    """Show ``template_name`` on ``page``, after the sections registered before it. The
    template renders the page's context (with the context processors') updated by
    ``context(request)``, when a provider is given."""
    if page not in PAGES:
        raise ImproperlyConfigured(f"no page {page!r} takes sections; choose one of {', '.join(PAGES)}")
    if context is not None and not callable(context):
        raise ImproperlyConfigured(f"{page} section {template_name!r}: {context!r} is not callable")
    section = PageSection(template_name, context)
    for known in _page_sections[page]:
        if known.template_name == template_name:
            if known != section:
                raise ImproperlyConfigured(f"{page} section {template_name!r} is registered twice")
            return
    _page_sections[page].append(section)


def page_sections(page: str) -> list[str]:
    """The template names registered for ``page``, in the order of registration."""
    return [section.template_name for section in _page_sections[page]]


def render_page_sections(page: str, request: HttpRequest, page_context: dict | None = None) -> list[SafeString]:
    """``page``'s sections rendered for ``request``, in the order of registration."""
    return [section.render(request, page_context) for section in _page_sections[page]]


@checks.register()
def check_page_section_templates(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """Every registered section template exists."""
    errors: list[checks.CheckMessage] = []
    for page, sections in _page_sections.items():
        for name in (section.template_name for section in sections):
            try:
                get_template(name)
            except TemplateDoesNotExist:
                errors.append(
                    checks.Error(
                        f"The {page} section template {name!r} does not exist.",
                        hint="Fix the name given to core.sections.register_page_section().",
                        obj=name,
                        id="core.E001",
                    )
                )
    return errors
