"""Admin stats collected from every provider named in ADMIN_STATS_PROVIDERS."""
import pytest
from django.core.exceptions import ImproperlyConfigured

from admin_panel.selectors import admin_stats, stats_for_display
from tests.accounts.factories import UserFactory

pytestmark = pytest.mark.django_db


def sample_section() -> dict:
    return {"total": 3, "by_status": {"queued": 1, "completed": 2}}


def test_sections_are_nested_and_missing_providers_skipped(settings):
    UserFactory()
    settings.ADMIN_STATS_PROVIDERS = {
        "": "accounts.selectors.account_stats",
        "samples": "tests.admin_panel.test_selectors.sample_section",
        "absent": "no_such_app.selectors.stats",
        "missing_function": "accounts.selectors.no_such_function",
    }
    stats = admin_stats()
    assert stats["users"] == 1 and stats["samples"] == sample_section()
    assert "absent" not in stats and "missing_function" not in stats


def test_a_section_named_like_a_top_level_count_is_a_configuration_error(settings):
    settings.ADMIN_STATS_PROVIDERS = {
        "": "accounts.selectors.account_stats",
        "users": "tests.admin_panel.test_selectors.sample_section",
    }
    with pytest.raises(ImproperlyConfigured, match="users"):
        admin_stats()


def test_display_rows_flatten_nested_counts():
    sections = stats_for_display({"users": 2, "videos": {"total": 3, "by_status": {"queued": 1}}})
    assert sections == [("Accounts", [("Users", 2)]), ("Videos", [("Total", 3), ("By status: queued", 1)])]
