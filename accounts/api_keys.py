"""Personal API keys: long-lived bearer secrets for scripts and OpenAI-compatible clients.

A key is ``sk-studio-`` followed by 43 random URL-safe characters (256 bits). Only its
SHA-256 is stored (a slow hash buys nothing for a secret this long), with a short
``prefix`` that identifies it in lists. The secret is shown once, when it is made.

Keys authenticate the generation and video APIs and /v1/ (accounts.authentication.
ApiKeyAuthentication), never account or key management: a leaked key cannot change the
password or mint more keys. A request made with a key acts with a user's permissions,
whatever its owner's role: it reaches the owner's own data only, never an administrator's
reach. A key stops working when it is revoked (by its owner, an administrator, or with
every other credential of its owner at a password change or "log out everywhere"), when
it expires and when its owner is deactivated; it is deleted with its owner.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone

from audit import services as audit
from core.changes import Kept, changed, own_copy
from core.errors import DomainError, ErrorKind, InvalidInput, NotFound
from core.parsing import int_or_none

KEY_PREFIX = "sk-studio-"
# The part of the secret kept in clear to tell keys apart: "sk-studio-" and 8 characters.
PREFIX_LENGTH = len(KEY_PREFIX) + 8
NAME_MAX_LENGTH = 100
# last_used_at is written at most this often per key, not on every request.
LAST_USED_RESOLUTION = timedelta(minutes=1)
EXPIRES_IN_DAYS_MAX = 3650


class ApiKeyRefused(DomainError):
    """401: the presented key does not authenticate; the message says why, as far as the
    holder of the secret may know (revoked and why, expired and when)."""

    kind = ErrorKind.UNAUTHENTICATED
    code = "invalid_api_key"
    default_message = "Invalid API key: unknown, or its account is deactivated."


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


class ApiKeyQuerySet(models.QuerySet):
    def usable(self, *, now=None):
        """Keys that authenticate: not revoked, not expired, owner active."""
        now = now or timezone.now()
        return self.filter(
            Q(expires_at__isnull=True) | Q(expires_at__gt=now), revoked_at__isnull=True, user__is_active=True
        )


class ApiKey(models.Model):
    """One personal API key (its hash; the secret itself is never stored)."""

    class RevokeReason(models.TextChoices):
        OWNER = "owner", "Revoked by its owner"
        ADMIN = "admin", "Revoked by an administrator"
        PASSWORD_CHANGED = "password_changed", "The owner's password was changed"
        LOGOUT_ALL = "logout_all", "The owner logged out everywhere"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=NAME_MAX_LENGTH)
    prefix = models.CharField(max_length=PREFIX_LENGTH, help_text="the start of the secret, to recognise it")
    key_hash = models.CharField(max_length=64, unique=True, editable=False, help_text="SHA-256 of the secret")
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(null=True, blank=True, help_text="empty: never expires")
    last_used_at = models.DateTimeField(null=True, blank=True, help_text="to the minute")
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_reason = models.CharField(max_length=20, choices=RevokeReason.choices, blank=True, default="")

    objects = ApiKeyQuerySet.as_manager()

    class Meta:
        app_label = "accounts"
        db_table = "api_keys"
        ordering = ["-created_at", "-id"]
        verbose_name = "API key"
        indexes = [models.Index(fields=["user", "-created_at"], name="api_key_user_recent")]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def state(self) -> str:
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and self.expires_at <= timezone.now():
            return "expired"
        return "active"


class CreatedKey:
    """A new key and its secret, which exists only in this object."""

    def __init__(self, key: ApiKey, secret: str) -> None:
        self.key = key
        self.secret = secret


# ------------------------------------------------------------------ services


def api_key_create(*, user, name: str, expires_at=None, expires_in_days: int | None = None, now=None) -> CreatedKey:
    """Make a key for ``user``; the answer carries the secret, shown this once. It expires
    at ``expires_at`` or ``expires_in_days`` days from now (one of them, or neither: never)."""
    now = now or timezone.now()
    if expires_in_days is not None:
        if expires_at is not None:
            raise InvalidInput("Give expires_at or expires_in_days, not both.", field="expires_in_days")
        if not 1 <= expires_in_days <= EXPIRES_IN_DAYS_MAX:
            raise InvalidInput(f"From 1 to {EXPIRES_IN_DAYS_MAX} days.", field="expires_in_days")
        expires_at = now + timedelta(days=expires_in_days)
    name = (name or "").strip()
    if not name:
        raise InvalidInput("Give the key a name, e.g. the script that will use it.", field="name")
    if len(name) > NAME_MAX_LENGTH:
        raise InvalidInput(f"At most {NAME_MAX_LENGTH} characters.", field="name")
    if expires_at is not None and expires_at <= now:
        raise InvalidInput("The expiry must be in the future.", field="expires_at")
    secret = KEY_PREFIX + secrets.token_urlsafe(32)
    key = ApiKey.objects.create(
        user=user,
        name=name,
        prefix=secret[:PREFIX_LENGTH],
        key_hash=hash_secret(secret),
        created_at=now,
        expires_at=expires_at,
    )
    return CreatedKey(key, secret)


def api_key_revoke(*, key_id, by) -> ApiKey:
    """Revoke one key: its owner's, or anyone's for an admin. Someone else's key is
    NotFound. Revoking a revoked key changes nothing."""
    key = _visible_keys(by).filter(pk=int_or_none(key_id)).first()
    if key is None:
        raise NotFound("API key not found.")
    if key.revoked_at is None:
        key.revoked_at = timezone.now()
        key.revoked_reason = ApiKey.RevokeReason.OWNER if key.user_id == by.pk else ApiKey.RevokeReason.ADMIN
        with transaction.atomic():
            if ApiKey.objects.filter(pk=key.pk, revoked_at__isnull=True).update(
                revoked_at=key.revoked_at, revoked_reason=key.revoked_reason
            ):
                changed()
                audit.api_key_revoked(key=key, by=by)
    return key


def api_keys_revoke(*, keys, reason: str = ApiKey.RevokeReason.ADMIN) -> int:
    """Revoke every key in the queryset (the admin's bulk action); how many were live."""
    now, revoked = timezone.now(), 0
    with transaction.atomic():
        for key in keys.filter(revoked_at__isnull=True):
            if ApiKey.objects.filter(pk=key.pk, revoked_at__isnull=True).update(revoked_at=now, revoked_reason=reason):
                changed()
                key.revoked_at, key.revoked_reason, revoked = now, reason, revoked + 1
                audit.api_key_revoked(key=key)
    return revoked


def api_keys_revoke_for_user(*, user, reason: str) -> int:
    """Revoke every live key of ``user`` (a password change, "log out everywhere")."""
    return api_keys_revoke(keys=ApiKey.objects.filter(user=user), reason=reason)


REFUSED_MESSAGES: dict[str, str] = {
    ApiKey.RevokeReason.PASSWORD_CHANGED: "This API key was revoked when its account's password was changed; "
    "create a new key on your profile page.",
    ApiKey.RevokeReason.LOGOUT_ALL: "This API key was revoked when its account logged out everywhere; "
    "create a new key on your profile page.",
}


# Keys with their owners as this process read them, by hash, until a key or a user
# changes anywhere in the installation (core.changes): a revocation, a deactivation or a
# deleted owner applies to the next request on every process.
_kept_keys: Kept[ApiKey] = Kept()


def _key_with_owner(key_hash: str) -> ApiKey | None:
    """The key of this hash with its user, a copy of its own for the caller."""
    kept = _kept_keys.get(key_hash)
    if kept is None:
        stamp = _kept_keys.stamp()
        kept = ApiKey.objects.select_related("user").filter(key_hash=key_hash).first()
        if kept is None:
            return None
        _kept_keys.put(key_hash, kept, stamp)
    key = own_copy(kept)
    key.user = own_copy(kept.user)
    return key


def api_key_answers_from_memory(secret: str, *, now=None) -> bool:
    """Whether :func:`api_key_authenticate` would read and write nothing for this secret:
    its key is kept by this process and its use was noted within the minute."""
    if not secret.startswith(KEY_PREFIX):
        return True  # refused as it is
    kept = _kept_keys.get(hash_secret(secret))
    if kept is None:
        return False
    now = now or timezone.now()
    return kept.last_used_at is not None and kept.last_used_at > now - LAST_USED_RESOLUTION


def api_key_authenticate(secret: str, *, now=None) -> ApiKey:
    """The usable key with this secret (its user loaded); ApiKeyRefused (401) saying why
    otherwise. Notes the use, at most once a minute per key."""
    now = now or timezone.now()
    key = None
    if secret.startswith(KEY_PREFIX):
        key = _key_with_owner(hash_secret(secret))
    if key is None or not key.user.is_active:
        raise ApiKeyRefused()
    if key.revoked_at is not None:
        raise ApiKeyRefused(REFUSED_MESSAGES.get(key.revoked_reason, "This API key has been revoked."))
    if key.expires_at is not None and key.expires_at <= now:
        raise ApiKeyRefused(
            f"This API key expired on {key.expires_at:%Y-%m-%d %H:%M} UTC; create a new key on your profile page."
        )
    if key.last_used_at is None or key.last_used_at <= now - LAST_USED_RESOLUTION:
        stale = Q(last_used_at__isnull=True) | Q(last_used_at__lte=now - LAST_USED_RESOLUTION)
        ApiKey.objects.filter(stale, pk=key.pk).update(last_used_at=now)
        key.last_used_at = now
        kept = _kept_keys.get(key.key_hash)
        if kept is not None:
            kept.last_used_at = now
    return key


# ------------------------------------------------------------------ selectors


def user_api_keys(*, user):
    """The user's keys, newest first (revoked and expired ones too, marked by state)."""
    return ApiKey.objects.filter(user=user).order_by("-created_at", "-id")


def api_key_list():
    """Every user's keys with their owner loaded, newest first (the admin panel's list)."""
    return ApiKey.objects.select_related("user").order_by("-created_at", "-id")


def _visible_keys(user):
    return ApiKey.objects.all() if user.is_admin else ApiKey.objects.filter(user=user)
