"""Which person at the identity provider is which Studio account."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class Identity(models.Model):
    """An account at an OpenID Connect provider (``issuer`` + ``subject``, the ID token's
    ``iss`` and ``sub``: stable where an email address may change) linked to a Studio user.

    ``synced_team_ids``: the groups this sign-in put the user in from the groups claim, so a
    later sign-in takes away only those (an administrator's own additions stay).
    ``admin_from_claim``: the admin claim made the user an administrator, so losing the claim
    makes them a user again (an administrator promoted in Studio stays one)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="sso_identities")
    issuer = models.CharField(max_length=255)
    subject = models.CharField(max_length=255)
    email = models.EmailField(max_length=254, blank=True)
    synced_team_ids = models.JSONField(default=list, blank=True)
    admin_from_claim = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)
    last_login_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "sso_identities"
        constraints = [models.UniqueConstraint(fields=["issuer", "subject"], name="sso_identity_once")]
        verbose_name = "single sign-on identity"
        verbose_name_plural = "single sign-on identities"

    def __str__(self) -> str:
        return f"{self.subject} at {self.issuer}"
