"""Races decided by conditional updates, with real threads and their own DB connections."""

import pytest
from rest_framework.test import APIClient

from accounts import services, tokens
from accounts.models import RefreshToken, User
from core.errors import Conflict
from tests.factories import AdminFactory, UserFactory
from tests.support.accounts import run_at_once

pytestmark = pytest.mark.django_db(transaction=True)

ROUNDS = 5


def _refresh(token):
    def call():
        response = APIClient().post("/api/auth/refresh", {"refresh": token}, format="json")
        return response.status_code, response.json()

    return call


def test_two_concurrent_refreshes_of_one_token_exactly_one_wins():
    user = UserFactory()
    for _ in range(ROUNDS):
        pair = tokens.token_pair_issue(user=user)
        results = run_at_once(_refresh(pair.refresh), _refresh(pair.refresh))
        assert not any(isinstance(r, BaseException) for r in results), results
        statuses = sorted(status for status, _ in results)
        assert statuses == [200, 401], results  # never two winners, never a 500
    # The loser either lost at the conditional UPDATE (a race: the winner's new token lives)
    # or read the token after the winner had revoked it (reuse: the family is revoked);
    # either way no family ever has more than one live token.
    families = set(RefreshToken.objects.values_list("family", flat=True))
    assert len(families) == ROUNDS
    for family in families:
        assert RefreshToken.objects.filter(family=family).count() == 2
        assert RefreshToken.objects.filter(family=family, revoked_at__isnull=True).count() <= 1


def test_concurrent_refreshes_of_the_same_token_store_one_successor():
    user = UserFactory()
    pair = tokens.token_pair_issue(user=user)
    results = run_at_once(*[_refresh(pair.refresh) for _ in range(4)])
    assert sorted(status for status, _ in results) == [200, 401, 401, 401], results
    assert RefreshToken.objects.count() == 2
    assert RefreshToken.objects.filter(revoked_at__isnull=True).count() <= 1


def test_two_admins_demoting_each_other_at_once_leave_one_admin():
    for _ in range(ROUNDS):
        User.objects.all().delete()
        first, second = AdminFactory(), AdminFactory()
        results = run_at_once(
            lambda: services.user_update(user=User.objects.get(pk=second.pk), role="user", by=first),
            lambda: services.user_update(user=User.objects.get(pk=first.pk), role="user", by=second),
        )
        assert User.objects.filter(role="admin").count() == 1, results
        refused = [r for r in results if isinstance(r, BaseException)]
        assert len(refused) == 1 and isinstance(refused[0], Conflict), results
