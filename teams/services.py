"""Changes to groups: create, edit (name, budget, limited models), delete, and their
members. Administrators only (the views check); every change goes through
:func:`_changed`, the one place an audit trail hooks in."""

from __future__ import annotations

import logging

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from audit import services as audit
from billing.services import clean_limit
from catalogue.models import ProviderModel
from catalogue.selectors import catalogue_entries_changed
from core.changes import changed
from core.db import retry_on_write_conflict
from core.errors import Conflict, InvalidInput, NotFound
from teams.models import Membership, Team

log = logging.getLogger(__name__)

UNSET = object()
NAME_MAX: int = Team._meta.get_field("name").max_length or 100
DESCRIPTION_MAX: int = Team._meta.get_field("description").max_length or 500


def _changed(action: str, *, team: Team, by, **details) -> None:
    """Every change to a group, its budget, model access or members ends here: the audit
    trail records it from this one place (what changed, and the values it now has), and
    every process forgets the budget limits it kept (core.changes)."""
    changed()
    log.info("group %s: %s by %s %s", team.pk, action, getattr(by, "pk", None), details, extra={"group_change": action})
    membership = action.startswith("member ")
    audit.record(
        audit.Action.GROUP_MEMBERSHIP_CHANGED if membership else audit.Action.GROUP_CHANGED,
        target_type="group",
        target_id=team.pk,
        target_repr=team.name,
        before={"member": details.get("user_id")} if action == "member removed" else None,
        after={"change": action, **details} if action != "member removed" else {"change": action},
        actor=by,
    )


def _clean_name(name, *, team_id: int | None = None) -> str:
    if not isinstance(name, str) or not name.strip():
        raise InvalidInput("A group needs a name.", field="name")
    name = " ".join(name.split())
    if len(name) > NAME_MAX:
        raise InvalidInput(f"At most {NAME_MAX} characters.", field="name")
    others = Team.objects.filter(name__iexact=name)
    if team_id is not None:
        others = others.exclude(pk=team_id)
    if others.exists():
        raise InvalidInput(f'A group named "{name}" exists already.', field="name")
    return name


def _clean_description(description) -> str:
    if description is None:
        return ""
    if not isinstance(description, str):
        raise InvalidInput("Must be text.", field="description")
    if len(description) > DESCRIPTION_MAX:
        raise InvalidInput(f"At most {DESCRIPTION_MAX} characters.", field="description")
    return description.strip()


def _clean_models(model_ids) -> list[str]:
    if not isinstance(model_ids, (list, tuple)) or not all(isinstance(m, str) for m in model_ids):
        raise InvalidInput("A list of model ids.", field="models")
    wanted = list(dict.fromkeys(m.strip() for m in model_ids if m.strip()))
    known = set(ProviderModel.objects.filter(pk__in=wanted).values_list("pk", flat=True))
    unknown = [m for m in wanted if m not in known]
    if unknown:
        raise InvalidInput(f"Not in the catalogue: {', '.join(unknown)}.", field="models")
    return wanted


def _clean(fields: dict, *, team_id: int | None = None) -> dict:
    """The given fields, checked; every field's error at once."""
    errors: dict[str, list[str]] = {}
    values: dict = {}
    checks = {
        "name": lambda v: _clean_name(v, team_id=team_id),
        "description": _clean_description,
        "daily_budget_usd": lambda v: clean_limit(v, field="daily_budget_usd"),
        "monthly_budget_usd": lambda v: clean_limit(v, field="monthly_budget_usd"),
        "models": _clean_models,
    }
    for field, value in fields.items():
        if value is UNSET:
            continue
        try:
            values[field] = checks[field](value)
        except InvalidInput as exc:
            errors.update(exc.errors)
    if errors:
        raise InvalidInput(errors=errors)
    return values


def team_create(*, by, name, description="", daily_budget_usd=None, monthly_budget_usd=None, models=()) -> Team:
    values = _clean(
        {
            "name": name,
            "description": description,
            "daily_budget_usd": daily_budget_usd,
            "monthly_budget_usd": monthly_budget_usd,
            "models": list(models),
        }
    )
    model_ids = values.pop("models")
    try:
        with transaction.atomic():
            team = Team.objects.create(**values)
            if model_ids:
                team.limited_models.set(model_ids)
    except IntegrityError:
        raise InvalidInput(f'A group named "{values["name"]}" exists already.', field="name") from None
    if model_ids:
        catalogue_entries_changed()
    _changed("created", team=team, by=by, **_shown(values, model_ids))
    return team


def team_update(
    *,
    team: Team,
    by,
    name=UNSET,
    description=UNSET,
    daily_budget_usd=UNSET,
    monthly_budget_usd=UNSET,
    models=UNSET,
) -> Team:
    """Change the given fields (UNSET: as they are). A new budget applies to the next
    request; reservations already held stand."""
    values = _clean(
        {
            "name": name,
            "description": description,
            "daily_budget_usd": daily_budget_usd,
            "monthly_budget_usd": monthly_budget_usd,
            "models": models,
        },
        team_id=team.pk,
    )
    model_ids = values.pop("models", None)
    if values:
        try:
            # Bumping the version: a reservation deciding on the old budget tries again.
            written = retry_on_write_conflict(
                lambda: Team.objects.filter(pk=team.pk).update(
                    **values, version=F("version") + 1, updated_at=timezone.now()
                ),
                what=f"group {team.pk}",
            )
        except IntegrityError:
            raise InvalidInput(f'A group named "{values["name"]}" exists already.', field="name") from None
        if not written:
            raise NotFound("No such group.")
    if model_ids is not None:
        with transaction.atomic():
            team.limited_models.set(model_ids)
        catalogue_entries_changed()
    team.refresh_from_db()
    _changed("updated", team=team, by=by, **_shown(values, model_ids))
    return team


def team_delete(*, team: Team, by) -> None:
    """Delete a group: its memberships, model limits and ledger charges go with it (the
    ledger rows stay their members' own spending)."""
    team_id = team.pk
    with transaction.atomic():
        team.delete()
    team.pk = team_id  # Django clears it on delete; the trail names the group that went
    catalogue_entries_changed()
    _changed("deleted", team=team, by=by, name=team.name)


def member_add(*, team: Team, user, by) -> Membership:
    """Add ``user`` to the group (409 if they are in it already). Their next request
    counts against the group's budget and may use its models."""
    if not getattr(user, "is_active", True):
        raise InvalidInput("That account is not active.", field="user_id")
    if Membership.objects.filter(team=team, user=user).exists():
        raise Conflict(f'That person is in the group "{team.name}" already.')
    try:
        membership = Membership.objects.create(team=team, user=user, added_by=by if getattr(by, "pk", None) else None)
    except IntegrityError:
        raise Conflict(f'That person is in the group "{team.name}" already.') from None
    _changed("member added", team=team, by=by, user_id=user.pk)
    return membership


def member_remove(*, team: Team, user_id: int, by) -> None:
    """Take a person out of the group (404 if they are not in it). What they spent under
    the group's budget stays counted in it for the period."""
    deleted, _ = Membership.objects.filter(team=team, user_id=user_id).delete()
    if not deleted:
        raise NotFound("That person is not in this group.")
    _changed("member removed", team=team, by=by, user_id=user_id)


def _shown(values: dict, model_ids) -> dict:
    shown = {field: str(value) if value is not None else None for field, value in values.items()}
    if model_ids is not None:
        shown["models"] = model_ids
    return shown
