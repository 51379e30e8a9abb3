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

ZERO = Decimal("0")
Status = Reservation.Status


@dataclass(frozen=True)
class Limits:
    daily: Decimal | None  # what applies (override, else default); None = unlimited
    monthly: Decimal | None
    daily_override: Decimal | None
    monthly_override: Decimal | None
    has_row: bool

    @property
    def applies(self) -> bool:
        return self.daily is not None or self.monthly is not None


def user_limits(*, user_id: int) -> Limits:
    """One query: the user's overrides, falling back on the site's defaults."""
    # [:1], not first(): no ORDER BY for a primary-key read (a sort step on DuckDB).
    row = next(
        iter(UserBudget.objects.filter(pk=user_id).values_list("daily_budget_usd", "monthly_budget_usd")[:1]), None
    )
    return _limits(row, has_row=row is not None)


def limits_of_users(user_ids: list[int]) -> list[Limits]:
    """:func:`user_limits` of each of ``user_ids``, in one query (for the requests of
    many users arriving together: generation.services reads them ahead, batched)."""
    rows = {
        user_id: (daily, monthly)
        for user_id, daily, monthly in UserBudget.objects.filter(pk__in=set(user_ids)).values_list(
            "pk", "daily_budget_usd", "monthly_budget_usd"
        )
    }
    return [_limits(rows.get(user_id), has_row=user_id in rows) for user_id in user_ids]


def _limits(row, *, has_row: bool) -> Limits:
    daily_override, monthly_override = row or (None, None)
    return Limits(
        daily=daily_override if daily_override is not None else settings.DEFAULT_DAILY_BUDGET_USD,
        monthly=monthly_override if monthly_override is not None else settings.DEFAULT_MONTHLY_BUDGET_USD,
        daily_override=daily_override,
        monthly_override=monthly_override,
        has_row=has_row,
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
    now = now or timezone.now()
    p = periods(now)
    totals = (
        Reservation.objects.filter(user_id=user_id)
        .filter(
            Q(status=Status.SETTLED, created_at__gte=p.month_start) | Q(status=Status.RESERVED, expires_at__gt=now),
        )
        .aggregate(
            today=Sum("amount_settled", filter=Q(status=Status.SETTLED, created_at__gte=p.day_start)),
            month=Sum("amount_settled", filter=Q(status=Status.SETTLED)),
            reserved=Sum("amount_reserved", filter=Q(status=Status.RESERVED)),
        )
    )
    return Spending(totals["today"] or ZERO, totals["month"] or ZERO, totals["reserved"] or ZERO)


def budget_status(*, user_id: int, now: datetime | None = None) -> dict:
    """The user's limits and where they stand, as the limits API shows them."""
    now = now or timezone.now()
    limits, spent, p = user_limits(user_id=user_id), spending(user_id=user_id, now=now), periods(now)

    def period(budget, used, resets_at):
        return {
            "budget_usd": _text(budget),
            "spent_usd": amount_text(used),
            "reserved_usd": amount_text(spent.reserved),
            "left_usd": None if budget is None else amount_text(max(ZERO, budget - used - spent.reserved)),
            "resets_at": resets_at.isoformat().replace("+00:00", "Z"),
        }

    return {
        "user_id": user_id,
        "daily_budget_usd": _text(limits.daily_override),
        "monthly_budget_usd": _text(limits.monthly_override),
        "default_daily_budget_usd": _text(settings.DEFAULT_DAILY_BUDGET_USD),
        "default_monthly_budget_usd": _text(settings.DEFAULT_MONTHLY_BUDGET_USD),
        "timezone": "UTC",
        "daily": period(limits.daily, spent.spent_today, p.day_end),
        "monthly": period(limits.monthly, spent.spent_this_month, p.month_end),
    }


def amount_text(amount: Decimal) -> str:
    """USD as a decimal string: as many places as it has (up to 8), at least 2 ("0.10", "0.0095")."""
    text = f"{Decimal(amount):.8f}".rstrip("0")
    whole, _, places = text.partition(".")
    return f"{whole}.{places.ljust(2, '0')}"


def _text(value: Decimal | None) -> str | None:
    return None if value is None else amount_text(value)
