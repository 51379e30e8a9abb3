"""Two-factor authentication: enrolment of an authenticator app (TOTP, RFC 6238), checking
its codes and the one-time recovery codes, the API login's challenge, turning it off, an
administrator's reset and the site's policy of who must have one.

Codes: 6 digits, 30-second steps, SHA-1 (what every authenticator app reads from an
``otpauth://`` URI), the previous and next step accepted for clock drift. A code is accepted
once: the device remembers the last step used and accepts only later ones (one conditional
UPDATE, so of two concurrent uses of one code exactly one wins). Recovery codes are used up
by a conditional UPDATE too.

Attempts are throttled by the callers like passwords (accounts.throttles.login_attempt under
an identity of the account's own for codes, so a right password does not clear the count of
wrong codes).
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

import pyotp
import segno
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import User
from accounts.passwords import password_check_slot
from accounts.services import InvalidCredentials
from accounts.tokens import AuthenticationError
from audit import services as audit
from core.db import retry_on_write_conflict
from core.errors import Conflict, DomainError, ErrorKind, InvalidInput, NotFound
from twofactor import sealing
from twofactor.models import LoginChallenge, RecoveryCode, Requirement, TotpDevice, TwoFactorPolicy

STEP_SECONDS = 30
DIGITS = 6
# Steps accepted either side of now, for a phone's clock a little off.
DRIFT_STEPS = 1
RECOVERY_CODE_COUNT = 10
# Recovery codes: 12 characters of this alphabet (no 0/o, 1/i/l; about 59 bits), shown as
# xxxx-xxxx-xxxx.
RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"


class InvalidCode(InvalidCredentials):
    """A wrong code at login: counted like a wrong password."""

    code = "invalid_code"
    default_message = "The code is not correct."


class CodeAlreadyUsed(InvalidCode):
    default_message = "This code was already used; enter the next one your app shows."


class ChallengeNotValid(AuthenticationError):
    code = "challenge_not_valid"
    default_message = "This sign-in has expired or was already completed; log in again."


class SetupRequired(DomainError):
    """The right password of an account that must have a second factor and has none."""

    kind = ErrorKind.FORBIDDEN
    code = "two_factor_setup_required"
    extra = {"code": code}
    default_message = (
        "This account must use two-factor authentication: log in on the website once to set up an authenticator app."
    )


class AlreadyEnrolled(Conflict):
    default_message = "Two-factor authentication is already on for this account."


class RequiredByPolicy(Conflict):
    default_message = "This site requires two-factor authentication of your account, so it cannot be turned off."


class NotEnrolled(Conflict):
    default_message = "Two-factor authentication is not on for this account."


# ------------------------------------------------------------------ the policy


def policy() -> str:
    """Who must have a second factor: "none", "admins" or "everyone" (the administrators'
    choice; TWO_FACTOR_REQUIRED until they made one)."""
    row = TwoFactorPolicy.objects.order_by("-pk").first()
    return row.required if row is not None else settings.TWO_FACTOR_REQUIRED


def policy_set(*, required: str, by: User | None = None) -> str:
    if required not in Requirement.values:
        choices = ", ".join(f'"{value}"' for value in Requirement.values)
        raise InvalidInput(f"Choose one of {choices}.", field="required")
    before = policy()
    with transaction.atomic():
        TwoFactorPolicy.objects.all().delete()
        TwoFactorPolicy.objects.create(required=required, changed_by_id=getattr(by, "pk", None))
        audit.two_factor_policy_changed(before=before, after=required, by=by)
    return required


def is_required_for(user: User) -> bool:
    required = policy()
    return required == Requirement.EVERYONE or (required == Requirement.ADMINS and user.is_admin)


def device_of(user: User) -> TotpDevice | None:
    """The user's confirmed authenticator, or None."""
    return TotpDevice.objects.filter(user=user, confirmed_at__isnull=False).first()


def is_enrolled(user: User) -> bool:
    return TotpDevice.objects.filter(user=user, confirmed_at__isnull=False).exists()


