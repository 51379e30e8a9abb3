"""Spend read from the database: what generations and video jobs cost, grouped by UTC
day, model, kind, user and API key.

Spend is the cost of text/image generations that ran (completed, partial, or failed with
a cost) and of video jobs whose cost is known (completed, or failed/cancelled with a
cost). Each row counts on the UTC day it was created. Every figure is a GROUP BY in the
database (``TruncDate(..., tzinfo=UTC)``, model, kind, owner, api_key), one query per table and
grouping; only the small grouped results of the two tables are added together here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from django.db.models import CharField, Count, DecimalField, F, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone

from billing.selectors import user_limits
from generation.models import Generation
from storage.quota import storage_usage
from teams.models import Membership, Team
from videos.models import VideoJob

UTC = UTC
KINDS = ("text", "image", "video", "embedding")
RECENT_DAYS = 30
COST_PLACES = Decimal("0.00000001")
_MONEY = DecimalField(max_digits=20, decimal_places=8)
_ZERO = Value(Decimal("0"), output_field=_MONEY)
# What a grouping may name; each source spells them in its own columns.
DIMENSIONS = ("day", "model", "kind", "user_id", "email", "key_id", "key_name", "key_prefix", "key_email")
# The entry of by_key for spend made without a key (the web pages, sessions, JWTs), and
# for rows whose key has since been deleted (the foreign key is then null).
NO_KEY_NAME = "web and API (no key)"


def _generation_rows() -> QuerySet:
    charged = Q(status__in=[Generation.Status.COMPLETED, Generation.Status.PARTIAL]) | Q(
        status=Generation.Status.FAILED, cost__gt=0
    )
    # An uploaded image is a row without a provider call: not spend.
    return (
        Generation.objects.filter(charged)
        .exclude(route=Generation.UPLOAD_ROUTE)
        .annotate(
            usage_model=F("model_id"), usage_kind=F("kind"), usage_cost=Coalesce("cost", _ZERO, output_field=_MONEY)
        )
    )


def _video_rows() -> QuerySet:
    charged = Q(status=VideoJob.Status.COMPLETED) | Q(cost__isnull=False)
    return VideoJob.objects.filter(charged).annotate(
        usage_model=F("model"),
        usage_kind=Value("video", output_field=CharField()),
        usage_cost=Coalesce("cost", _ZERO, output_field=_MONEY),
    )


_SOURCES = (_generation_rows, _video_rows)
_COLUMNS = {
    "model": "usage_model",
    "kind": "usage_kind",
    "user_id": "owner_id",
    "email": "owner__email",
    "key_id": "api_key_id",
    "key_name": "api_key__name",
    "key_prefix": "api_key__prefix",
    "key_email": "api_key__user__email",
}


def utc_day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def now() -> datetime:
    """The current time (tests replace this to stand on either side of midnight UTC)."""
    return timezone.now()


def today_utc(at: datetime | None = None) -> date:
    return (at or now()).astimezone(UTC).date()


@dataclass(frozen=True)
class Scope:
    """Whose spend (one user, or everyone when ``user`` is None) between two UTC days,
    both included."""

    first: date
    last: date
    user: object | None = None

    def filter(self, rows: QuerySet) -> QuerySet:
        rows = rows.filter(
            created_at__gte=utc_day_start(self.first), created_at__lt=utc_day_start(self.last + timedelta(days=1))
        )
        return rows.filter(owner=self.user) if self.user is not None else rows

    @property
    def days(self) -> list[date]:
        return [self.first + timedelta(days=n) for n in range((self.last - self.first).days + 1)]


def grouped(scope: Scope, *by: str, within: list[dict] | None = None) -> list[dict]:
    """Cost and count per combination of ``by`` (names from DIMENSIONS), both tables
    added together; sorted by ``by``. Each table answers one GROUP BY query; or, given
    ``within`` (rows grouped finer, by "day" and at least ``by``, over days that cover the
    scope), they are rolled up from those rows without asking the database again."""
    unknown = set(by) - set(DIMENSIONS)
    if unknown:
        raise ValueError(f"cannot group spend by {sorted(unknown)}")
    found = _rows_within(scope, within) if within is not None else _grouped_in_database(scope, by)
    totals: dict[tuple, dict] = {}
    for row in found:
        key = tuple(row[name] for name in by)
        entry = totals.setdefault(key, {**dict(zip(by, key)), "cost": Decimal("0"), "count": 0})
        entry["cost"] += _money(row["cost"])
        entry["count"] += row["count"]
    # None sorts first, as the empty string would; the flag keeps ints and None apart.
    return [
        totals[key] for key in sorted(totals, key=lambda k: tuple((v is not None, "" if v is None else v) for v in k))
    ]


def _grouped_in_database(scope: Scope, by: tuple[str, ...]):
    for source in _SOURCES:
        rows = scope.filter(source())
        names: dict[str, TruncDate | F] = {"day": TruncDate("created_at", tzinfo=UTC)}
        names.update({name: F(column) for name, column in _COLUMNS.items() if name in by})
        rows = (
            rows.annotate(**{f"g_{name}": names[name] for name in by})
            .values(*(f"g_{name}" for name in by))
            .annotate(cost=Sum("usage_cost"), count=Count("id"))
            .order_by()
        )
        for row in rows:
            yield {**{name: row[f"g_{name}"] for name in by}, "cost": row["cost"], "count": row["count"]}


def _rows_within(scope: Scope, rows: list[dict]) -> list[dict]:
    return [row for row in rows if scope.first <= row["day"] <= scope.last]


def totals(scope: Scope, *, within: list[dict] | None = None) -> dict:
    """{"cost", "count"} over the whole scope (one aggregate query per table; or summed
    from ``within``, as :func:`grouped` rolls them up)."""
    if within is not None:
        [row] = grouped(scope, within=within) or [{"cost": Decimal("0"), "count": 0}]
        return {"cost": row["cost"], "count": row["count"]}
    cost, count = Decimal("0"), 0
    for source in _SOURCES:
        row = scope.filter(source()).aggregate(cost=Sum("usage_cost"), count=Count("id"))
        cost += _money(row["cost"])
        count += row["count"]
    return {"cost": cost, "count": count}


def by_day(scope: Scope, *, within: list[dict] | None = None) -> list[dict]:
    """One entry per day of the scope, days without spend included (cost 0)."""
    found = {row["day"]: row for row in grouped(scope, "day", within=within)}
    return [
        {"day": day, "cost": found.get(day, {}).get("cost", Decimal("0")), "count": found.get(day, {}).get("count", 0)}
        for day in scope.days
    ]


def by_model(scope: Scope, *, within: list[dict] | None = None) -> list[dict]:
    """{"model", "kind", "cost", "count"} per model, the most spent first."""
    return sorted(grouped(scope, "model", "kind", within=within), key=lambda row: (-row["cost"], row["model"]))


def by_kind(scope: Scope, *, within: list[dict] | None = None) -> dict[str, dict]:
    """{"text": {"cost", "count"}, "image": ..., "video": ..., "embedding": ...}, every kind."""
    found = {row["kind"]: row for row in grouped(scope, "kind", within=within)}
    return {
        kind: {"cost": found.get(kind, {}).get("cost", Decimal("0")), "count": found.get(kind, {}).get("count", 0)}
        for kind in KINDS
    }


def by_user(scope: Scope) -> list[dict]:
    """{"user_id", "email", "cost", "count"} per user with spend, the most spent first."""
    return sorted(grouped(scope, "user_id", "email"), key=lambda row: (-row["cost"], row["email"]))


def by_key(scope: Scope, *, keys=None, within: list[dict] | None = None) -> list[dict]:
    """{"key_id", "name", "prefix", "email", "cost", "count"} per API key, grouped by
    api_key in the database, plus one entry (key_id None, name NO_KEY_NAME) for spend
    without a key; the most spent first. ``keys`` (an ApiKey queryset) are listed too
    when nothing was spent with them (cost 0). ``email`` is the key owner's."""
    rows = {
        row["key_id"]: {
            "key_id": row["key_id"],
            "name": row["key_name"],
            "prefix": row["key_prefix"],
            "email": row["key_email"],
            "cost": row["cost"],
            "count": row["count"],
        }
        for row in grouped(scope, "key_id", "key_name", "key_prefix", "key_email", within=within)
    }
    for key in keys.values("id", "name", "prefix", "user__email") if keys is not None else ():
        rows.setdefault(
            key["id"],
            {
                "key_id": key["id"],
                "name": key["name"],
                "prefix": key["prefix"],
                "email": key["user__email"],
                "cost": Decimal("0"),
                "count": 0,
            },
        )
    no_key = rows.setdefault(None, {"cost": Decimal("0"), "count": 0})
    no_key.update(key_id=None, name=NO_KEY_NAME, prefix=None, email=None)
    return sorted(rows.values(), key=lambda row: (-row["cost"], row["key_id"] is None, row["name"], row["key_id"] or 0))


