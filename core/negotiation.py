"""Content negotiation for the API (REST_FRAMEWORK's DEFAULT_CONTENT_NEGOTIATION_CLASS)."""

from __future__ import annotations

from rest_framework import exceptions
from rest_framework.negotiation import DefaultContentNegotiation


class ApiContentNegotiation(DefaultContentNegotiation):
    """DRF's negotiation, but ``?format=`` naming a format the view does not render is a
    406 (as an Accept header it cannot satisfy is), not DRF's bare 404."""

    def filter_renderers(self, renderers, format):
        matching = [renderer for renderer in renderers if renderer.format == format]
        if not matching:
            available = ", ".join(renderer.format for renderer in renderers)
            raise exceptions.NotAcceptable(f'Unknown format "{format}"; this endpoint renders: {available}.')
        return matching