def recovery_codes_left(user: User) -> int:
    return RecoveryCode.objects.filter(user=user, used_at__isnull=True).count()


# ------------------------------------------------------------------ enrolment


@dataclass(frozen=True)
class Enrolment:
    secret: str  # base32, as authenticator apps take it

    @property
    def grouped_secret(self) -> str:
        """The key in groups of four, easier to type."""
        return " ".join(self.secret[i : i + 4] for i in range(0, len(self.secret), 4))

    def uri(self, *, email: str) -> str:
        return pyotp.TOTP(self.secret, digits=DIGITS, interval=STEP_SECONDS).provisioning_uri(
            name=email, issuer_name=settings.TWO_FACTOR_ISSUER
        )

    def qr_data_uri(self, *, email: str) -> str:
        """The otpauth URI as a QR code, an SVG data URI drawn here (no outside service);
        dark on white whatever the page's theme, as cameras read it best."""
        qr = segno.make(self.uri(email=email), error="m")
        return qr.svg_data_uri(scale=5, border=4, dark="#000", light="#fff")


def enrolment_start(*, user: User) -> Enrolment:
    """A new secret for ``user``'s authenticator, waiting for a code to confirm it (it
    replaces an earlier unconfirmed one). AlreadyEnrolled (409) when one is on."""
    if is_enrolled(user):
        raise AlreadyEnrolled()
    secret = pyotp.random_base32(length=32)  # 160 bits, RFC 4226's recommendation
    sealed = sealing.seal(secret.encode())
    # The unconfirmed row is rewritten, not deleted and added again: DuckDB refuses a new
    # row with the unique key of one deleted in the same transaction.
    unconfirmed = TotpDevice.objects.filter(user=user, confirmed_at__isnull=True)
    if not unconfirmed.update(secret_sealed=sealed, created_at=timezone.now()):
        try:
            with transaction.atomic():
                TotpDevice.objects.create(user=user, secret_sealed=sealed)
        except IntegrityError:
            raise Conflict("Two-factor authentication was being set up at the same moment; reload the page.") from None
    return Enrolment(secret)


def enrolment_pending(*, user: User) -> Enrolment | None:
    """The enrolment ``user`` started and has not confirmed yet (its key is shown again
    until it is confirmed, never after)."""
    device = TotpDevice.objects.filter(user=user, confirmed_at__isnull=True).first()
    if device is None:
        return None
    try:
        return Enrolment(sealing.unseal(device.secret_sealed).decode())
    except sealing.SecretUnreadable:
        return None


def enrolment_confirm(*, user: User, code: str) -> list[str]:
    """Turn the second factor on with a code from the new authenticator; returns the
    recovery codes (shown this once). A wrong code: InvalidInput on ``code``."""
    device = TotpDevice.objects.filter(user=user, confirmed_at__isnull=True).first()
    if device is None:
        if is_enrolled(user):
            raise AlreadyEnrolled()
        raise InvalidInput("Start again: this set-up has expired.", field="code")
    step = _matching_step(device, code)
    if step is None:
        raise InvalidInput("The code is not correct; check the time on your phone and try again.", field="code")
    codes: list[str] = []
    with transaction.atomic():
        confirmed = TotpDevice.objects.filter(pk=device.pk, confirmed_at__isnull=True).update(
            confirmed_at=timezone.now(), last_used_step=step
        )
        if confirmed:
            codes = _recovery_codes_replace(user)
            audit.two_factor_changed(audit.Action.TWO_FACTOR_ENABLED, user=user, after={"two_factor": True})
    if not confirmed:
        raise AlreadyEnrolled()
    return codes


# ------------------------------------------------------------------ checking codes


def _now_step() -> int:
    return int(time.time()) // STEP_SECONDS


def _normalise_totp(code: str) -> str:
    return "".join(code.split())


