"""Reading budgets: a user's limits (their overrides, else the site's defaults), the UTC
periods, and what they spent and hold reserved."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db.models import Q, Sum
from django.utils import timezone

from billing.models import Reservation, UserBudget
from teams.models import Membership

ZERO = Decimal("0")
Status = Reservation.Status


@dataclass(frozen=True)
class GroupLimits:
    """The budget of a group the user belongs to (only groups with a limit are read)."""

    id: int
    name: str
    daily: Decimal | None
    monthly: Decimal | None


@dataclass(frozen=True)
class Limits:
    daily: Decimal | None  # what applies (override, else default); None = unlimited
    monthly: Decimal | None
    daily_override: Decimal | None
    monthly_override: Decimal | None
    has_row: bool
    # The user's groups that have a budget, by id: the order their rows are written in.
    groups: tuple[GroupLimits, ...] = ()

    @property
    def own_applies(self) -> bool:
        return self.daily is not None or self.monthly is not None

    @property
    def applies(self) -> bool:
        """Whether any budget (the user's own or a group's) applies to the user's requests."""
        return self.own_applies or bool(self.groups)


def user_limits(*, user_id: int, groups: bool = True) -> Limits:
    """Two queries: the user's overrides, falling back on the site's defaults, and the
    budgets of the user's groups that have one (not read with ``groups=False``)."""
    # [:1], not first(): no ORDER BY for a primary-key read (a sort step on DuckDB).
    row = next(
        iter(UserBudget.objects.filter(pk=user_id).values_list("daily_budget_usd", "monthly_budget_usd")[:1]), None
    )
    found = group_limits_of_users([user_id]).get(user_id, ()) if groups else ()
    return _limits(row, has_row=row is not None, groups=found)


def limits_of_users(user_ids: list[int]) -> list[Limits]:
    """:func:`user_limits` of each of ``user_ids``, in one query (for the requests of
    many users arriving together: generation.services reads them ahead, batched)."""
    rows = {
        user_id: (daily, monthly)
        for user_id, daily, monthly in UserBudget.objects.filter(pk__in=set(user_ids)).values_list(
            "pk", "daily_budget_usd", "monthly_budget_usd"
        )
    }
    groups = group_limits_of_users(user_ids)
    return [_limits(rows.get(user_id), has_row=user_id in rows, groups=groups.get(user_id, ())) for user_id in user_ids]


def group_limits_of_users(user_ids: list[int]) -> dict[int, tuple[GroupLimits, ...]]:
    """The budgets of each user's groups that have one, by group id (one query)."""
    found: dict[int, list[GroupLimits]] = {}
    rows = (
        Membership.objects.filter(user_id__in=set(user_ids))
        .filter(Q(team__daily_budget_usd__isnull=False) | Q(team__monthly_budget_usd__isnull=False))
        .values_list("user_id", "team_id", "team__name", "team__daily_budget_usd", "team__monthly_budget_usd")
        .order_by("user_id", "team_id")
    )
    for user_id, team_id, name, daily, monthly in rows:
        found.setdefault(user_id, []).append(GroupLimits(team_id, name, daily, monthly))
    return {user_id: tuple(groups) for user_id, groups in found.items()}


def _limits(row, *, has_row: bool, groups: tuple[GroupLimits, ...] = ()) -> Limits:
    daily_override, monthly_override = row or (None, None)
    return Limits(
        daily=daily_override if daily_override is not None else settings.DEFAULT_DAILY_BUDGET_USD,
        monthly=monthly_override if monthly_override is not None else settings.DEFAULT_MONTHLY_BUDGET_USD,
        daily_override=daily_override,
        monthly_override=monthly_override,
        has_row=has_row,
        groups=groups,
    )


@dataclass(frozen=True)
class Periods:
    day_start: datetime
    day_end: datetime
    month_start: datetime
    month_end: datetime


def periods(now: datetime | None = None) -> Periods:
    """The UTC day and UTC calendar month ``now`` falls in."""
    now = (now or timezone.now()).astimezone(UTC)
    day_start = now.replace(hour=0, minute=0, second=0, microsecond=0)
    month_start = day_start.replace(day=1)
    month_end = (month_start + timedelta(days=32)).replace(day=1)
    return Periods(day_start, day_start + timedelta(days=1), month_start, month_end)