def by_group(scope: Scope) -> list[dict]:
    """{"group_id", "name", "cost", "count"} per group: the spend of its current members
    made since they joined (one GROUP BY per table; a person in two groups counts in
    both, so the groups need not add up to the total). Groups without spend are listed
    with 0. The most spent first."""
    totals: dict[int, dict] = {
        team_id: {"group_id": team_id, "name": name, "cost": Decimal("0"), "count": 0}
        for team_id, name in Team.objects.values_list("pk", "name")
    }
    for source in _SOURCES:
        rows = (
            scope.filter(source())
            .filter(owner__team_memberships__added_at__lte=F("created_at"))
            .values(g_team=F("owner__team_memberships__team_id"))
            .annotate(cost=Sum("usage_cost"), count=Count("id"))
            .order_by()
        )
        for row in rows:
            entry = totals.get(row["g_team"])
            if entry is not None:
                entry["cost"] += _money(row["cost"])
                entry["count"] += row["count"]
    return sorted(totals.values(), key=lambda row: (-row["cost"], row["name"]))


def groups_of_users() -> dict[int, str]:
    """Each member's groups, as the CSV shows them ("A; B")."""
    found: dict[int, list[str]] = {}
    for user_id, name in Membership.objects.order_by("team__name").values_list("user_id", "team__name"):
        found.setdefault(user_id, []).append(name)
    return {user_id: "; ".join(names) for user_id, names in found.items()}


