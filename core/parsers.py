"""The API's request parsers: DRF's, with JSON that is nested too deeply answered as bad input."""

from __future__ import annotations

from rest_framework import parsers
from rest_framework.exceptions import ParseError


class JSONParser(parsers.JSONParser):
    """DRF's JSONParser; a document nested deeper than Python's json module recurses (about
    a thousand levels: ``[`` x 100000 is a few hundred kilobytes) is a 400, not a
    RecursionError that would end as a 500."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError("JSON parse error - the document is nested too deeply.") from None
