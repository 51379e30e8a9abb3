"""The date range of the site-wide usage (API query and admin page alike)."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

from core.errors import InvalidInput
from usage.selectors import RECENT_DAYS, today_utc

MAX_RANGE_DAYS = 366
DATE_FORMAT = "%Y-%m-%d"
_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")  # strptime alone would take "2026-3-1"


def _parse(value: str, field: str, errors: dict) -> date | None:
    try:
        if not _ISO_DAY.fullmatch(value):
            raise ValueError(value)
        return datetime.strptime(value, DATE_FORMAT).date()
    except ValueError:
        errors[field] = [f"Enter a date as YYYY-MM-DD (UTC), not {value[:40]!r}."]
        return None


class UsageRangeIn:
    """``from`` and ``to`` (YYYY-MM-DD, UTC days, both included). Absent or empty:
    ``to`` is today and ``from`` RECENT_DAYS - 1 days before ``to``. Invalid input raises
    InvalidInput naming the field (a 400 ``{"from": [...]}`` in the API)."""

    def __init__(self, query) -> None:
        self.raw = {name: (query.get(name) or "").strip() for name in ("from", "to")}

    def cleaned_range(self, *, today: date | None = None) -> tuple[date, date]:
        errors: dict[str, list[str]] = {}
        first = _parse(self.raw["from"], "from", errors) if self.raw["from"] else None
        last = _parse(self.raw["to"], "to", errors) if self.raw["to"] else None
        if errors:
            raise InvalidInput(errors=errors)
        last = last or (today or today_utc())
        first = first or (last - timedelta(days=RECENT_DAYS - 1))
        if first > last:
            raise InvalidInput(errors={"from": ["The first day must not be after the last (`to`)."]})
        if (last - first).days + 1 > MAX_RANGE_DAYS:
            raise InvalidInput(errors={"to": [f"A range spans at most {MAX_RANGE_DAYS} days."]})
        return first, last
