"""Concurrent requests of different members at the edge of their group's budget, with real
threads (each its own database connection): together they reserve at most the budget."""

from decimal import Decimal

import pytest

from billing import services
from billing.models import Reservation
from catalogue.models import ProviderModel
from core.errors import BudgetExceeded
from teams.models import TeamCharge
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)
THREADS = 20
# An image-only model at 0.10 per image: each request reserves exactly 0.10.
MODEL = ProviderModel(id="test/ten-cents", pricing={"image": "0.10"}, image_route="images")


@pytest.fixture(autouse=True)
def _patient(monkeypatch):
    """On a loaded machine 20 DuckDB transactions in a row can take longer than the 10 s a
    request waits before a 503; what is checked here is that no budget is overspent."""
    monkeypatch.setattr(services, "RESERVE_PATIENCE", 90.0)


def _reserve(user):
    return lambda: services.reserve_images(user=user, entry=MODEL, prompt="a cat", n=1)


def test_twenty_members_at_the_edge_of_a_group_budget_spend_at_most_the_budget(group):
    members = [UserFactory() for _ in range(THREADS)]
    team = group("Research", members=members, daily="1.00")

    results = run_all(members)

    held = [r for r in results if isinstance(r, services.Hold)]
    refused = [r for r in results if isinstance(r, BudgetExceeded)]
    assert len(held) == 10 and len(refused) == THREADS - 10, results
    assert all(hold.team_ids == (team.pk,) for hold in held)
    charged = Reservation.objects.filter(team_charges__team=team)
    assert charged.count() == 10 and sum(r.amount_reserved for r in charged) == Decimal("1.00")
    assert {r.extra["budget_owner"] for r in refused} == {"group"}
    assert all(f'group "{team.name}"' in r.message for r in refused)


def test_two_groups_and_own_limits_are_all_held_to(group, budget):
    members = [UserFactory() for _ in range(THREADS)]
    # Everyone is in the wide group (1.00); half are also in a narrow one (0.30); one has
    # an own limit of 0.10.
    wide = group("Everyone", members=members, daily="1.00")
    narrow = group("Few", members=members[:10], monthly="0.30")
    budget(members[0], daily="0.10")

    results = run_all(members)

    held = [r for r in results if isinstance(r, services.Hold)]
    assert not [r for r in results if not isinstance(r, (services.Hold, BudgetExceeded))], results
    in_narrow = [h for h in held if narrow.pk in h.team_ids]
    assert len(held) <= 10 and len(in_narrow) <= 3
    assert len(held) == 10, results  # the wide budget is the one that binds
    assert Reservation.objects.filter(user=members[0]).count() <= 1
    assert TeamCharge.objects.filter(team=wide).count() == 10
    assert TeamCharge.objects.filter(team=narrow).count() == len(in_narrow)


def run_all(members):
    from tests.support.threads import run_at_once

    return run_at_once(*[_reserve(member) for member in members])
