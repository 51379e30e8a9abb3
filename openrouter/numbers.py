"""Reading numbers out of provider payloads, which may send them as text or not at all.
(The package imports no app, so it has its own copy of core.parsing.int_or_none.)"""

from __future__ import annotations

from typing import Any


def int_or_none(value: Any) -> int | None:
    """``value`` as an int, or None when it is not one (a bool is not a number here)."""
    if isinstance(value, bool):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
