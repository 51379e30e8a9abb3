"""Admin stats collected from every provider registered in core.sections."""

import pytest
from django.core.exceptions import ImproperlyConfigured

from accounts.selectors import account_stats
from admin_panel.selectors import admin_stats, stats_for_display
from core import sections
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def sample_section() -> dict:
    return {"total": 3, "by_status": {"queued": 1, "completed": 2}}


def test_the_apps_register_their_sections_at_start_up():
    assert list(sections.admin_stats_providers()) == ["", "generations", "videos", "provider_key"]


def test_sections_are_nested_under_their_names(monkeypatch):
    UserFactory()
    monkeypatch.setattr(sections, "_admin_stats", {"": account_stats, "samples": sample_section})
    stats = admin_stats()
    assert stats["users"] == 1 and stats["samples"] == sample_section()


def test_a_section_named_like_a_top_level_count_is_a_configuration_error(monkeypatch):
    monkeypatch.setattr(sections, "_admin_stats", {"": account_stats, "users": sample_section})
    with pytest.raises(ImproperlyConfigured, match="users"):
        admin_stats()


def test_display_rows_flatten_nested_counts():
    sections_ = stats_for_display({"users": 2, "videos": {"total": 3, "by_status": {"queued": 1}}})
    assert sections_ == [("Accounts", [("Users", 2)]), ("Videos", [("Total", 3), ("By status: queued", 1)])]
