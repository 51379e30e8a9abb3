"""Filters every page uses to say numbers and times the way people read them:
``{{ cost|usd }}``, ``{{ moment|ago }}``, ``{{ moment|local_time }}``."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django import template
from django.utils import timezone
from django.utils.html import format_html
from django.utils.timesince import timesince, timeuntil

register = template.Library()

CENT = Decimal("0.01")


def money(value) -> str:
    """US dollars with sensible precision: cents from a cent up ("$1,234.50"), two significant
    digits below it so a text answer's cost is not shown as "$0.00" ("$0.00012"), "$0.00"
    for nothing. Empty for no value."""
    if value is None or value == "":
        return ""
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        return str(value)
    sign = "-" if amount < 0 else ""
    amount = abs(amount)
    if amount == 0:
        return "$0.00"
    if amount >= CENT:
        return f"{sign}${amount.quantize(CENT, rounding=ROUND_HALF_UP):,.2f}"
    places = min(8, 1 - amount.adjusted())  # two significant digits
    text = f"{amount.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP):f}".rstrip("0")
    return f"{sign}${text}"


@register.filter
def usd(value) -> str:
    return money(value)


@register.filter
def ago(value, now: datetime | None = None) -> str:
    """ "just now" under a minute, else the largest unit: "5 minutes ago", "in 3 hours"."""
    if not isinstance(value, datetime):
        return ""
    now = now or timezone.now()
    seconds = (now - value).total_seconds()
    if abs(seconds) < 60:
        return "just now"
    if seconds > 0:
        return f"{timesince(value, now, depth=1)} ago"
    return f"in {timeuntil(value, now, depth=1)}"


@register.filter
def local_time(value) -> str:
    """A <time> the page's script turns into the reader's own time zone; UTC until it does."""
    if not isinstance(value, datetime):
        return ""
    utc = value.astimezone(UTC) if timezone.is_aware(value) else value
    return format_html(
        '<time datetime="{}" data-local>{} UTC</time>', utc.isoformat(), utc.strftime("%-d %b %Y, %H:%M")
    )


@register.filter
def moment(value):
    """A datetime from an ISO 8601 string ("2026-12-07T00:00:00Z", as the APIs write
    times), for the filters above; a datetime is returned as it is."""
    if isinstance(value, datetime) or not value:
        return value or None
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
