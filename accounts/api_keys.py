"""Personal API keys: long-lived bearer secrets for scripts and OpenAI-compatible clients.

A key is ``sk-studio-`` followed by 43 random URL-safe characters (256 bits). Only its
SHA-256 is stored (a slow hash buys nothing for a secret this long), with a short
``prefix`` that identifies it in lists. The secret is shown once, when it is made.

Keys authenticate the generation and video APIs and /v1/ (accounts.authentication.
ApiKeyAuthentication), never account or key management: a leaked key cannot change the
password or mint more keys. A key stops working when it is revoked, when it expires and
when its owner is deactivated; it is deleted with its owner.
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
from core.errors import InvalidInput, NotFound
from core.parsing import int_or_none

KEY_PREFIX = "sk-studio-"
# The part of the secret kept in clear to tell keys apart: "sk-studio-" and 8 characters.
PREFIX_LENGTH = len(KEY_PREFIX) + 8
NAME_MAX_LENGTH = 100
# last_used_at is written at most this often per key, not on every request.
LAST_USED_RESOLUTION = timedelta(minutes=1)


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

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=NAME_MAX_LENGTH)
    prefix = models.CharField(max_length=PREFIX_LENGTH, help_text="the start of the secret, to recognise it")
    key_hash = models.CharField(max_length=64, unique=True, editable=False, help_text="SHA-256 of the secret")
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(null=True, blank=True, help_text="empty: never expires")
    last_used_at = models.DateTimeField(null=True, blank=True, help_text="to the minute")
    revoked_at = models.DateTimeField(null=True, blank=True)

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


def api_key_create(*, user, name: str, expires_at=None, now=None) -> CreatedKey:
    """Make a key for ``user``; the answer carries the secret, shown this once."""
    now = now or timezone.now()
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
        with transaction.atomic():
            if ApiKey.objects.filter(pk=key.pk, revoked_at__isnull=True).update(revoked_at=key.revoked_at):
                audit.api_key_revoked(key=key, by=by)
    return key


def api_keys_revoke(*, keys) -> int:
    """Revoke every key in the queryset (the admin's bulk action); how many were live."""
    now, revoked = timezone.now(), 0
    with transaction.atomic():
        for key in keys.filter(revoked_at__isnull=True):
            if ApiKey.objects.filter(pk=key.pk, revoked_at__isnull=True).update(revoked_at=now):
                key.revoked_at, revoked = now, revoked + 1
                audit.api_key_revoked(key=key)
    return revoked


def api_key_authenticate(secret: str, *, now=None) -> ApiKey | None:
    """The usable key with this secret (its user loaded), or None. Notes the use, at
    most once a minute per key."""
    if not secret.startswith(KEY_PREFIX):
        return None
    now = now or timezone.now()
    key = ApiKey.objects.usable(now=now).select_related("user").filter(key_hash=hash_secret(secret)).first()
    if key is None:
        return None
    if key.last_used_at is None or key.last_used_at <= now - LAST_USED_RESOLUTION:
        stale = Q(last_used_at__isnull=True) | Q(last_used_at__lte=now - LAST_USED_RESOLUTION)
        ApiKey.objects.filter(stale, pk=key.pk).update(last_used_at=now)
        key.last_used_at = now
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
