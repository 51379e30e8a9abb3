"""JWTs and the refresh-token store: issue, rotate, revoke, purge.

SimpleJWT signs and verifies the tokens; whether a refresh token may still be used is
decided by its row in `RefreshToken` (our store), never by the JWT alone:

- every refresh token issued is a row (JTI, user, family, issue/expiry/revocation times);
- a refresh is accepted only if its row exists, is neither revoked nor expired and its user
  is active; accepting it revokes that row with a conditional UPDATE and stores the new
  token in the same family, in one transaction, so of two concurrent refreshes with the
  same token exactly one wins;
- presenting a token whose row is already revoked is treated as theft (RFC 6819 5.2.2.3,
  OAuth 2.0 Security BCP 4.14): every token of its family is revoked and the answer is 401;
  unless it was revoked with all of its user's tokens already (password change,
  deactivation): then the 401 only says why the session ended.

Of two concurrent refreshes the one that loses at the conditional UPDATE (it read the
token while it was still valid) answers 401 without revoking the family; one that reads
the token after the winner committed is presenting a revoked token, i.e. reuse.

Every token (access and refresh) carries the user's `token_version` as "ver". Ending all of
a user's sessions (password change, deactivation, "log out everywhere") raises the version
and revokes the refresh tokens in one transaction that writes the user row first; access
tokens with an older "ver" are refused by `accounts.authentication`, refresh tokens by the
rotation, which holds the user row (at the token's version) for its whole transaction. So a
rotation and a revocation of all sessions never interleave: either the rotation commits
first and the revocation sees (and revokes) its new token, or the revocation commits first
and the rotation finds the version changed.
"""

from __future__ import annotations

import logging
import random
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from django.db import OperationalError, connection, transaction
from django.db.models import F
from django.utils import timezone
from rest_framework_simplejwt import settings as jwt_settings
from rest_framework_simplejwt import tokens as jwt
from rest_framework_simplejwt.exceptions import TokenError

from accounts.api_keys import ApiKey, api_keys_revoke_for_user
from accounts.models import RefreshToken, User
from core.changes import changed
from core.db import is_write_conflict, retry_on_write_conflict
from core.errors import DomainError, ErrorKind

logger = logging.getLogger(__name__)

Reason = RefreshToken.RevokeReason


class AuthenticationError(DomainError):
    """401: the caller could not be identified. The API answers with WWW-Authenticate."""

    kind = ErrorKind.UNAUTHENTICATED
    code = "authentication_failed"
    default_message = "Authentication failed."


class InvalidRefreshToken(AuthenticationError):
    code = "token_not_valid"
    default_message = "The refresh token is invalid, expired or revoked; log in again."


class RefreshTokenReused(InvalidRefreshToken):
    code = "token_reused"
    default_message = (
        "This refresh token was already used. For safety every session started from the "
        "same login has been ended; log in again."
    )


class RefreshSessionEnded(InvalidRefreshToken):
    """A token revoked along with every other token of its user (password change,
    deactivation): a stale client, not a sign of theft."""

    code = "session_ended"
    default_message = "This session has ended; log in again."


# Why a session ended, for revocations that already ended every session of the user.
SESSION_ENDED_MESSAGES: dict[str, str] = {
    Reason.PASSWORD_CHANGED: "The password of this account was changed, which ended this session; "
    "log in again with the new password.",
    Reason.DEACTIVATED: "This account has been deactivated, which ended this session.",
    Reason.LOGOUT_ALL: "Every session of this account was ended (log out everywhere); log in again.",
}
STALE_VERSION_MESSAGE = "Every session of this account was ended after this token was issued; log in again."

# The claim carrying the user's token_version, in access and refresh tokens alike.
VERSION_CLAIM = "ver"


@dataclass(frozen=True)
class TokenPair:
    access: str
    refresh: str


def _from_epoch(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, tz=UTC)


def access_token_for(*, user: User) -> jwt.AccessToken:
    """A signed access token carrying user_id, email, role, jti, iat and exp."""
    token = jwt.AccessToken.for_user(user)
    # Lifetimes are read at call time (not SimpleJWT's import-time class attribute), so
    # that SIMPLE_JWT overrides apply.
    token.set_exp(lifetime=jwt_settings.api_settings.ACCESS_TOKEN_LIFETIME)
    token["email"] = user.email
    token["role"] = user.role
    token[VERSION_CLAIM] = user.token_version
    return token


