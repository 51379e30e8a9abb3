"""Spending budgets, enforced before the provider is called.

Every text, image, embeddings and video request of a user under a budget *reserves* the largest
likely cost (billing.pricing) before the call, and is refused with BudgetExceeded (402)
when that would pass what is left of the UTC day's or the UTC month's budget. When the
request ends the reservation is *settled* at the provider's actual cost, or *released*
when the call failed. A reservation nobody settles (a killed process) stops counting at
its ``expires_at`` (the request's deadline plus BILLING_RESERVATION_MARGIN).

Groups (teams/): a member's request must also fit what is left of the budget of each of
their groups that has one, spent by all its members together; the reservation is charged
to those groups (teams.models.TeamCharge), and a group's spending is the sum of its
charged rows. The refusal names the budget that ran out: the user's own or a group's.

Atomicity: every transaction that reads a user's spending to decide, or raises it,
first writes the user's one UserBudget row (a conditional UPDATE of ``version``), then
the row of each of the user's groups with a budget, by group id (teams.models.Team,
its ``version``), so concurrent members of one group serialise on the group's row and
two transactions always take rows in the same order. On
PostgreSQL a second writer waits for the row and then finds the version moved; on DuckDB,
which has no row locks, it fails with a write conflict. Either way it is tried again,
with fresh data. Either way
no two reservations of one user are decided on the same sums.

Users with no budget (the default: DEFAULT_*_BUDGET_USD unset and no override) cost one
indexed read per request and make no ledger rows.
"""

from __future__ import annotations

import dataclasses
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, OperationalError, connection, transaction
from django.db.models import F
from django.utils import timezone

from audit import services as audit
from billing import pricing
from billing.models import Reservation, UserBudget
from billing.selectors import (
    GroupLimits,
    Limits,
    Periods,
    Spending,
    amount_text,
    group_spending,
    periods,
    spending,
    user_limits,
)
from core.changes import changed
from core.db import is_unique_clash, is_write_conflict, retry_on_write_conflict
from core.errors import BudgetExceeded, InvalidInput, Unavailable
from core.parsing import cost_or_none
from operations import metrics
from teams.models import Team, TeamCharge

log = logging.getLogger(__name__)

Status = Reservation.Status
ZERO = Decimal("0")
# How long a reservation keeps trying when concurrent requests of the same user conflict (DuckDB).
RESERVE_PATIENCE = 10.0
# A text request without max_tokens is capped at what the budget pays for; below this
# many completion tokens it is refused instead (an answer that short is no answer).
MIN_COMPLETION_TOKENS = 64
MAX_BUDGET = Decimal("999999.99999999")


class BudgetBusy(Unavailable):
    default_message = "Too many of your requests are being checked against your budget at once; try again."


@dataclass(frozen=True)
class Hold:
    """A reservation made for a request: what the request carries until it ends."""

    id: int
    user_id: int
    amount: Decimal
    prices: dict
    max_tokens: int | None = None
    # The groups whose budgets the reservation was charged to, by id.
    team_ids: tuple[int, ...] = ()


# ------------------------------------------------------------------ reserving


