"""GET /api/admin/audit: the audit trail for administrators, as JSON pages or CSV."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.pagination import PageNumberPagination
from rest_framework.renderers import BaseRenderer, BrowsableAPIRenderer, JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import IsAdmin
from audit import selectors
from audit.models import AuditEntry


class AuditEntryOut(serializers.ModelSerializer):
    class Meta:
        model = AuditEntry
        fields = (
            "id",
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


class CsvRenderer(BaseRenderer):
    """The CSV text the view made (selectors.entries_csv); errors switch back to JSON."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return data.encode("utf-8") if isinstance(data, str) else b""


FILTERS = [
    OpenApiParameter("action", str, enum=AuditEntry.Action.values, description="one kind of action"),
    OpenApiParameter("actor", str, description='a user id, part of an email, or "system"'),
    OpenApiParameter("target_type", str, description="user, model, api_key, backup"),
    OpenApiParameter("target_id", str),
    OpenApiParameter("since", OpenApiTypes.DATE, description="first UTC day, included"),
    OpenApiParameter("until", OpenApiTypes.DATE, description="last UTC day, included"),
    OpenApiParameter("format", str, enum=["json", "csv"], description="csv: every matching entry"),
]


class AuditApi(APIView):
    """Administrators' and the system's consequential actions, newest first."""

    permission_classes = (IsAdmin,)
    pagination_class = PageNumberPagination
    renderer_classes = (JSONRenderer, BrowsableAPIRenderer, CsvRenderer)

    @extend_schema(
        operation_id="admin_audit",
        parameters=FILTERS,
        responses={
            (200, "application/json"): AuditEntryOut(many=True),
            (200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description="Header, then one row per entry."),
            400: OpenApiResponse(description="A filter is wrong; the field is named."),
            401: OpenApiResponse(description="Not signed in."),
            403: OpenApiResponse(description="Not an administrator."),
        },
    )
    def get(self, request):
        entries = selectors.audit_entries(selectors.filters_from(request.query_params))
        if request.accepted_renderer.format == "csv":
            response = Response(selectors.entries_csv(entries.iterator()))
            response["Content-Disposition"] = 'attachment; filename="audit.csv"'
            return response
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(entries, request, view=self)
        return paginator.get_paginated_response(AuditEntryOut(page, many=True).data)

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        if response.status_code >= 400 and isinstance(getattr(response, "accepted_renderer", None), CsvRenderer):
            response.accepted_renderer = JSONRenderer()
            response.accepted_media_type = JSONRenderer.media_type
        return response
