"""Admin stats collected from every provider registered in core.sections."""

from decimal import Decimal

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
    assert list(sections.admin_stats_providers()) == ["", "generations", "videos", "provider_key", "spend"]


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
    assert sections_ == [
        ("Accounts", [("Users", 2, "users")]),
        ("Videos", [("Total", 3, "total"), ("By status: queued", 1, "by-status-queued")]),
    ]


def test_display_values_read_as_words_and_money():
    stats = {
        "generations": {"total_cost": Decimal("0.11712345")},
        "provider_key": {"is_free_tier": False, "limit": None, "usage": 0.0},
        "spend": {"all_time": Decimal("0.51712345"), "today": Decimal("0")},
    }
    generations, key, spend = stats_for_display(stats)
    assert generations == ("Generations", [("Cost", "$0.12", "total-cost")])
    assert key == (
        "Provider key (OpenRouter)",
        [("Free tier", "no", "is-free-tier"), ("Credit limit", "none", "limit"), ("Credit used", "$0.00", "usage")],
    )
    assert spend[1] == [("All time", "$0.52", "all-time"), ("Today (UTC)", "$0.00", "today")]


def test_the_spend_section_counts_videos_as_the_usage_pages_do():
    from datetime import date

    from tests.factories import GenerationFactory, VideoJobFactory
    from usage.selectors import site_usage, today_utc
    from videos.models import VideoJob

    GenerationFactory(cost=Decimal("0.10"))
    VideoJobFactory(status=VideoJob.Status.COMPLETED, cost=Decimal("0.40"))
    spend = admin_stats()["spend"]
    assert spend["all_time"] == spend["today"] == Decimal("0.5")
    today = today_utc()
    assert site_usage(first=date(2000, 1, 1), last=today)["totals"]["cost"] == spend["all_time"]
