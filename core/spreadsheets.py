"""CSV that spreadsheets open safely: a text cell that starts with ``=``, ``+``, ``-``,
``@``, a tab or a carriage return is read by Excel, LibreOffice and Google Sheets as a
formula (``=cmd|'/c calc'!a0``, ``=HYPERLINK(...)``), so such cells get a leading single
quote (OWASP's rule for CSV injection). Numbers are written as they are: a negative
amount must stay a number, and a number cannot carry a formula."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """``value`` as a spreadsheet may read it: text that would start a formula is quoted;
    a Decimal is written in plain notation (str() of a zero at 8 places is "0E-8", which
    spreadsheets read as text), a negative one still a number."""
    if isinstance(value, Decimal):
        return f"{value:f}"
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


class SafeDictWriter(csv.DictWriter):
    """csv.DictWriter whose text cells are passed through :func:`safe_cell`."""

    def writerow(self, rowdict: Mapping[str, Any]):
        return super().writerow({key: safe_cell(value) for key, value in rowdict.items()})

    def writerows(self, rowdicts: Iterable[Mapping[str, Any]]):
        for row in rowdicts:
            self.writerow(row)
