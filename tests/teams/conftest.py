import pytest

from tests.billing.conftest import _media_in_tmp, _no_default_budget, budget, spent  # noqa: F401
from tests.support.provider import catalogue, fake_openrouter  # noqa: F401


@pytest.fixture
def group(db, admin_user):
    """Make a group with members: ``group("Research", members=[u1, u2], daily="1.00")``."""
    from teams import services

    def make(name, *, members=(), daily=None, monthly=None, models=()):
        team = services.team_create(
            by=admin_user, name=name, daily_budget_usd=daily, monthly_budget_usd=monthly, models=list(models)
        )
        for member in members:
            services.member_add(team=team, user=member, by=admin_user)
        return team

    return make