def reserve_text(
    *, user, entry, prompt: str, system: str, max_tokens: int | None, images: int = 0, limits: Limits | None = None
) -> Hold | None:
    """Reserve a text request's largest cost: the prompt (as an upper bound of its
    tokens, with ``images`` sent images) plus ``max_tokens`` completion tokens. Without
    ``max_tokens`` the answer is capped at what the budget left pays for
    (``Hold.max_tokens``, to send to the provider). None when no budget applies.
    ``limits``: the user's, if the caller read them already (else read here)."""
    limits = limits or user_limits(user_id=user.pk)
    if not limits.applies:
        return None
    price = _known(limits, user, lambda: pricing.text_price(entry, prompt=prompt, system=system, images=images), entry)
    notes = {**price.prices, "prompt_tokens": price.prompt_tokens}

    def decide(left: Decimal, refuse: Callable[..., BudgetExceeded]) -> tuple[Decimal, int | None]:
        if max_tokens is not None:
            cost = price.cost(max_tokens)
            if cost > left:
                fits = price.affordable_tokens(left)
                advice = (
                    f"Lower max_tokens to at most {fits}, choose a cheaper model, or wait until the budget resets."
                    if fits and fits >= 1
                    else "Choose a cheaper model or wait until the budget resets."
                )
                raise refuse(cost, advice)
            return cost, max_tokens
        cap = _completion_cap(entry, price)
        fits = price.affordable_tokens(left)
        if fits is None:  # free completions: only the fixed part counts
            if price.fixed > left:
                raise refuse(
                    pricing.usd(price.fixed),
                    "Shorten the prompt, choose a cheaper model, or wait until the budget resets.",
                )
            return pricing.usd(price.fixed), None
        tokens = min(fits, cap)
        if tokens < min(MIN_COMPLETION_TOKENS, cap):
            raise refuse(
                price.cost(min(MIN_COMPLETION_TOKENS, cap)),
                "Choose a cheaper model, shorten the prompt, or wait until the budget resets.",
            )
        return price.cost(tokens), tokens

    return _reserve(
        user_id=user.pk,
        limits=limits,
        kind=Reservation.Kind.TEXT,
        model=entry.id,
        notes=notes,
        decide=decide,
        expiry=settings.GENERATION_DEADLINE,
    )


def _completion_cap(entry, price: pricing.TextPrice) -> int:
    cap = settings.GENERATION_MAX_TOKENS_LIMIT
    if entry.context_length:
        cap = min(cap, max(1, entry.context_length - price.prompt_tokens))
    return cap


def reserve_images(*, user, entry, prompt: str, n: int) -> Hold | None:
    """Reserve n images at the model's image price (chat-route models: with the prompt
    and answer tokens of each call). None when no budget applies."""
    limits = user_limits(user_id=user.pk)
    if not limits.applies:
        return None
    cost, notes = _known(limits, user, lambda: pricing.image_cost(entry, prompt=prompt, n=n), entry)
    advice = (
        "Ask for fewer images, choose a cheaper model, or wait until the budget resets."
        if n > 1
        else "Choose a cheaper model or wait until the budget resets."
    )
    return _reserve(
        user_id=user.pk,
        limits=limits,
        kind=Reservation.Kind.IMAGE,
        model=entry.id,
        notes=notes,
        decide=_fixed(cost, advice),
        expiry=settings.GENERATION_DEADLINE,
    )


def reserve_embedding(*, user, entry, texts: list[str], tokens: int = 0) -> Hold | None:
    """Reserve an embeddings request: its inputs' prompt tokens at the model's price.
    None when no budget applies."""
    limits = user_limits(user_id=user.pk)
    if not limits.applies:
        return None
    cost, notes = _known(limits, user, lambda: pricing.embedding_cost(entry, texts=texts, tokens=tokens), entry)
    return _reserve(
        user_id=user.pk,
        limits=limits,
        kind=Reservation.Kind.EMBEDDING,
        model=entry.id,
        notes=notes,
        decide=_fixed(cost, "Send fewer or shorter inputs, choose a cheaper model, or wait until the budget resets."),
        expiry=settings.GENERATION_DEADLINE,
    )


def reserve_video(*, user, entry, duration: int | None, resolution: str | None) -> Hold | None:
    """Reserve a video job: price per second x duration. Held until the job ends."""
    limits = user_limits(user_id=user.pk)
    if not limits.applies:
        return None
    cost, notes = _known(
        limits, user, lambda: pricing.video_cost(entry, duration=duration, resolution=resolution), entry
    )
    return _reserve(
        user_id=user.pk,
        limits=limits,
        kind=Reservation.Kind.VIDEO,
        model=entry.id,
        notes=notes,
        decide=_fixed(cost, "Choose a shorter duration or a cheaper model, or wait until the budget resets."),
        expiry=settings.VIDEO_JOB_DEADLINE,
    )


def _fixed(cost: Decimal, advice: str):
    def decide(left: Decimal, refuse) -> tuple[Decimal, None]:
        if cost > left:
            raise refuse(cost, advice)
        return cost, None

    return decide


