"""Codes of a second factor are throttled like passwords: `accounts.throttles.login_attempt`
(per client address, and per account with doubling delays), under an identity of the
account's own, so that the right password does not clear the count of wrong codes."""

from __future__ import annotations

from accounts.throttles import LoginAttempt, login_attempt


def second_factor_attempt(request, user) -> LoginAttempt:
    """Admit one code for ``user`` (LoginRefused, 429, when over a limit); a wrong code
    (twofactor.services.InvalidCode) leaving the block is counted, a right one clears."""
    return login_attempt(request, f"second-factor:{user.pk}")
