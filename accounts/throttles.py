"""Throttles of the accounts endpoints: logins, registration, tokens and profile changes.

Logins (API, web form and the Django admin's form alike, through `login_wait` and
`login_failed`) count FAILED attempts only, per client address and per email address:

- an address with too many failures is refused before any password is checked (429 with
  Retry-After, no Argon2 hash spent);
- an email with too many failures is not refused: the right password still logs in (so
  nobody can lock a named user out by failing on purpose); a wrong one answers 429 instead
  of 401 until the failures run out, and counts against its address as always. Guessing at
  one account is thus bounded by the per-address limit of every address the guesser has.

Registration counts every attempt (DRF throttles on the API, `web_throttle_wait` on the
form). Refresh and logout have a per-address rate ("token"), profile changes a per-user one
("profile": each checks the current password).

Rates are DEFAULT_THROTTLE_RATES[scope], read on each request (not at import, as DRF's class
attribute would), so settings overrides apply.
"""

from __future__ import annotations

import hashlib
import logging

from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

from accounts.models import normalize_email
from core.throttles import web_throttle_wait

logger = logging.getLogger(__name__)
_warned_unused_forwarded_for = False


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


class _AddressThrottle(_SettingsRateThrottle):
    """Keyed by the client address (NUM_PROXIES decides where it comes from)."""

    def get_ident(self, request):
        global _warned_unused_forwarded_for
        if (
            not api_settings.NUM_PROXIES
            and not _warned_unused_forwarded_for
            and (request.META.get("HTTP_X_FORWARDED_FOR"))
        ):
            # Behind a proxy with NUM_PROXIES=0 every client shares the proxy's address.
            _warned_unused_forwarded_for = True
            logger.warning(
                "a request carries X-Forwarded-For but NUM_PROXIES is 0: the throttles use the "
                "connection's address (%s). Behind a reverse proxy, set NUM_PROXIES to the "
                "number of proxies, or all clients share one login limit.",
                request.META.get("REMOTE_ADDR"),
            )
        return super().get_ident(request)

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class AuthIpThrottle(_AddressThrottle):
    scope = "auth_ip"


class AuthEmailThrottle(_SettingsRateThrottle):
    scope = "auth_email"

    def get_cache_key(self, request, view):
        email = _posted_email(request)
        if not email:
            return None
        # Hashed: cache keys must not carry arbitrary characters (nor the address itself).
        ident = hashlib.sha256(email.encode()).hexdigest()[:32]
        return self.cache_format % {"scope": self.scope, "ident": ident}


class TokenThrottle(_AddressThrottle):
    """Refresh and logout, per client address."""

    scope = "token"


class ProfileThrottle(_SettingsRateThrottle):
    """Changes of one's own account, per user: each checks the current password."""

    scope = "profile"

    def get_cache_key(self, request, view):
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        return self.cache_format % {"scope": self.scope, "ident": user.pk}


class PasswordResetIpThrottle(_AddressThrottle):
    """Password-reset requests per client address: each one may send an email."""

    scope = "password_reset_ip"


class PasswordResetEmailThrottle(AuthEmailThrottle):
    """Password-reset requests per email address asked about, so nobody can fill a
    person's inbox with reset links from many addresses."""

    scope = "password_reset_email"


AUTH_THROTTLES = (AuthIpThrottle, AuthEmailThrottle)
PASSWORD_RESET_THROTTLES = (PasswordResetIpThrottle, PasswordResetEmailThrottle)


def login_wait(request) -> int | None:
    """Before a password is checked: seconds the client address must wait after too many
    failed logins; None when it may try. The email's failures do not stop a login here."""
    return web_throttle_wait(request, (AuthIpThrottle,), record=False)


def login_failed(request) -> int | None:
    """Count a failed login against its address and email. Returns the seconds the email
    was already locked for (answer 429 rather than 401 then), or None."""
    email_wait = web_throttle_wait(request, (AuthEmailThrottle,), record=False)
    for throttle in (AuthIpThrottle(), AuthEmailThrottle()):
        throttle.allow_request(request, None)  # counts it, unless already at its limit
    if email_wait is None and web_throttle_wait(request, (AuthEmailThrottle,), record=False):
        logger.warning("too many failed logins for %s: further failures answer 429", _posted_email(request))
    return email_wait
