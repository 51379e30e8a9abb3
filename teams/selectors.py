"""Reads of groups shared by the API and the admin pages."""

from __future__ import annotations

from django.db.models import Count, Prefetch, QuerySet

from billing.selectors import amount_text, group_budget_status
from teams.models import Membership, Team


def teams_visible_to(user) -> QuerySet[Team]:
    """Every group for an administrator; the groups they belong to for anyone else."""
    teams = Team.objects.annotate(member_count=Count("memberships", distinct=True)).prefetch_related(
        Prefetch("limited_models", to_attr="models_list")
    )
    if not getattr(user, "is_admin", False):
        teams = teams.filter(pk__in=Membership.objects.filter(user_id=user.pk).values("team_id"))
    return teams.order_by("name")


def team_detail(team: Team) -> dict:
    """A group as the API and pages show it, with where its budget stands."""
    models = getattr(team, "models_list", None)
    if models is None:
        models = list(team.limited_models.all())
    count = getattr(team, "member_count", None)
    return {
        "id": team.pk,
        "name": team.name,
        "description": team.description,
        "daily_budget_usd": _text(team.daily_budget_usd),
        "monthly_budget_usd": _text(team.monthly_budget_usd),
        "models": sorted(m.pk for m in models),
        "member_count": team.memberships.count() if count is None else count,
        "created_at": team.created_at,
        "budget": group_budget_status(team_id=team.pk, daily=team.daily_budget_usd, monthly=team.monthly_budget_usd),
    }


def members(team: Team) -> QuerySet[Membership]:
    return Membership.objects.filter(team=team).select_related("user", "added_by").order_by("user__email")


def _text(amount) -> str | None:
    return None if amount is None else amount_text(amount)