def _matching_step(device: TotpDevice, code: str) -> int | None:
    """The time step (within the drift allowed) whose code ``code`` is, else None."""
    code = _normalise_totp(code)
    if len(code) != DIGITS or not code.isdigit():
        return None
    try:
        secret = sealing.unseal(device.secret_sealed).decode()
    except sealing.SecretUnreadable:
        return None
    totp = pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS)
    now = _now_step()
    found = None
    for step in range(now - DRIFT_STEPS, now + DRIFT_STEPS + 1):
        # Every step compared (no early exit), in constant time each.
        if secrets.compare_digest(totp.generate_otp(step), code):
            found = step
    return found


def _normalise_recovery(code: str) -> str:
    return "".join(ch for ch in code.lower() if ch.isalnum())


def looks_like_totp(code: str) -> bool:
    code = _normalise_totp(code)
    return len(code) == DIGITS and code.isdigit()


def verify(*, user: User, code: str) -> str:
    """Check a code of ``user``'s second factor and use it up: a code of the authenticator
    (once per time step) or one of the recovery codes (once). Returns "totp" or
    "recovery"; InvalidCode (CodeAlreadyUsed for a replay) otherwise."""
    device = device_of(user)
    if device is None:
        raise NotEnrolled()
    if looks_like_totp(code):
        step = _matching_step(device, code)
        if step is None:
            raise InvalidCode()
        later = TotpDevice.objects.filter(pk=device.pk).filter(
            Q(last_used_step__isnull=True) | Q(last_used_step__lt=step)
        )
        if not retry_on_write_conflict(lambda: later.update(last_used_step=step), what="a TOTP code's use"):
            raise CodeAlreadyUsed()
        return "totp"
    normalised = _normalise_recovery(code)
    if len(normalised) != 12:
        raise InvalidCode()

    def use_recovery_code() -> int:
        with transaction.atomic():
            used = RecoveryCode.objects.filter(
                user=user, digest=sealing.recovery_digest(normalised), used_at__isnull=True
            ).update(used_at=timezone.now())
            if used:
                audit.two_factor_changed(
                    audit.Action.TWO_FACTOR_RECOVERY_CODE_USED,
                    user=user,
                    after={"recovery_codes_left": recovery_codes_left(user)},
                    by=user,
                )
        return used

    if not retry_on_write_conflict(use_recovery_code, what="a recovery code's use"):
        raise InvalidCode("The code is not correct, or that recovery code was already used.")
    return "recovery"


def _recovery_codes_replace(user: User) -> list[str]:
    """New recovery codes for ``user`` (the old ones stop working); the caller's transaction."""
    codes = ["".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(12)) for _ in range(RECOVERY_CODE_COUNT)]
    RecoveryCode.objects.filter(user=user).delete()
    RecoveryCode.objects.bulk_create(RecoveryCode(user=user, digest=sealing.recovery_digest(code)) for code in codes)
    return [f"{code[:4]}-{code[4:8]}-{code[8:]}" for code in codes]


def _check_password_or_code(user: User, *, password: str, code: str) -> None:
    """The person proves it is them again: their password, or a code of their second factor."""
    if password:
        with password_check_slot():
            if user.check_password(password):
                return
        raise InvalidInput("Your password is not correct.", field="password")
    if code:
        try:
            verify(user=user, code=code)
        except InvalidCode as exc:
            raise InvalidInput(exc.message, field="code") from None
        return
    raise InvalidInput("Enter your password or a code from your authenticator app.", field="password")


def recovery_codes_regenerate(*, user: User, password: str = "", code: str = "") -> list[str]:
    """New recovery codes (the old ones stop working), after the password or a code."""
    if not is_enrolled(user):
        raise NotEnrolled()
    _check_password_or_code(user, password=password, code=code)
    with transaction.atomic():
        codes = _recovery_codes_replace(user)
        audit.two_factor_changed(
            audit.Action.TWO_FACTOR_RECOVERY_CODES_RENEWED, user=user, after={"recovery_codes_left": len(codes)}
        )
    return codes


# ------------------------------------------------------------------ turning it off