def _known(limits: Limits, user, estimate, entry):
    """The estimate, or a 402 saying the price is unknown (never a silent zero)."""
    try:
        return estimate()
    except pricing.PriceUnknown as exc:
        now = timezone.now()
        first = _budgets(user.pk, limits, now)[0]
        extra = _figures(first, periods(now), amount=None)
        whose = "your spending budget" if first.group is None else f'the budget of the group "{first.group.name}"'
        metrics.budget_refused(kind=",".join(getattr(entry, "kinds", None) or []), reason="price_unknown")
        raise BudgetExceeded(
            f"The price of {entry.id} is not known ({exc.what}), so it cannot be checked against {whose}. "
            "Choose another model, or ask an administrator to lift the limit.",
            extra={**extra, "price_unknown": True},
        ) from None


@dataclass(frozen=True)
class _Budget:
    """One budget a request must fit: the user's own (``group`` None) or a group's."""

    daily: Decimal | None
    monthly: Decimal | None
    spent: Spending
    group: GroupLimits | None = None

    def rows(self, p: Periods):
        """(name, budget, spent in it, resets_at) of each limit that applies."""
        if self.daily is not None:
            yield "daily", self.daily, self.spent.spent_today, p.day_end
        if self.monthly is not None:
            yield "monthly", self.monthly, self.spent.spent_this_month, p.month_end

    def left(self, p: Periods) -> Decimal:
        return min(budget - used - self.spent.reserved for _, budget, used, _ in self.rows(p))


def _budgets(user_id: int, limits: Limits, now) -> list[_Budget]:
    """Every budget that applies, the user's own first, then the groups' by id."""
    found = []
    if limits.own_applies:
        found.append(_Budget(limits.daily, limits.monthly, spending(user_id=user_id, now=now)))
    for group in limits.groups:
        found.append(_Budget(group.daily, group.monthly, group_spending(team_id=group.id, now=now), group))
    return found


def _reserve(*, user_id: int, limits: Limits, kind: str, model: str, notes: dict, decide, expiry: float) -> Hold | None:
    """Decide and record a reservation in one serialised transaction (see the module
    docstring); on a DuckDB write conflict, again with fresh sums."""
    if not limits.has_row:
        _ensure_budget_row(user_id)
    give_up = time.monotonic() + RESERVE_PATIENCE
    pause = 0.005
    while True:
        try:
            with transaction.atomic():
                _serialise(user_id)
                # The groups' rows after the user's, by id; their limits as the rows now say.
                groups = tuple(_serialise_team(group) for group in limits.groups)
                limits = dataclasses.replace(limits, groups=groups)
                now = timezone.now()
                p = periods(now)
                budgets = _budgets(user_id, limits, now)
                left = min(budget.left(p) for budget in budgets)

                def refuse(amount: Decimal, advice: str) -> BudgetExceeded:
                    return _refusal(budgets, p, amount=amount, advice=advice)

                refusal: BudgetExceeded | None
                try:
                    amount, max_tokens = decide(left, refuse)
                except BudgetExceeded as exc:
                    # Raised once the transaction is over (it only bumped the counter): an
                    # error inside it would spoil a caller's outer transaction on DuckDB.
                    refusal = exc
                else:
                    refusal = None
                    row = Reservation.objects.create(
                        user_id=user_id,
                        kind=kind,
                        model=model[:200],
                        amount_reserved=amount,
                        pricing=notes,
                        status=Status.RESERVED,
                        created_at=now,
                        expires_at=now + timedelta(seconds=expiry + settings.BILLING_RESERVATION_MARGIN),
                    )
                    if groups:
                        TeamCharge.objects.bulk_create(
                            [TeamCharge(team_id=group.id, reservation_id=row.pk, created_at=now) for group in groups]
                        )
            if refusal is not None:
                metrics.budget_refused(kind=kind, reason="budget")
                raise refusal
            return Hold(
                id=row.pk,
                user_id=user_id,
                amount=amount,
                prices=notes,
                max_tokens=max_tokens,
                team_ids=tuple(group.id for group in groups),
            )
        except (OperationalError, _Moved, _GroupGone) as exc:
            if isinstance(exc, OperationalError) and (connection.in_atomic_block or not is_write_conflict(exc)):
                raise
            if isinstance(exc, _GroupGone):
                # A group was deleted or left: decide on the memberships as they are now.
                limits = user_limits(user_id=user_id)
                if not limits.applies:
                    return None
            elif time.monotonic() > give_up:
                raise BudgetBusy() from exc
            time.sleep(pause * (1 + random.random()))
            pause = min(pause * 2, 0.2)


