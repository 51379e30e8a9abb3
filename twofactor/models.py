"""Second factors: one TOTP authenticator per person (RFC 6238), their one-time recovery
codes, the short-lived challenges of the API's two-step login and the site's policy.

Nothing here is readable on its own: the TOTP secret is sealed with a key that is not in
the database (twofactor/secrets.py), recovery codes and challenges are stored as keyed or
plain digests of high-entropy random values.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class TotpDevice(models.Model):
    """A person's authenticator app. ``confirmed_at`` empty: enrolment started, not yet
    confirmed with a code (it protects nothing until then)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="totp_device")
    secret_sealed = models.CharField(max_length=200)
    created_at = models.DateTimeField(default=timezone.now)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    # The time step (unix time // 30) of the last code accepted: a code is accepted only for
    # a later step, so a code seen once cannot be replayed within its time step.
    last_used_step = models.BigIntegerField(null=True, blank=True)

    class Meta:
        db_table = "two_factor_totp_devices"

    def __str__(self) -> str:
        return f"authenticator of user {self.user_id}"


class RecoveryCode(models.Model):
    """One single-use recovery code, kept as a keyed digest."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="recovery_codes")
    digest = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "two_factor_recovery_codes"
        constraints = [models.UniqueConstraint(fields=["user", "digest"], name="two_factor_recovery_code_unique")]


class LoginChallenge(models.Model):
    """The API login's first step passed (the right password of an account with a second
    factor): the token it answered, kept as a digest, completes the login once with a code."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    digest = models.CharField(max_length=64, unique=True)
    # The user's token_version when it was issued: ending every session ends it too.
    token_version = models.PositiveIntegerField()
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(db_index=True)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "two_factor_login_challenges"


class Requirement(models.TextChoices):
    NONE = "none", "Nobody (each person chooses)"
    ADMINS = "admins", "Administrators"
    EVERYONE = "everyone", "Everyone"


class TwoFactorPolicy(models.Model):
    """Who must have a second factor, as an administrator chose it (one row at most; without
    it, TWO_FACTOR_REQUIRED from the environment applies)."""

    required = models.CharField(max_length=10, choices=Requirement.choices)
    changed_at = models.DateTimeField(default=timezone.now)
    changed_by_id = models.BigIntegerField(null=True, blank=True)

    class Meta:
        db_table = "two_factor_policy"
        verbose_name_plural = "two-factor policy"
