"""The filters pages use for money and times (core/templatetags/studio.py)."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.template import Context, Template

from core.templatetags.studio import ago, local_time, moment, money

NOW = datetime(2026, 12, 6, 22, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (Decimal("0E-8"), "$0.00"),
        (0, "$0.00"),
        (Decimal("0.117"), "$0.12"),
        (Decimal("4.80000000"), "$4.80"),
        (Decimal("1234.5"), "$1,234.50"),
        (Decimal("0.00012345"), "$0.00012"),
        (Decimal("0.0095"), "$0.0095"),
        (Decimal("0.00000001"), "$0.00000001"),
        ("0.5", "$0.50"),
        (Decimal("-0.25"), "-$0.25"),
        (None, ""),
    ],
)
def test_money_has_sensible_precision(value, shown):
    assert money(value) == shown


@pytest.mark.parametrize(
    ("offset", "said"),
    [
        (timedelta(seconds=5), "just now"),
        (timedelta(seconds=59), "just now"),
        (timedelta(minutes=5, seconds=3), "5\xa0minutes ago"),
        (timedelta(hours=3, minutes=20), "3\xa0hours ago"),
        (-timedelta(hours=2, minutes=1), "in 2\xa0hours"),
    ],
)
def test_ago_never_says_zero_minutes(offset, said):
    assert ago(NOW - offset, NOW) == said


def test_times_from_the_api_read_as_local_times():
    resets = moment("2026-12-07T00:00:00Z")
    assert resets == datetime(2026, 12, 7, tzinfo=UTC)
    html = local_time(resets)
    assert html == '<time datetime="2026-12-07T00:00:00+00:00" data-local>7 Dec 2026, 00:00 UTC</time>'
    assert moment("not a time") is None and moment("") is None


def test_the_filters_are_on_every_template_without_a_load():
    assert Template("{{ cost|usd }}").render(Context({"cost": Decimal("0.5")})) == "$0.50"