class _Moved(Exception):
    """The budget row changed between reading and writing it: decide again."""


class _GroupGone(Exception):
    """A group whose budget was to be checked no longer exists: read the limits again."""


def _ensure_budget_row(user_id: int) -> None:
    """The user's budget row, made by whichever of concurrent first requests gets there."""
    for _ in range(5):
        try:
            UserBudget.objects.bulk_create([UserBudget(user_id=user_id)], ignore_conflicts=True)
            return
        except (IntegrityError, OperationalError) as exc:
            # DuckDB: a concurrent insert of the same key is a clash even with ON CONFLICT DO NOTHING.
            if connection.in_atomic_block or not is_unique_clash(exc):
                raise
            if UserBudget.objects.filter(pk=user_id).exists():
                return
            time.sleep(0.01 * (1 + random.random()))


def _serialise(user_id: int) -> None:
    """Write the user's budget row first thing in the transaction (see the module docstring):
    a conditional UPDATE of its version, on both stores. A concurrent writer waits for the
    row (PostgreSQL) or conflicts (DuckDB); either way the later one sees the version moved
    and decides again on fresh sums."""
    version = UserBudget.objects.filter(pk=user_id).values_list("version", flat=True).first()
    if version is None or not UserBudget.objects.filter(pk=user_id, version=version).update(version=version + 1):
        raise _Moved()


def _serialise_team(group: GroupLimits) -> GroupLimits:
    """:func:`_serialise` for a group's row: its version bumped by a conditional UPDATE;
    returns the group's limits as that row holds them."""
    row = Team.objects.filter(pk=group.id).values_list("version", "name", "daily_budget_usd", "monthly_budget_usd")
    found = next(iter(row[:1]), None)
    if found is None:
        raise _GroupGone()
    version, name, daily, monthly = found
    if not Team.objects.filter(pk=group.id, version=version).update(version=version + 1):
        raise _Moved()
    return GroupLimits(group.id, name, daily, monthly)


def money(amount: Decimal) -> str:
    return f"${amount_text(amount)}"


def when(moment) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def _iso(moment) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _figures(budget_of: _Budget, p: Periods, *, amount: Decimal | None) -> dict:
    """The body fields of a refusal, for the limit that binds (the one that resets last
    among those the request would pass; the first limit when none is passed), and whose
    budget it is (``budget_owner``: "user" or "group", with the ``group``)."""
    spent = budget_of.spent
    rows = list(budget_of.rows(p))
    binding = [row for row in rows if amount is not None and amount > row[1] - row[2] - spent.reserved] or rows[:1]
    name, budget, used, resets_at = max(binding, key=lambda row: row[3])
    group = budget_of.group
    figures = {
        "budget_owner": "user" if group is None else "group",
        "group": None if group is None else {"id": group.id, "name": group.name},
        "budget": amount_text(budget),
        "spent": amount_text(used),
        "reserved": amount_text(spent.reserved),
        "resets_at": _iso(resets_at),
        "period": name,
        "timezone": "UTC",
    }
    if amount is not None:
        figures["cost"] = amount_text(amount)
    return figures


