"""Helpers for tests of two-factor authentication: enrol a user as the profile page does,
and compute their authenticator's codes as a phone would (pyotp, RFC 6238)."""

from __future__ import annotations

import time

import pyotp

from twofactor import services


def code_for(secret: str, *, steps: int = 0) -> str:
    """The code an authenticator app shows ``steps`` 30-second steps from now."""
    return pyotp.TOTP(secret).at(time.time() + steps * services.STEP_SECONDS)


def enrol(user) -> tuple[str, list[str]]:
    """Turn ``user``'s second factor on; returns the secret and the recovery codes. It is
    confirmed with the previous step's code, so the codes of now and of the next step are
    still unused."""
    enrolment = services.enrolment_start(user=user)
    codes = services.enrolment_confirm(user=user, code=code_for(enrolment.secret, steps=-1))
    return enrolment.secret, codes