def _remove(user: User) -> bool:
    deleted, _ = TotpDevice.objects.filter(user=user).delete()
    RecoveryCode.objects.filter(user=user).delete()
    return bool(deleted)


def disable(*, user: User, password: str = "", code: str = "") -> None:
    """The person turns their second factor off, after their password or a code; not while
    the policy requires one of them (RequiredByPolicy, 409)."""
    if not is_enrolled(user):
        raise NotEnrolled()
    if is_required_for(user):
        raise RequiredByPolicy()
    _check_password_or_code(user, password=password, code=code)
    with transaction.atomic():
        if _remove(user):
            audit.two_factor_changed(
                audit.Action.TWO_FACTOR_DISABLED, user=user, before={"two_factor": True}, after={"two_factor": False}
            )


def reset(*, user_id: int, by: User | None = None) -> User:
    """An administrator removes a person's second factor (a lost phone): they log in with
    their password alone, and set one up again (at once, where the policy requires one).
    NotFound for no such user; NotEnrolled (409) when there is nothing to reset."""
    user = User.objects.filter(pk=user_id).first()
    if user is None:
        raise NotFound("No such user.")
    # Refusals leave the atomic block first: DuckDB has no savepoints to roll back to.
    with transaction.atomic():
        removed = _remove(user)
        if removed:
            audit.two_factor_changed(
                audit.Action.TWO_FACTOR_RESET,
                user=user,
                before={"two_factor": True},
                after={"two_factor": False},
                by=by,
            )
    if not removed:
        raise NotEnrolled("This account has no second factor to reset.")
    return user


# ------------------------------------------------------------------ the API login's challenge


@dataclass(frozen=True)
class Challenge:
    token: str
    expires_at: datetime


def login_challenge(*, user: User) -> Challenge | None:
    """After the right password at the API: None when the password is enough, a challenge
    for an account with a second factor; SetupRequired (403) for an account the policy
    requires one of and that has none (it is set up on the website)."""
    if is_enrolled(user):
        return Challenge(*challenge_issue(user=user))
    if is_required_for(user):
        raise SetupRequired()
    return None


def challenge_issue(*, user: User) -> tuple[str, datetime]:
    """A token that completes ``user``'s login once with a code, within
    TWO_FACTOR_CHALLENGE_SECONDS. Expired ones are removed on the way."""
    now = timezone.now()
    token = secrets.token_urlsafe(32)
    expires_at = now + timedelta(seconds=settings.TWO_FACTOR_CHALLENGE_SECONDS)
    LoginChallenge.objects.filter(expires_at__lt=now - timedelta(hours=1)).delete()
    LoginChallenge.objects.create(
        user=user, digest=sealing.challenge_digest(token), token_version=user.token_version, expires_at=expires_at
    )
    return token, expires_at


def _live_challenge(token: str) -> LoginChallenge:
    challenge = (
        LoginChallenge.objects.select_related("user")
        .filter(digest=sealing.challenge_digest(token or ""), used_at__isnull=True, expires_at__gt=timezone.now())
        .first()
    )
    if challenge is None or not challenge.user.is_active or challenge.token_version != challenge.user.token_version:
        raise ChallengeNotValid()
    return challenge


def challenge_user(*, token: str) -> User:
    """Whose login the challenge is (to count the attempt against); ChallengeNotValid (401)
    for an unknown, expired or used one."""
    return _live_challenge(token).user


def challenge_complete(*, token: str, code: str) -> User:
    """Check the code for the challenge's user and use the challenge up; returns the user.
    InvalidCode (401, the challenge stays usable until it expires) or ChallengeNotValid."""
    challenge = _live_challenge(token)
    verify(user=challenge.user, code=code)
    open_challenge = LoginChallenge.objects.filter(pk=challenge.pk, used_at__isnull=True)
    taken = retry_on_write_conflict(lambda: open_challenge.update(used_at=timezone.now()), what="a login challenge")
    if not taken:
        raise ChallengeNotValid()
    return challenge.user
