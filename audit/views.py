"""The admin panel's audit trail page: filters, pages of entries, and the same as CSV."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from admin_panel.views import admin_required
from audit import selectors
from audit.models import AuditEntry
from core.errors import InvalidInput

ENTRIES_PER_PAGE = 50


@require_GET
@admin_required
def audit_list(request):
    errors = {}
    try:
        filters = selectors.filters_from(request.GET)
    except InvalidInput as exc:
        errors, filters = exc.errors, selectors.AuditFilters()
    entries = selectors.audit_entries(filters)
    if request.GET.get("format") == "csv" and not errors:
        response = HttpResponse(selectors.entries_csv(entries.iterator()), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="audit.csv"'
        return response
    page = Paginator(entries, ENTRIES_PER_PAGE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "audit/audit_list.html",
        {
            "page": page,
            "filters": filters,
            "errors": errors,
            "actions": AuditEntry.Action.choices,
            "query": query.urlencode(),
        },
        status=400 if errors else 200,
    )
