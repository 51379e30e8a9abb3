"""billing.selectors.limits_of_users: user_limits of many users in two queries (their own, their groups')."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from billing import selectors, services
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_each_users_limits_in_two_queries_as_user_limits_reads_them(settings):
    settings.DEFAULT_DAILY_BUDGET_USD = None
    settings.DEFAULT_MONTHLY_BUDGET_USD = Decimal("20")
    capped, free, untouched = UserFactory(), UserFactory(), UserFactory()
    services.limits_update(user=capped, daily_budget_usd="1.50", monthly_budget_usd=None)
    services.limits_update(user=free, daily_budget_usd=None, monthly_budget_usd=None)
    ids = [untouched.pk, capped.pk, free.pk, capped.pk]

    with CaptureQueriesContext(connection) as queries:
        limits = selectors.limits_of_users(ids)

    assert len(queries.captured_queries) == 2  # the users' rows, their groups' budgets
    assert limits == [selectors.user_limits(user_id=user_id) for user_id in ids]
    assert (limits[1].daily, limits[1].monthly, limits[1].has_row) == (Decimal("1.50"), Decimal("20"), True)
    assert (limits[0].daily, limits[0].monthly, limits[0].has_row) == (None, Decimal("20"), False)