def token_pair_issue(*, user: User, family: str | None = None) -> TokenPair:
    """A new access token and a new stored refresh token (a new family unless given)."""
    refresh = jwt.RefreshToken.for_user(user)
    refresh.set_exp(lifetime=jwt_settings.api_settings.REFRESH_TOKEN_LIFETIME)
    refresh[VERSION_CLAIM] = user.token_version
    RefreshToken.objects.create(
        jti=refresh[jwt_settings.api_settings.JTI_CLAIM],
        user=user,
        family=family or uuid.uuid4().hex,
        issued_at=_from_epoch(refresh["iat"]),
        expires_at=_from_epoch(refresh["exp"]),
    )
    return TokenPair(access=str(access_token_for(user=user)), refresh=str(refresh))


def _stored_token(raw: str) -> tuple[RefreshToken, int]:
    """The store's row for a signed, unexpired refresh JWT and the token version it carries
    (0 for tokens issued before versions existed); InvalidRefreshToken otherwise."""
    try:
        payload = jwt.RefreshToken(raw).payload  # type: ignore[arg-type]  # simplejwt annotates the encoded str as Token
    except TokenError as exc:
        raise InvalidRefreshToken() from exc
    record = (
        RefreshToken.objects.select_related("user").filter(jti=payload.get(jwt_settings.api_settings.JTI_CLAIM)).first()
    )
    if record is None:
        raise InvalidRefreshToken()
    version = payload.get(VERSION_CLAIM, 0)
    return record, version if isinstance(version, int) else -1


def _revoke(queryset, *, reason: str, now: datetime | None = None) -> int:
    """Revoke the unrevoked tokens of `queryset`; the count of rows this call revoked.

    A concurrent change of the same rows (DuckDB answers "Conflict on update" instead of
    waiting) is retried once, then re-read: whatever is left unrevoked gets revoked. Inside
    a caller's transaction the error propagates instead: that transaction is spoilt.
    """
    now = now or timezone.now()
    return retry_on_write_conflict(
        lambda: queryset.filter(revoked_at__isnull=True).update(revoked_at=now, revoked_reason=reason),
        what="refresh-token revocation",
    )


def _reject_revoked(record: RefreshToken) -> None:
    """Refuse a revoked token. Revoked by a rotation or logout, presenting it again is reuse;
    revoked with every other token of its user, it only answers why the session ended."""
    if record.revoked_reason in SESSION_ENDED_MESSAGES:
        raise RefreshSessionEnded(SESSION_ENDED_MESSAGES[record.revoked_reason])
    _reject_reuse(record)


def _reject_reuse(record: RefreshToken) -> None:
    revoked = _revoke(RefreshToken.objects.filter(family=record.family), reason=Reason.REUSE_DETECTED)
    logger.warning(
        "revoked refresh token %s presented again (user %s); revoked %d token(s) of family %s",
        record.jti,
        record.user_id,
        revoked,
        record.family,
    )
    raise RefreshTokenReused()


def _hold_user_at_version(*, user_id: int, version: int) -> bool:
    """Inside the rotation's transaction: is the user still active at this token version?

    A conditional UPDATE of the user row (to the same value), on both stores: it holds the
    row until the transaction ends, so ending the user's sessions (which writes that row
    before revoking) waits for the rotation and then finds the new version (PostgreSQL), or
    collides with it as a write conflict (DuckDB, which has no row locks).
    """
    users = User.objects.filter(pk=user_id, is_active=True, token_version=version)
    return users.update(token_version=F("token_version")) == 1