@dataclass(frozen=True)
class Spending:
    spent_today: Decimal
    spent_this_month: Decimal
    reserved: Decimal


def spending(*, user_id: int, now: datetime | None = None) -> Spending:
    """Spent: settled amounts of requests made in the UTC day / month. Reserved: active
    reservations that have not expired (whenever they were made). One query."""
    return _spending(Reservation.objects.filter(user_id=user_id), now=now)


def group_spending(*, team_id: int, now: datetime | None = None) -> Spending:
    """:func:`spending` of a group: the ledger rows reserved under its budget, whoever of
    its members (then or now) made them (teams.models.TeamCharge)."""
    return _spending(Reservation.objects.filter(team_charges__team_id=team_id), now=now)


def _spending(rows, *, now: datetime | None) -> Spending:
    now = now or timezone.now()
    p = periods(now)
    totals = rows.filter(
        Q(status=Status.SETTLED, created_at__gte=p.month_start) | Q(status=Status.RESERVED, expires_at__gt=now),
    ).aggregate(
        today=Sum("amount_settled", filter=Q(status=Status.SETTLED, created_at__gte=p.day_start)),
        month=Sum("amount_settled", filter=Q(status=Status.SETTLED)),
        reserved=Sum("amount_reserved", filter=Q(status=Status.RESERVED)),
    )
    return Spending(totals["today"] or ZERO, totals["month"] or ZERO, totals["reserved"] or ZERO)


def budget_status(*, user_id: int, now: datetime | None = None) -> dict:
    """The user's limits and where they stand, as the limits API shows them, with the
    budgets of the user's groups (a request passes only when every one has room)."""
    now = now or timezone.now()
    limits, spent, p = user_limits(user_id=user_id), spending(user_id=user_id, now=now), periods(now)
    return {
        "user_id": user_id,
        "daily_budget_usd": _text(limits.daily_override),
        "monthly_budget_usd": _text(limits.monthly_override),
        "default_daily_budget_usd": _text(settings.DEFAULT_DAILY_BUDGET_USD),
        "default_monthly_budget_usd": _text(settings.DEFAULT_MONTHLY_BUDGET_USD),
        "timezone": "UTC",
        "daily": _period(limits.daily, spent.spent_today, spent.reserved, p.day_end),
        "monthly": _period(limits.monthly, spent.spent_this_month, spent.reserved, p.month_end),
        "groups": [
            {
                "group_id": group.id,
                "name": group.name,
                **group_budget_status(team_id=group.id, daily=group.daily, monthly=group.monthly, now=now),
            }
            for group in limits.groups
        ],
    }


def amount_text(amount: Decimal) -> str:
    """USD as a decimal string: as many places as it has (up to 8), at least 2 ("0.10", "0.0095")."""
    text = f"{Decimal(amount):.8f}".rstrip("0")
    whole, _, places = text.partition(".")
    return f"{whole}.{places.ljust(2, '0')}"


def _text(value: Decimal | None) -> str | None:
    return None if value is None else amount_text(value)


def group_budget_status(*, team_id: int, daily: Decimal | None, monthly: Decimal | None, now=None) -> dict:
    """Where a group's budget stands in the current UTC day and month (as the limits API
    shows a user's)."""
    now = now or timezone.now()
    spent, p = group_spending(team_id=team_id, now=now), periods(now)
    return {
        "daily": _period(daily, spent.spent_today, spent.reserved, p.day_end),
        "monthly": _period(monthly, spent.spent_this_month, spent.reserved, p.month_end),
    }


def _period(budget, used, reserved, resets_at) -> dict:
    return {
        "budget_usd": _text(budget),
        "spent_usd": amount_text(used),
        "reserved_usd": amount_text(reserved),
        "left_usd": None if budget is None else amount_text(max(ZERO, budget - used - reserved)),
        "resets_at": resets_at.isoformat().replace("+00:00", "Z"),
    }
