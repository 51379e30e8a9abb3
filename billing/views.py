"""The admin panel's page for one user's spending budgets (the same values as
PUT /api/users/{id}/limits and the Django admin edit)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods

from accounts.models import User
from admin_panel.views import admin_required
from billing import selectors, services
from core.errors import DomainError


class LimitsForm(forms.Form):
    daily_budget_usd = forms.CharField(label="Daily budget (USD, per UTC day)", required=False, max_length=32)
    monthly_budget_usd = forms.CharField(label="Monthly budget (USD, per UTC month)", required=False, max_length=32)


@require_http_methods(["GET", "POST"])
@admin_required
def user_limits(request, user_id: int):
    target = get_object_or_404(User, pk=user_id)
    status = 200
    if request.method == "POST":
        form = LimitsForm(request.POST)
        if form.is_valid():
            try:
                services.limits_update(
                    user=target,
                    daily_budget_usd=form.cleaned_data["daily_budget_usd"] or None,
                    monthly_budget_usd=form.cleaned_data["monthly_budget_usd"] or None,
                )
            except DomainError as exc:
                for field, errors in exc.errors.items():
                    for error in errors:
                        form.add_error(field if field in form.fields else None, error)
                status = 400
            else:
                messages.success(request, f"The budgets of {target.email} are saved.")
                return redirect("billing:user-limits", user_id=target.pk)
        else:
            status = 400
    else:
        limits = selectors.user_limits(user_id=target.pk)
        form = LimitsForm(
            initial={
                "daily_budget_usd": limits.daily_override or "",
                "monthly_budget_usd": limits.monthly_override or "",
            }
        )
    return render(
        request,
        "billing/user_limits.html",
        {"target": target, "form": form, "status": selectors.budget_status(user_id=target.pk)},
        status=status,
    )
