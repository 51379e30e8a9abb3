"""Spending budgets: a per-user row (the admin's overrides of the site's default limits,
and the counter every change to the user's spending goes through) and the ledger of
reservations, each becoming the provider's actual cost or released."""

from __future__ import annotations

from typing import TypedDict

from django.conf import settings
from django.db import models
from django.utils import timezone


class _DecimalShape(TypedDict):
    max_digits: int
    decimal_places: int


AMOUNT: _DecimalShape = {"max_digits": 14, "decimal_places": 8}


class UserBudget(models.Model):
    """One per user who has an override or has spent under a budget.

    ``daily_budget_usd``/``monthly_budget_usd``: NULL follows the site's default
    (DEFAULT_DAILY_BUDGET_USD / DEFAULT_MONTHLY_BUDGET_USD). ``version`` is bumped by every
    transaction that reserves or settles against the user's budget: that single row is
    what serialises them (billing.services).
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, primary_key=True, on_delete=models.CASCADE, related_name="budget"
    )
    daily_budget_usd = models.DecimalField(
        **AMOUNT, null=True, blank=True, help_text="USD per UTC day; empty follows DEFAULT_DAILY_BUDGET_USD"
    )
    monthly_budget_usd = models.DecimalField(
        **AMOUNT,
        null=True,
        blank=True,
        help_text="USD per UTC calendar month; empty follows DEFAULT_MONTHLY_BUDGET_USD",
    )
    version = models.BigIntegerField(default=0, editable=False)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "billing_user_budgets"
        verbose_name = "user budget"

    def __str__(self) -> str:
        return f"budget of user {self.user_id}"


class Reservation(models.Model):
    """What one text, image or video request may cost, held from before the provider is
    called until the request ends: then settled at the provider's actual cost, or
    released. A reservation nobody settled (its process died) stops counting at
    ``expires_at``.

    The generation and job ids are plain numbers, not foreign keys: deleting a history
    row or a video job must not give its money back.
    """

    class Kind(models.TextChoices):
        TEXT = "text", "Text"
        IMAGE = "image", "Image"
        VIDEO = "video", "Video"
        EMBEDDING = "embedding", "Embedding"

    class Status(models.TextChoices):
        RESERVED = "reserved", "Reserved"
        SETTLED = "settled", "Settled"
        RELEASED = "released", "Released"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reservations")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    model = models.CharField(max_length=200)
    generation_id = models.BigIntegerField(null=True, blank=True)
    video_job_id = models.BigIntegerField(null=True, blank=True)
    amount_reserved = models.DecimalField(**AMOUNT)
    amount_settled = models.DecimalField(**AMOUNT, null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RESERVED)
    # The prices the reservation was computed from, to price a settlement whose provider
    # reported tokens but no cost.
    pricing = models.JSONField(default=dict, blank=True)
    expires_at = models.DateTimeField()
    created_at = models.DateTimeField(default=timezone.now)
    settled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "billing_reservations"
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["user", "created_at"], name="reservation_user_recent"),
            models.Index(fields=["generation_id"], name="reservation_generation"),
            models.Index(fields=["video_job_id"], name="reservation_video_job"),
        ]

    def __str__(self) -> str:
        return f"reservation {self.pk} ({self.status})"

    @property
    def is_expired(self) -> bool:
        return self.status == self.Status.RESERVED and self.expires_at <= timezone.now()