def _budget(limit, spent: Decimal) -> dict:
    if limit in (None, ""):
        return {"limit": None, "left": None}
    limit = _money(Decimal(str(limit)))
    return {"limit": limit, "left": max(Decimal("0"), limit - spent)}


def user_usage(*, user, at: datetime | None = None) -> dict:
    """One user's spend: today and this month (UTC), what their budget leaves (None when
    no budget applies to them), and the last RECENT_DAYS days by day, model and kind; and
    what their stored files take of their storage quota."""
    today = today_utc(at)
    month_start = today.replace(day=1)
    recent = Scope(today - timedelta(days=RECENT_DAYS - 1), today, user)
    # One GROUP BY per table over the days all the figures below cover, rolled up here.
    spend = grouped(
        Scope(min(month_start, recent.first), today, user),
        "day",
        "model",
        "kind",
        "key_id",
        "key_name",
        "key_prefix",
        "key_email",
    )
    spent_today = totals(Scope(today, today, user), within=spend)
    spent_month = totals(Scope(month_start, today, user), within=spend)
    limits = user_limits(user_id=user.pk, groups=False)  # the user's own budget, else the site's default
    return {
        "today": {"date": today, **spent_today},
        "month": {"start": month_start, **spent_month},
        "budget": {
            "daily": _budget(limits.daily, spent_today["cost"]),
            "monthly": _budget(limits.monthly, spent_month["cost"]),
        },
        "from": recent.first,
        "to": recent.last,
        "by_day": by_day(recent, within=spend),
        "by_model": by_model(recent, within=spend),
        "by_kind": by_kind(recent, within=spend),
        "by_key": by_key(recent, keys=user.api_keys.all(), within=spend),
        "storage": storage_usage(user_id=user.pk),
    }


def site_usage(*, first: date, last: date) -> dict:
    """Everyone's spend between two UTC days (both included): totals, by day, model,
    kind, user and API key (keys with spend in the range)."""
    scope = Scope(first, last)
    return {
        "from": first,
        "to": last,
        "totals": totals(scope),
        "by_day": by_day(scope),
        "by_model": by_model(scope),
        "by_kind": by_kind(scope),
        "by_user": by_user(scope),
        "by_key": by_key(scope),
        "by_group": by_group(scope),
    }


def site_usage_rows(*, first: date, last: date) -> list[dict]:
    """The CSV export: one row per user per UTC day per model (with its kind and the
    user's groups now)."""
    groups = groups_of_users()
    rows = grouped(Scope(first, last), "day", "email", "user_id", "kind", "model")
    return [{**row, "groups": groups.get(row["user_id"], "")} for row in rows]


def _money(value) -> Decimal:
    return (Decimal("0") if value is None else Decimal(value)).quantize(COST_PLACES)


def site_spend_summary(*, at: datetime | None = None) -> dict:
    """The admin stats' "spend" section: everyone's spend today, this month and in all,
    generations and video jobs counted as the usage pages count them."""
    today = today_utc(at)
    first_ever = date(2000, 1, 1)
    return {
        "today": totals(Scope(today, today))["cost"],
        "this_month": totals(Scope(today.replace(day=1), today))["cost"],
        "all_time": totals(Scope(first_ever, today))["cost"],
    }
