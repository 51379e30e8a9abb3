"""Throttles shared by the apps, and the one helper that applies DRF throttles to web forms."""

from __future__ import annotations

import math

from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle, UserRateThrottle


class GenerationThrottle(UserRateThrottle):
    """Per-user rate for generation requests (THROTTLE_GENERATION, e.g. "30/min"),
    shared by the API and the web forms. The rate is read when a request comes, so a
    changed setting applies without a restart of the class."""

    scope = "generation"

    def get_rate(self):
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)


def _seconds_over(throttle: SimpleRateThrottle, request) -> float | None:
    """Seconds until ``throttle`` lets ``request`` through again; None when it would now."""
    # What DRF's __init__ stores as num_requests and duration (attributes its stubs omit).
    num_requests, duration = throttle.parse_rate(throttle.rate)
    if num_requests is None or duration is None:
        return None
    key = throttle.get_cache_key(request, None)  # type: ignore[arg-type]  # no APIView on a web page; the key ignores it
    if key is None:
        return None
    now = throttle.timer()
    history = [t for t in throttle.cache.get(key, []) if t > now - duration]
    if len(history) < num_requests:
        return None
    return history[-1] + duration - now  # when the oldest counted request expires


def web_throttle_wait(request, throttle_classes=(GenerationThrottle,), *, record: bool = True) -> int | None:
    """For web views: None when the request may go ahead, else whole seconds to wait.

    The same counters and rates as the API's throttles (``throttle_classes``). With
    ``record`` an allowed request is counted, as DRF counts API requests; without it the
    helper only looks, so a view can count only some outcomes (failed logins) by calling
    it again with ``record=True`` afterwards. A refused request is never counted.
    """
    throttles = [throttle_class() for throttle_class in throttle_classes]
    waits = [wait for throttle in throttles if (wait := _seconds_over(throttle, request)) is not None]
    if waits:
        return max(1, math.ceil(max(waits)))
    if record:
        for throttle in throttles:
            if throttle.rate is not None:
                throttle.allow_request(request, None)
    return None