def _refusal(budgets: list[_Budget], p: Periods, *, amount: Decimal, advice: str) -> BudgetExceeded:
    """The 402 for the first budget (the user's own, then the groups' by id) the amount
    does not fit."""
    budget_of = next((b for b in budgets if amount > b.left(p)), budgets[0])
    spent = budget_of.spent
    figures = _figures(budget_of, p, amount=amount)
    budget, used, reserved = Decimal(figures["budget"]), Decimal(figures["spent"]), spent.reserved
    left = max(ZERO, budget - used - reserved)
    period = "UTC day" if figures["period"] == "daily" else "UTC month"
    held = f" and {money(reserved)} is held for requests still running" if reserved else ""
    resets = p.day_end if figures["period"] == "daily" else p.month_end
    if budget_of.group is None:
        whose, who = f"your {figures['period']} budget of {money(budget)}", "you have"
    else:
        name = budget_of.group.name
        whose = f'the {figures["period"]} budget of {money(budget)} of the group "{name}"'
        who = "its members have"
    return BudgetExceeded(
        f"This request could cost up to {money(amount)}, more than the {money(left)} left of "
        f"{whose} (this {period} {who} spent {money(used)}{held}). "
        f"The {figures['period']} budget resets at {when(resets)}. {advice}",
        extra=figures,
    )


# ------------------------------------------------------------------ after the call


def attach(hold: Hold | None, *, generation_id: int | None = None, video_job_id: int | None = None) -> None:
    """Note the history row or job a reservation is for (None: nothing to do)."""
    if hold is None:
        return
    retry_on_write_conflict(
        lambda: Reservation.objects.filter(pk=hold.id).update(generation_id=generation_id, video_job_id=video_job_id),
        what=f"reservation {hold.id}",
    )


def release(hold: Hold | None) -> None:
    """The call failed (nothing billed): the reservation stops counting."""
    if hold is None:
        return
    retry_on_write_conflict(
        lambda: Reservation.objects.filter(pk=hold.id, status=Status.RESERVED).update(
            status=Status.RELEASED, amount_settled=ZERO, settled_at=timezone.now()
        ),
        what=f"reservation {hold.id}",
    )


def settle(hold: Hold | None, *, amount: Decimal | None, statuses=(Status.RESERVED,)) -> None:
    """The request ended: its reservation becomes ``amount`` (None: the amount reserved,
    when the provider's cost is unknown). A cost above what was reserved (an answer that
    went past its estimate) raises the user's spending, so it is written serialised like
    a reservation; one within it only lowers it and needs no more than its own UPDATE."""
    if hold is None:
        return
    amount = hold.amount if amount is None else max(ZERO, amount)

    def write() -> int:
        return Reservation.objects.filter(pk=hold.id, status__in=tuple(statuses)).update(
            status=Status.SETTLED, amount_settled=amount, settled_at=timezone.now()
        )

    if amount <= hold.amount:
        retry_on_write_conflict(write, what=f"reservation {hold.id}")
        return
    give_up = time.monotonic() + RESERVE_PATIENCE
    while True:
        try:
            with transaction.atomic():
                _serialise(hold.user_id)
                for team_id in sorted(hold.team_ids):
                    _bump_team(team_id)
                write()
            return
        except (OperationalError, _Moved) as exc:
            if isinstance(exc, OperationalError) and (connection.in_atomic_block or not is_write_conflict(exc)):
                raise
            if time.monotonic() > give_up:
                raise
            time.sleep(0.005 + random.random() * 0.02)


def _bump_team(team_id: int) -> None:
    """A group's row written in a settlement's transaction (nothing to do if it is gone)."""
    version = Team.objects.filter(pk=team_id).values_list("version", flat=True).first()
    if version is not None and not Team.objects.filter(pk=team_id, version=version).update(version=version + 1):
        raise _Moved()


def provider_cost(hold: Hold | None, usage) -> Decimal | None:
    """What a finished call cost: the provider's reported cost, else its reported tokens
    at the reservation's prices, else None (settle at the amount reserved)."""
    if hold is None:
        return None
    cost = cost_or_none(getattr(usage, "cost", None))
    if cost is not None:
        return cost
    prompt_tokens, completion_tokens = getattr(usage, "prompt_tokens", 0), getattr(usage, "completion_tokens", 0)
    if prompt_tokens or completion_tokens:
        return pricing.priced_usage(hold.prices, prompt_tokens=prompt_tokens, completion_tokens=completion_tokens)
    return None


def safely(what: str, action: Callable[[], None]) -> None:
    """Run a settlement step; a failure is logged, never the request's error (the
    reservation then expires on its own)."""
    try:
        action()
    except Exception:  # noqa: BLE001 - logged; the reservation expires by itself
        log.exception("billing: %s failed", what)


