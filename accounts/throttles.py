"""Throttles of the accounts endpoints: logins, registration, tokens and profile changes.

Logins (API and site form; the Django admin's sign-in is the site's form) go through
`login_attempt`, which decides before any password is hashed:

- **per client address** (IPv6 clients grouped by their /64, which one machine usually
  holds whole): an attempt is counted atomically (cache ``add``/``incr``) before the
  password check, and given back when it succeeds, so the address's limit counts failures
  and no burst of concurrent requests gets past it. Over the limit: 429, no hash spent.
- **per account** (the email, registered or not): after ``LOGIN_ACCOUNT_FAILURES`` failures
  in a row the account needs a delay, ``LOGIN_ACCOUNT_DELAY`` seconds the first time and
  doubling each time after (at most ``LOGIN_ACCOUNT_DELAY_MAX``), whatever address the
  attempts come from. During the delay every attempt answers 429 saying so, the right
  password too (it is not even checked). A successful login clears the account's count.
  A named person can thus be delayed by someone failing on purpose, never locked out for
  good; guessing is bounded to a few dozen tries per account a day.

Registration counts every attempt, per address and per email, the same atomic way. Refresh
and logout have a per-address rate ("token"), profile changes a per-user one ("profile":
each checks the current password).

Rates are DEFAULT_THROTTLE_RATES[scope], read on each request (not at import, as DRF's class
attribute would), so settings overrides apply.
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
import math
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

from accounts.models import normalize_email
from accounts.services import AwaitingApproval, InvalidCredentials
from core.errors import TooManyRequests

logger = logging.getLogger(__name__)
_warned_unused_forwarded_for = False

# An account's failures are forgotten this long after the first of them, and its delays
# stop doubling this long after the last one.
ACCOUNT_MEMORY_SECONDS = 24 * 3600


def _posted_email(request) -> str:
    data = getattr(request, "data", None)
    if data is None:
        data = request.POST
    if not hasattr(data, "get"):
        return ""
    value = data.get("email") or data.get("username") or ""
    return normalize_email(value) if isinstance(value, str) else ""


def address_group(address: str) -> str:
    """The unit an address is limited as: an IPv4 address itself, an IPv6 address's /64
    (an IPv4-mapped one as its IPv4 address); anything unreadable as it is."""
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


def _email_key(email: str) -> str:
    # Hashed: cache keys must not carry arbitrary characters (nor the address itself).
    return hashlib.sha256(email.encode()).hexdigest()[:32]


def _minutes(seconds: int) -> str:
    minutes = max(1, math.ceil(seconds / 60))
    return "1 minute" if minutes == 1 else f"{minutes} minutes"


class _SettingsRateThrottle(SimpleRateThrottle):
    def get_rate(self):
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)


class _AddressThrottle(_SettingsRateThrottle):
    """Keyed by the client address (NUM_PROXIES decides where it comes from), IPv6 by /64."""

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
        return address_group(super().get_ident(request))

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
        return self.cache_format % {"scope": self.scope, "ident": _email_key(email)}


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


PASSWORD_RESET_THROTTLES = (PasswordResetIpThrottle, PasswordResetEmailThrottle)


# ------------------------------------------------------------------ atomic attempt counters


class LoginRefused(TooManyRequests):
    """429 before any password is checked; the message says who must wait and how long."""


@dataclass(frozen=True)
class _Counted:
    key: str  # the bucket the attempt was counted in (to give it back)


def _parse_rate(rate: str) -> tuple[int, int]:
    """DRF's rate notation ("30/min": 30 per 60 seconds) as (count, seconds)."""
    count, period = rate.split("/")
    return int(count), {"s": 1, "m": 60, "h": 3600, "d": 86400}[period[0]]


# A rate's period is counted in this many buckets: an attempt leaves the count when its
# bucket leaves the period (so the last 10 % of a period may be forgotten early).
BUCKETS = 10


