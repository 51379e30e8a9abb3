"""The admin panel's group pages: list and create, edit a group (name, budgets, the models
limited to it), add and remove members, delete. The same services as /api/groups."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from accounts.models import User
from admin_panel.views import admin_required
from catalogue.selectors import catalogue_list
from core.errors import DomainError
from teams import selectors, services
from teams.models import Team


class GroupForm(forms.Form):
    name = forms.CharField(max_length=100)
    description = forms.CharField(max_length=500, required=False)
    daily_budget_usd = forms.CharField(label="Daily budget (USD per UTC day, all members together)", required=False)
    monthly_budget_usd = forms.CharField(
        label="Monthly budget (USD per UTC month, all members together)", required=False
    )
    models = forms.MultipleChoiceField(
        label="Models limited to this group (none: not limited)", required=False, widget=forms.SelectMultiple
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["models"].choices = [(m.pk, m.pk) for m in catalogue_list(include_unavailable=True)]


def _apply(form: GroupForm, save) -> bool:
    """Run a service with the form's values; its field errors go onto the form."""
    data = form.cleaned_data
    try:
        save(
            name=data["name"],
            description=data["description"],
            daily_budget_usd=data["daily_budget_usd"] or None,
            monthly_budget_usd=data["monthly_budget_usd"] or None,
            models=data["models"],
        )
    except DomainError as exc:
        if not exc.errors:
            form.add_error(None, exc.message)
        for field, errors in exc.errors.items():
            for error in errors:
                form.add_error(field if field in form.fields else None, error)
        return False
    return True


@require_http_methods(["GET", "POST"])
@admin_required
def group_list(request):
    form, status = GroupForm(), 200
    if request.method == "POST":
        form = GroupForm(request.POST)
        if form.is_valid() and _apply(form, lambda **f: services.team_create(by=request.user, **f)):
            messages.success(request, f'The group "{form.cleaned_data["name"]}" is created.')
            return redirect("teams:list")
        status = 400
    teams = [selectors.team_detail(t) for t in selectors.teams_visible_to(request.user)]
    return render(request, "teams/list.html", {"teams": teams, "form": form}, status=status)


@require_http_methods(["GET", "POST"])
@admin_required
def group_edit(request, team_id: int):
    team = get_object_or_404(Team, pk=team_id)
    status = 200
    if request.method == "POST":
        form = GroupForm(request.POST)
        if form.is_valid() and _apply(form, lambda **f: services.team_update(team=team, by=request.user, **f)):
            messages.success(request, f'The group "{team.name}" is saved.')
            return redirect("teams:edit", team_id=team.pk)
        status = 400
    else:
        form = GroupForm(
            initial={
                "name": team.name,
                "description": team.description,
                "daily_budget_usd": team.daily_budget_usd or "",
                "monthly_budget_usd": team.monthly_budget_usd or "",
                "models": list(team.limited_models.values_list("pk", flat=True)),
            }
        )
    context = {"team": selectors.team_detail(team), "form": form, "members": selectors.members(team)}
    return render(request, "teams/edit.html", context, status=status)


@require_POST
@admin_required
def member_add(request, team_id: int):
    team = get_object_or_404(Team, pk=team_id)
    email = (request.POST.get("email") or "").strip()
    user = User.objects.filter(email__iexact=email).first() if email else None
    if user is None:
        messages.error(request, f'No account with the email "{email}".' if email else "Give the member's email.")
    else:
        try:
            services.member_add(team=team, user=user, by=request.user)
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, f'{user.email} is in the group "{team.name}" now.')
    return redirect("teams:edit", team_id=team.pk)


@require_POST
@admin_required
def member_remove(request, team_id: int, user_id: int):
    team = get_object_or_404(Team, pk=team_id)
    try:
        services.member_remove(team=team, user_id=user_id, by=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f'The member is out of the group "{team.name}".')
    return redirect("teams:edit", team_id=team.pk)


@require_POST
@admin_required
def group_delete(request, team_id: int):
    team = get_object_or_404(Team, pk=team_id)
    services.team_delete(team=team, by=request.user)
    messages.success(request, f'The group "{team.name}" is deleted.')
    return redirect("teams:list")
