"""Reading the audit trail: the filters the admin page and GET /api/admin/audit share."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import QuerySet

from audit.models import AuditEntry
from core.errors import InvalidInput

CSV_COLUMNS = (
    "at",
    "actor_id",
    "actor_email",
    "action",
    "target_type",
    "target_id",
    "target_repr",
    "before",
    "after",
    "address",
    "request_id",
)
# A spreadsheet runs a cell starting with one of these as a formula (CSV injection).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class AuditFilters:
    action: str = ""
    actor: str = ""  # an id or (part of) an email
    target_type: str = ""
    target_id: str = ""
    since: date | None = None  # UTC days, both included
    until: date | None = None


def _day(value: str, field: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInput("A UTC day as YYYY-MM-DD.", field=field) from None


def filters_from(params) -> AuditFilters:
    """Filters from query parameters; InvalidInput naming the field when one is wrong."""
    action = (params.get("action") or "").strip()
    if action and action not in AuditEntry.Action.values:
        raise InvalidInput(f"One of: {', '.join(AuditEntry.Action.values)}.", field="action")
    since, until = _day(params.get("since") or "", "since"), _day(params.get("until") or "", "until")
    if since and until and since > until:
        raise InvalidInput("Must not be after `until`.", field="since")
    return AuditFilters(
        action=action,
        actor=(params.get("actor") or "").strip()[:254],
        target_type=(params.get("target_type") or "").strip()[:40],
        target_id=(params.get("target_id") or "").strip()[:100],
        since=since,
        until=until,
    )


def audit_entries(filters: AuditFilters = AuditFilters()) -> QuerySet[AuditEntry]:
    """Entries matching the filters, newest first."""
    entries = AuditEntry.objects.all()
    if filters.action:
        entries = entries.filter(action=filters.action)
    if filters.actor:
        if filters.actor.isdigit():
            entries = entries.filter(actor_id=int(filters.actor))
        elif filters.actor == "system":
            entries = entries.filter(actor_id__isnull=True)
        else:
            entries = entries.filter(actor_email__icontains=filters.actor)
    if filters.target_type:
        entries = entries.filter(target_type=filters.target_type)
    if filters.target_id:
        entries = entries.filter(target_id=filters.target_id)
    if filters.since:
        entries = entries.filter(at__gte=datetime.combine(filters.since, time.min, tzinfo=UTC))
    if filters.until:
        end = datetime.combine(filters.until + timedelta(days=1), time.min, tzinfo=UTC)
        entries = entries.filter(at__lt=end)
    return entries.order_by("-at", "-id")


def csv_cell(value) -> str:
    """A value as a CSV cell that no spreadsheet runs as a formula."""
    text = "" if value is None else str(value)
    if text.startswith(_FORMULA_STARTS):
        return "'" + text
    return text


def entry_row(entry: AuditEntry) -> dict:
    def as_json(value):
        return "" if value is None else json.dumps(value, cls=DjangoJSONEncoder, sort_keys=True)

    return {
        "at": entry.at.astimezone(UTC).isoformat(),
        "actor_id": entry.actor_id,
        "actor_email": entry.actor_email,
        "action": entry.action,
        "target_type": entry.target_type,
        "target_id": entry.target_id,
        "target_repr": entry.target_repr,
        "before": as_json(entry.before),
        "after": as_json(entry.after),
        "address": entry.address,
        "request_id": entry.request_id,
    }


def entries_csv(entries) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for entry in entries:
        row = entry_row(entry)
        writer.writerow([csv_cell(row[column]) for column in CSV_COLUMNS])
    return out.getvalue()
