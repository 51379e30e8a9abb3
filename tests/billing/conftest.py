from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from tests.support.provider import catalogue, fake_openrouter  # noqa: F401


@pytest.fixture(autouse=True)
def _media_in_tmp(media_root):
    return media_root


@pytest.fixture(autouse=True)
def _no_default_budget(settings):
    """Tests start with no site default (as `make run` does) and set what they need."""
    settings.DEFAULT_DAILY_BUDGET_USD = None
    settings.DEFAULT_MONTHLY_BUDGET_USD = None
    settings.BILLING_RESERVATION_MARGIN = 120
    return settings


@pytest.fixture
def budget(db):
    """Give a user overrides: ``budget(user, daily="1.00", monthly=None)``."""
    from billing.models import UserBudget

    def give(user, *, daily=None, monthly=None):
        UserBudget.objects.update_or_create(
            user=user,
            defaults={
                "daily_budget_usd": None if daily is None else Decimal(daily),
                "monthly_budget_usd": None if monthly is None else Decimal(monthly),
            },
        )

    return give


@pytest.fixture
def spent(db):
    """A settled ledger row: ``spent(user, "0.40", at=datetime)``."""
    from billing.models import Reservation

    def add(user, amount, *, at=None, status=Reservation.Status.SETTLED, expires_in=600):
        at = at or timezone.now()
        return Reservation.objects.create(
            user=user,
            kind="text",
            model="openai/gpt-4o-mini",
            amount_reserved=Decimal(amount),
            amount_settled=Decimal(amount) if status == Reservation.Status.SETTLED else None,
            status=status,
            created_at=at,
            expires_at=at + timedelta(seconds=expires_in),
        )

    return add


from tests.generation.conftest import fault_model, stream_post  # noqa: E402,F401
from tests.videos.conftest import fake, fault_video_model  # noqa: E402,F401
