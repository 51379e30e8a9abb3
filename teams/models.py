"""Groups of people ("teams", so as not to be taken for django.contrib.auth's permission
groups): who belongs, the budget they spend together, the models limited to them, and
which ledger rows were reserved under each group's budget."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from billing.models import AMOUNT


class Team(models.Model):
    """A named group. Its row is also its budget row: ``version`` is bumped by every
    transaction that reserves or settles against the group's budget, which serialises
    the members' requests (billing.services), as UserBudget does one person's.

    ``daily_budget_usd``/``monthly_budget_usd``: NULL = no group limit for that period.
    ``limited_models``: the catalogue entries limited to this group's members (an entry with no
    group is not limited by groups; catalogue.selectors decides)."""

    name = models.CharField(max_length=100, unique=True)
    description = models.CharField(max_length=500, blank=True, default="")
    daily_budget_usd = models.DecimalField(
        **AMOUNT, null=True, blank=True, help_text="USD per UTC day for all members together; empty: no limit"
    )
    monthly_budget_usd = models.DecimalField(
        **AMOUNT,
        null=True,
        blank=True,
        help_text="USD per UTC calendar month for all members together; empty: no limit",
    )
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        through="Membership",
        through_fields=("team", "user"),
        related_name="teams",
        blank=True,
    )
    limited_models = models.ManyToManyField(
        "catalogue.ProviderModel",
        related_name="teams",
        blank=True,
        db_table="teams_team_models",
        help_text="models only this group's members (and administrators) may use",
    )
    version = models.BigIntegerField(default=0, editable=False)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "teams_teams"
        ordering = ["name"]
        verbose_name = "group"

    def __str__(self) -> str:
        return self.name

    @property
    def has_budget(self) -> bool:
        return self.daily_budget_usd is not None or self.monthly_budget_usd is not None


class Membership(models.Model):
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="team_memberships")
    added_at = models.DateTimeField(default=timezone.now)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        db_table = "teams_memberships"
        constraints = [models.UniqueConstraint(fields=["team", "user"], name="team_membership_once")]
        indexes = [models.Index(fields=["user"], name="team_membership_user")]

    def __str__(self) -> str:
        return f"user {self.user_id} in group {self.team_id}"


class TeamCharge(models.Model):
    """A ledger row (billing.Reservation) reserved under a group's budget. The group's
    spending is the sum of its charged rows, so what a member spent stays the group's
    after they leave, and a new member brings none of their earlier spending in."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="charges")
    reservation = models.ForeignKey("billing.Reservation", on_delete=models.CASCADE, related_name="team_charges")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "teams_charges"
        constraints = [models.UniqueConstraint(fields=["team", "reservation"], name="team_charge_once")]
        indexes = [models.Index(fields=["team", "created_at"], name="team_charge_recent")]
