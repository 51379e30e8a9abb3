"""Concurrent requests at the edge of a budget, with real threads (each its own database
connection): they reserve exactly what fits, never more, on either store."""

from decimal import Decimal

import pytest

from billing import services
from billing.models import Reservation, UserBudget
from catalogue.models import ProviderModel
from core.errors import BudgetExceeded
from tests.factories import UserFactory
from tests.support.threads import run_at_once

pytestmark = pytest.mark.django_db(transaction=True)
THREADS = 20
# An image-only model at 0.10 per image: each request reserves exactly 0.10.
MODEL = ProviderModel(id="test/ten-cents", pricing={"image": "0.10"}, image_route="images")


def _reserve(user):
    def call():
        return services.reserve_images(user=user, entry=MODEL, prompt="a cat", n=1)

    return call


def test_twenty_requests_at_the_edge_reserve_exactly_what_fits():
    user = UserFactory()
    UserBudget.objects.create(user=user, daily_budget_usd=Decimal("1.00"))

    results = run_at_once(*[_reserve(user) for _ in range(THREADS)])

    held = [r for r in results if isinstance(r, services.Hold)]
    refused = [r for r in results if isinstance(r, BudgetExceeded)]
    assert len(held) == 10 and len(refused) == THREADS - 10, results
    assert Reservation.objects.filter(user=user).count() == 10
    assert sum(r.amount_reserved for r in Reservation.objects.filter(user=user)) == Decimal("1.00")


def test_the_race_counts_earlier_spend_and_users_without_a_row_yet():
    user = UserFactory()
    Reservation.objects.create(
        user=user,
        kind="text",
        model="x",
        amount_reserved=Decimal("0.35"),
        amount_settled=Decimal("0.35"),
        status="settled",
        expires_at="2999-01-01T00:00:00Z",
    )
    from django.test import override_settings

    with override_settings(DEFAULT_MONTHLY_BUDGET_USD=Decimal("1.00")):
        results = run_at_once(*[_reserve(user) for _ in range(THREADS)])

    held = [r for r in results if isinstance(r, services.Hold)]
    assert len(held) == 6, results  # 0.35 + 6 x 0.10 = 0.95; a seventh would make 1.05
    assert all(isinstance(r, (services.Hold, BudgetExceeded)) for r in results), results


def test_settling_past_a_reservation_while_others_reserve_is_seen_by_every_later_decision():
    user = UserFactory()
    UserBudget.objects.create(user=user, daily_budget_usd=Decimal("1.00"))
    first = services.reserve_images(user=user, entry=MODEL, prompt="a cat", n=1)

    # The first request's provider billed 0.50 (past its 0.10) while 19 more try to reserve.
    calls = [lambda: services.settle(first, amount=Decimal("0.50"))] + [_reserve(user) for _ in range(THREADS - 1)]
    results = run_at_once(*calls)

    assert not [r for r in results if isinstance(r, BaseException) and not isinstance(r, BudgetExceeded)], results
    settled = Reservation.objects.get(pk=first.id)
    assert settled.amount_settled == Decimal("0.50")
    # The provider's bill may land after others reserved (it cannot be refused), but each
    # reservation was decided on sums that include every settle committed before it.
    # Both are stamped inside their serialised transactions, so the stamps give the order.
    later = Reservation.objects.filter(user=user).exclude(pk=first.id).order_by("created_at")
    assert later.exists()
    for index, row in enumerate(later):
        before = Decimal("0.10") * index + (Decimal("0.50") if settled.settled_at < row.created_at else Decimal("0.10"))
        assert before + row.amount_reserved <= Decimal("1.00"), (index, before)
    if settled.settled_at < later.first().created_at:
        assert later.count() == 5
