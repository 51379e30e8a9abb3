"""The usage pages: /usage (your own spend) and /admin-panel/usage (everyone's), drawn
as charts by static/js/usage-charts.js from data given with ``json_script``."""

from __future__ import annotations

from decimal import Decimal

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.views.decorators.http import require_GET

from admin_panel.views import admin_required
from core.errors import InvalidInput
from usage import selectors
from usage.forms import UsageRangeIn


def chart_data(usage: dict) -> dict:
    """What the charts draw: spend per day (bars) and by model (a breakdown), in USD as
    JSON numbers (json_script would write Decimals as strings)."""
    return {
        "days": [row["day"].isoformat() for row in usage["by_day"]],
        "day_costs": [float(row["cost"]) for row in usage["by_day"]],
        "models": [f"{row['model']} ({row['kind']})" for row in usage["by_model"]],
        "model_costs": [float(row["cost"]) for row in usage["by_model"]],
    }


def _period_total(usage: dict) -> Decimal:
    return sum((row["cost"] for row in usage["by_day"]), Decimal("0"))


@require_GET
@login_required
def usage_page(request):
    usage = selectors.user_usage(user=request.user)
    return render(
        request,
        "usage/page.html",
        {
            "usage": usage,
            "chart": chart_data(usage),
            "period_total": _period_total(usage),
        },
    )


@require_GET
@admin_required
def admin_usage_page(request):
    dates = UsageRangeIn(request.GET)
    errors, status = {}, 200
    try:
        first, last = dates.cleaned_range()
    except InvalidInput as exc:
        errors, status = exc.errors, 400
        first, last = UsageRangeIn({}).cleaned_range()
    usage = selectors.site_usage(first=first, last=last)
    return render(
        request,
        "usage/admin.html",
        {
            "usage": usage,
            "chart": chart_data(usage),
            "errors": errors,
            "raw": dates.raw,
            "csv_query": f"from={first.isoformat()}&to={last.isoformat()}&format=csv",
        },
        status=status,
    )
