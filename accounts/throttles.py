"""Login and registration throttles: per client address and per email address.

DRF throttles for the API (every attempt counts; 429 with Retry-After). The web forms use
the same counters and rates through `core.throttles.web_throttle_wait(request,
AUTH_THROTTLES, record=...)`: registration counts every attempt, login only failed ones, so
people behind one address are not locked out by each other's successful logins.

Rates are DEFAULT_THROTTLE_RATES["auth_ip"] and ["auth_email"], read on each request
(not at import, as DRF's class attribute would), so settings overrides apply.
"""
from __future__ import annotations

import hashlib

from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

from accounts.models import normalize_email


def _posted_email(request) -> str:
    data = getattr(request, "data", None)
    if data is None:
        data = request.POST
    if not hasattr(data, "get"):
        return ""
    value = data.get("email") or data.get("username") or ""
    return normalize_email(value) if isinstance(value, str) else ""


class _SettingsRateThrottle(SimpleRateThrottle):
    def get_rate(self):
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)


class AuthIpThrottle(_SettingsRateThrottle):
    scope = "auth_ip"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class AuthEmailThrottle(_SettingsRateThrottle):
    scope = "auth_email"

    def get_cache_key(self, request, view):
        email = _posted_email(request)
        if not email:
            return None
        # Hashed: cache keys must not carry arbitrary characters (nor the address itself).
        ident = hashlib.sha256(email.encode()).hexdigest()[:32]
        return self.cache_format % {"scope": self.scope, "ident": ident}


AUTH_THROTTLES = (AuthIpThrottle, AuthEmailThrottle)