def refresh_token_rotate(*, token: str) -> TokenPair:
    """Exchange a refresh token for a new pair; the presented token is revoked.

    Raises InvalidRefreshToken (401) for a bad, unknown, expired or lost-the-race token or an
    inactive user, RefreshSessionEnded (401) when the user's sessions were ended after the
    token was issued, and RefreshTokenReused (401) after revoking the family of a token that
    had already been revoked.
    """
    record, version = _stored_token(token)
    if record.revoked_at is not None:
        _reject_revoked(record)
    now = timezone.now()
    if record.expires_at <= now or not record.user.is_active:
        raise InvalidRefreshToken()
    if version != record.user.token_version:
        raise RefreshSessionEnded(STALE_VERSION_MESSAGE)
    pair, current = None, True
    for pause in (0.01, 0.05, None):
        try:
            with transaction.atomic():
                current = _hold_user_at_version(user_id=record.user_id, version=version)
                # The conditional UPDATE decides between refreshes of the same token: only
                # the request that flips revoked_at from NULL issues the next token.
                if current and RefreshToken.objects.filter(pk=record.pk, revoked_at__isnull=True).update(
                    revoked_at=now, revoked_reason=Reason.ROTATED
                ):
                    pair = token_pair_issue(user=record.user, family=record.family)
            break
        except OperationalError as exc:
            if not is_write_conflict(exc) or connection.in_atomic_block:
                raise
            # DuckDB: a concurrent refresh (of this token, or another of the user's) or a
            # change of the user wrote the same row first. Tried again, the conditional
            # UPDATEs say which it was.
            logger.info("refresh of token %s met a concurrent write", record.jti)
            if pause is None:
                break
            time.sleep(pause * (1 + random.random()))
    if not current:
        raise RefreshSessionEnded(STALE_VERSION_MESSAGE)
    if pair is None:
        # Lost to a concurrent refresh (or logout) of the same token, which was valid when
        # read: not reuse. Any later presentation of this token is.
        raise InvalidRefreshToken()
    return pair


def refresh_token_revoke(*, token: str) -> None:
    """Log out: revoke one refresh token. Presenting an already revoked one is reuse."""
    record, _version = _stored_token(token)
    if record.revoked_at is not None:
        _reject_revoked(record)
    _revoke(RefreshToken.objects.filter(pk=record.pk), reason=Reason.LOGOUT)


def refresh_tokens_revoke_for_user(*, user: User, reason: str) -> int:
    """Revoke every live refresh token of a user (password change, deactivation)."""
    return _revoke(RefreshToken.objects.filter(user=user), reason=reason)


# The API keys' revocation reason for the reasons that end every session and revoke keys.
KEY_REVOKE_REASONS: dict[str, str] = {
    Reason.LOGOUT_ALL: ApiKey.RevokeReason.LOGOUT_ALL,
    Reason.PASSWORD_CHANGED: ApiKey.RevokeReason.PASSWORD_CHANGED,
}


def user_sessions_end(*, user: User, reason: str = Reason.LOGOUT_ALL) -> int:
    """End every session of a user: raise the token version, so that every access and
    refresh token issued so far is refused (web sessions end too: the session hash follows
    the version), and revoke the refresh tokens; for "log out everywhere" and a password
    change, the personal API keys too. Returns how many refresh tokens were revoked.

    The user row is written first, as `_hold_user_at_version` expects. Inside a caller's
    transaction (the Django admin's) that transaction decides; outside one, a DuckDB write
    conflict with a concurrent rotation is retried.
    """

    def end() -> int:
        with transaction.atomic():
            User.objects.filter(pk=user.pk).update(token_version=F("token_version") + 1)
            changed()
            if reason in KEY_REVOKE_REASONS:
                api_keys_revoke_for_user(user=user, reason=KEY_REVOKE_REASONS[reason])
            return refresh_tokens_revoke_for_user(user=user, reason=reason)

    revoked = retry_on_write_conflict(end, what="ending a user's sessions")
    user.refresh_from_db(fields=["token_version"])
    return revoked


def refresh_tokens_revoke(*, tokens, reason: str = Reason.ADMIN) -> int:
    """Revoke the tokens of a queryset; already revoked ones keep their time and reason."""
    return _revoke(tokens, reason=reason)


def refresh_tokens_purge_expired(*, now: datetime | None = None) -> int:
    """Delete rows of expired tokens: their JWTs are refused on expiry alone, so the rows
    serve nothing any more (reuse detection included). Returns how many were deleted."""
    deleted, _ = RefreshToken.objects.expired(now=now).delete()
    return deleted