def _count_attempt(*, scope: str, ident: str) -> _Counted | int | None:
    """Count one attempt in ``scope``'s rate for ``ident``, atomically.

    The period is kept as BUCKETS counters; the attempt is ``incr``-ed into the current one
    first and the decision read from the value that returned plus the earlier buckets, so
    of any number of concurrent attempts at most the rate's count get through. Returns
    where it was counted, the whole seconds to wait (a refused attempt is not counted), or
    None when the scope has no rate.
    """
    rate = api_settings.DEFAULT_THROTTLE_RATES.get(scope)
    if not rate:
        return None
    limit, period = _parse_rate(str(rate))
    size = period / BUCKETS
    now = time.time()
    current = int(now // size)

    def key(bucket: int) -> str:
        return f"attempts:{scope}:{ident}:{bucket}"

    timeout = math.ceil(period + size) + 1
    cache.add(key(current), 0, timeout=timeout)
    try:
        count = cache.incr(key(current))
    except ValueError:  # expired between add and incr
        cache.add(key(current), 1, timeout=timeout)
        count = 1
    buckets = range(current - BUCKETS + 1, current)
    earlier = cache.get_many([key(bucket) for bucket in buckets])
    counts = [earlier.get(key(bucket), 0) for bucket in buckets] + [count - 1]
    if sum(counts) + 1 <= limit:
        return _Counted(key(current))
    _give_back(key(current))
    # Wait until enough of the oldest attempts have left the period for one more.
    to_leave, left = sum(counts) + 1 - limit, 0
    for bucket, counted in zip([*buckets, current], counts, strict=True):
        left += counted
        if left >= to_leave:
            return max(1, math.ceil((bucket + BUCKETS) * size - now))
    return max(1, math.ceil(period))


def _give_back(key: str) -> None:
    try:
        cache.decr(key)
    except ValueError:  # the window is gone already: nothing left to give back
        pass


# ------------------------------------------------------------------ per account


class _Account:
    """An account's failed sign-ins in the cache (registered or not: the email's hash).

    ``level`` is how many delays it had (all forgotten a day after the last). Failures are
    counted per level, and each delay has its own key, written once with ``add``: so the
    count starts afresh after a delay without a reset that attempts still in flight could
    slip through, and of concurrent failures exactly one starts the delay."""

    def __init__(self, email: str) -> None:
        ident = _email_key(email)
        self.email = email
        self._prefix = f"login-account:{ident}"
        self.level_key = f"{self._prefix}:level"

    def failures_key(self, level: int) -> str:
        return f"{self._prefix}:failures:{level}"

    def until_key(self, level: int) -> str:
        return f"{self._prefix}:until:{level}"

    def level(self) -> int:
        return cache.get(self.level_key, 0)

    def delay_left(self) -> int | None:
        """Seconds left of the latest delay; None when there is none running."""
        level = self.level()
        until = cache.get(self.until_key(level - 1)) if level else None
        if until is None:
            return None
        left = until - time.time()
        return max(1, math.ceil(left)) if left > 0 else None

    def count_attempt(self, level: int) -> int:
        key = self.failures_key(level)
        cache.add(key, 0, timeout=ACCOUNT_MEMORY_SECONDS)
        try:
            return cache.incr(key)
        except ValueError:
            cache.add(key, 1, timeout=ACCOUNT_MEMORY_SECONDS)
            return 1

    def delay_start(self, level: int) -> int:
        """Start the delay after ``level`` earlier ones (unless a concurrent failure just
        did): LOGIN_ACCOUNT_DELAY, doubled per earlier delay, at most LOGIN_ACCOUNT_DELAY_MAX.
        Returns the seconds left of it."""
        delay = min(settings.LOGIN_ACCOUNT_DELAY * 2**level, settings.LOGIN_ACCOUNT_DELAY_MAX)
        # The delay is written before the level moves on: an attempt that reads the new
        # level (and so a fresh count) finds the delay running.
        if cache.add(self.until_key(level), time.time() + delay, timeout=ACCOUNT_MEMORY_SECONDS):
            cache.set(self.level_key, level + 1, timeout=ACCOUNT_MEMORY_SECONDS)
            logger.warning("too many failed sign-ins for %s: delayed for %d s", self.email, delay)
        until = cache.get(self.until_key(level))
        return max(1, math.ceil(until - time.time())) if until is not None else 1

    def forget(self, level: int) -> None:
        """A right password: the failures and the delays' doubling start again."""
        keys = [self.level_key]
        for each in range(level + 2):  # one more: a delay a concurrent failure just started
            keys += [self.failures_key(each), self.until_key(each)]
        cache.delete_many(keys)


def _account_refused(seconds: int) -> LoginRefused:
    return LoginRefused(
        f"Too many failed sign-ins for this account; try again in {_minutes(seconds)}.", retry_after=seconds
    )


# ------------------------------------------------------------------ the login attempt


class LoginAttempt:
    """One login, admitted before its password is checked (`login_attempt`); the block it
    guards checks the password. Leaving the block normally (or with the right password of
    an account waiting for approval) gives the address's attempt back and clears the
    account's failures; InvalidCredentials keeps both counted, and when this failure starts
    the account's delay, LoginRefused (429) is raised in its place; any other error (no
    password was checked) gives both counts back."""

    def __init__(self, *, account: _Account, counted: _Counted | None, level: int, failures: int) -> None:
        self._account = account
        self._counted = counted
        self._level = level
        self._failures = failures

    def __enter__(self) -> LoginAttempt:
        return self

    def __exit__(self, exc_type, exc, traceback) -> None:
        if exc_type is not None and issubclass(exc_type, InvalidCredentials):
            if self._failures >= settings.LOGIN_ACCOUNT_FAILURES:
                raise _account_refused(self._account.delay_start(self._level)) from None
            return
        if self._counted is not None:
            _give_back(self._counted.key)
        if exc_type is None or issubclass(exc_type, AwaitingApproval):
            self._account.forget(self._level)
        else:
            _give_back(self._account.failures_key(self._level))


def login_attempt(request, email: str) -> LoginAttempt:
    """Admit a login for ``email`` from ``request``'s client before any password is
    checked, or raise LoginRefused (429 with Retry-After): the address is over its limit,
    or the account is in a delay after too many failures."""
    account = _Account(normalize_email(email))
    if (left := account.delay_left()) is not None:
        raise _account_refused(left)
    counted = _count_attempt(scope="auth_ip", ident=AuthIpThrottle().get_ident(request))
    if isinstance(counted, int):
        raise LoginRefused(
            f"Too many failed sign-ins from this address; try again in {counted} seconds.", retry_after=counted
        )
    # Counted before the check too, so that concurrent guesses at one account stop at the
    # limit; a right password clears the count.
    level = account.level()
    failures = account.count_attempt(level)
    if failures > settings.LOGIN_ACCOUNT_FAILURES or account.delay_left() is not None:
        _give_back(account.failures_key(level))
        if counted is not None:
            _give_back(counted.key)
        if failures > settings.LOGIN_ACCOUNT_FAILURES:
            raise _account_refused(account.delay_start(level))
        raise _account_refused(account.delay_left() or 1)
    return LoginAttempt(account=account, counted=counted, level=level, failures=failures)


def registration_attempt(request, email: str) -> None:
    """Count a registration attempt (every one, whatever its outcome) per address and per
    email before anything is hashed; LoginRefused (429) when either is over its rate."""
    counted = _count_attempt(scope="auth_ip", ident=AuthIpThrottle().get_ident(request))
    if isinstance(counted, int):
        raise LoginRefused(f"Too many attempts from this address; try again in {counted} seconds.", retry_after=counted)
    email = normalize_email(email)
    if email:
        by_email = _count_attempt(scope="auth_email", ident=_email_key(email))
        if isinstance(by_email, int):
            raise LoginRefused(
                f"Too many attempts for this email; try again in {by_email} seconds.", retry_after=by_email
            )
