"""Small parsers for values from requests and from the provider."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

COST_PLACES = Decimal("0.00000001")


def int_or_none(value) -> int | None:
    """``value`` as an int, or None when it is not one (ids from URLs and forms)."""
    if isinstance(value, bool):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def cost_or_none(value) -> Decimal | None:
    """A provider's cost (number or string) as a Decimal of 8 places; None if unreadable."""
    if value is None or isinstance(value, bool):
        return None
    try:
        cost = Decimal(str(value)).quantize(COST_PLACES)
    except (InvalidOperation, ValueError):
        return None
    return cost if cost.is_finite() else None