# ------------------------------------------------------------------ video jobs


def _video_hold(job_id: int, statuses) -> Hold | None:
    row = (
        Reservation.objects.filter(video_job_id=job_id, status__in=tuple(statuses))
        .order_by("-created_at")
        .values("pk", "user_id", "amount_reserved", "pricing")
        .first()
    )
    if row is None:
        return None
    team_ids = tuple(
        TeamCharge.objects.filter(reservation_id=row["pk"]).order_by("team_id").values_list("team_id", flat=True)
    )
    return Hold(
        id=row["pk"],
        user_id=row["user_id"],
        amount=row["amount_reserved"],
        prices=row["pricing"] or {},
        team_ids=team_ids,
    )


def video_job_ended(*, job_id: int, status: str, cost: Decimal | None, submitted: Callable[[], bool]) -> None:
    """A job reached a terminal state. Completed: settled at the provider's cost (the
    reserved amount if it reported none). Failed: released unless the provider reported a
    cost. Cancelled: released if the provider never had the job, else kept as spent (the
    provider has no cancel and may still bill it)."""
    if status == "completed":
        # An operator's retry of a released job still records what it cost.
        hold = _video_hold(job_id, (Status.RESERVED, Status.RELEASED))
        settle(hold, amount=cost, statuses=(Status.RESERVED, Status.RELEASED))
        return
    hold = _video_hold(job_id, (Status.RESERVED,))
    if hold is None:
        return
    if cost is not None and cost > 0:
        settle(hold, amount=cost)
    elif status == "cancelled" and submitted():
        settle(hold, amount=None)
    else:
        release(hold)


def video_job_billed(*, job_id: int) -> None:
    """The provider took a job that had already ended here (cancelled while it was being
    submitted): it may still bill, so the reservation counts in full."""
    hold = _video_hold(job_id, (Status.RESERVED, Status.RELEASED))
    settle(hold, amount=None, statuses=(Status.RESERVED, Status.RELEASED))


# ------------------------------------------------------------------ limits


# Said to people on the budgets page as well as to API clients (for whom empty means "" or null).
EMPTY_OR_AMOUNT = "Give an amount in dollars such as 5.00, or leave it empty to follow the site's default."


def clean_limit(value, *, field: str) -> Decimal | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool) or isinstance(value, float):
        raise InvalidInput(EMPTY_OR_AMOUNT, field=field)
    try:
        amount = Decimal(str(value).strip())
    except ArithmeticError:
        raise InvalidInput(EMPTY_OR_AMOUNT, field=field) from None
    if not amount.is_finite() or amount < 0 or amount > MAX_BUDGET:
        raise InvalidInput(
            f"Give an amount from 0 to {MAX_BUDGET:,.2f} dollars, or leave it empty to follow the site's default.",
            field=field,
        )
    if amount != amount.quantize(pricing.PLACES):
        raise InvalidInput("At most 8 decimal places.", field=field)
    return amount


def limits_update(*, user, daily_budget_usd, monthly_budget_usd) -> UserBudget:
    """Set a user's overrides (None: follow the site's default). Takes effect for the
    next request; reservations already held stand."""
    errors: dict[str, list[str]] = {}
    values = {}
    for field, value in (("daily_budget_usd", daily_budget_usd), ("monthly_budget_usd", monthly_budget_usd)):
        try:
            values[field] = clean_limit(value, field=field)
        except InvalidInput as exc:
            errors.update(exc.errors)
    if errors:
        raise InvalidInput(errors=errors)
    _ensure_budget_row(user.pk)
    before = UserBudget.objects.filter(pk=user.pk).values(*values).get()

    def write():
        with transaction.atomic():
            UserBudget.objects.filter(pk=user.pk).update(**values, version=F("version") + 1, updated_at=timezone.now())
            changed()
            audit.budget_changed(user_id=user.pk, email=user.email, before=before, after=values)

    retry_on_write_conflict(write, what=f"budget of user {user.pk}")
    return UserBudget.objects.get(pk=user.pk)
