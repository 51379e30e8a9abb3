"""The usage REST API: your own spend (/api/usage) and, for admins, everyone's
(/api/admin/usage, as JSON or CSV)."""

from __future__ import annotations

import io

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.renderers import BaseRenderer, BrowsableAPIRenderer, JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import IsAdmin
from accounts.serializers import NOT_SIGNED_IN
from core.spreadsheets import SafeDictWriter
from usage import selectors
from usage.forms import UsageRangeIn

CSV_COLUMNS = ("day", "user_id", "email", "groups", "kind", "model", "count", "cost")
ErrorDetail = inline_serializer("UsageErrorDetail", {"detail": serializers.CharField()})
NOT_ADMIN = OpenApiResponse(ErrorDetail, description="Signed in, but not an administrator.")


def _money(**kwargs):
    return serializers.DecimalField(max_digits=20, decimal_places=8, coerce_to_string=False, **kwargs)


class SpendOut(serializers.Serializer):
    cost = _money(help_text="USD")
    count = serializers.IntegerField(help_text="generations and video jobs charged")


class DaySpendOut(SpendOut):
    day = serializers.DateField(help_text="UTC day")


class ModelSpendOut(SpendOut):
    model = serializers.CharField()
    kind = serializers.ChoiceField(choices=selectors.KINDS)


class KeySpendOut(SpendOut):
    key_id = serializers.IntegerField(allow_null=True, help_text="null: spend without an API key")
    name = serializers.CharField(help_text=f'the key\'s name; "{selectors.NO_KEY_NAME}" for spend without a key')
    prefix = serializers.CharField(allow_null=True, help_text="the start of the key's secret; null without a key")


class SiteKeySpendOut(KeySpendOut):
    email = serializers.EmailField(allow_null=True, help_text="the key owner's; null without a key")


class KindSpendOut(serializers.Serializer):
    text = SpendOut()
    image = SpendOut()
    video = SpendOut()
    embedding = SpendOut()


class TodayOut(SpendOut):
    date = serializers.DateField(help_text="today (UTC)")


class MonthOut(SpendOut):
    start = serializers.DateField(help_text="first day of this month (UTC)")


class BudgetOut(serializers.Serializer):
    limit = _money(allow_null=True, help_text="null: no budget is configured")
    left = _money(allow_null=True, help_text="limit minus what was spent, never below 0; null without a budget")


class BudgetsOut(serializers.Serializer):
    daily = BudgetOut()
    monthly = BudgetOut()


class RangeOut(serializers.Serializer):
    # "from" is a Python keyword: the fields are named in get_fields.
    def get_fields(self):
        return {
            "from": serializers.DateField(help_text="first UTC day, included"),
            "to": serializers.DateField(help_text="last UTC day, included"),
            **super().get_fields(),
        }


class StorageOut(serializers.Serializer):
    used_bytes = serializers.IntegerField(help_text="what your stored images, uploads and videos take")
    quota_bytes = serializers.IntegerField(
        allow_null=True,
        help_text="STORAGE_QUOTA_MB in bytes; null: no quota. Past it, image and video generations and uploads "
        "answer 409 until you delete some",
    )


class UserUsageOut(RangeOut):
    today = TodayOut()
    month = MonthOut()
    budget = BudgetsOut()
    by_day = DaySpendOut(many=True, help_text="every day of the last 30 (UTC), today last; 0 where nothing was spent")
    by_model = ModelSpendOut(many=True, help_text="over the same 30 days, the most spent first")
    by_kind = KindSpendOut(help_text="over the same 30 days")
    by_key = KeySpendOut(
        many=True,
        help_text="over the same 30 days: each of your API keys (0 where unused) and "
        "one entry with key_id null for spend without a key; the most spent first",
    )
    storage = StorageOut()


class UserSpendOut(SpendOut):
    user_id = serializers.IntegerField()
    email = serializers.EmailField()


class GroupSpendOut(SpendOut):
    group_id = serializers.IntegerField()
    name = serializers.CharField()


class SiteUsageOut(RangeOut):
    totals = SpendOut()
    by_day = DaySpendOut(many=True, help_text="every day of the range; 0 where nothing was spent")
    by_model = ModelSpendOut(many=True, help_text="the most spent first")
    by_kind = KindSpendOut()
    by_user = UserSpendOut(many=True, help_text="users with spend in the range, the most spent first")
    by_key = SiteKeySpendOut(
        many=True,
        help_text="API keys with spend in the range and one entry with key_id null "
        "for spend without a key; the most spent first",
    )
    by_group = GroupSpendOut(
        many=True,
        help_text="every group: the spend of its current members since they joined (a person in two groups "
        "counts in both); the most spent first",
    )


class UsageApi(APIView):
    """Your own spend (USD): today and this month in UTC, the budget left, and the last
    30 days by day, by model, by kind (text, image, video) and by API key."""

    @extend_schema(
        operation_id="usage_own",
        responses={200: UserUsageOut, 401: NOT_SIGNED_IN},
        description="Spend is the cost of generations that ran (completed, partial, or failed "
        "with a cost) and of video jobs whose cost is known, on the UTC day each was "
        "created. The budget is null unless one is configured.",
    )
    def get(self, request):
        return Response(UserUsageOut(selectors.user_usage(user=request.user)).data)


class CsvRenderer(BaseRenderer):
    """Rows (a list of dicts) as CSV with a header line; anything else is not rendered
    here (errors switch back to JSON, see AdminUsageApi.finalize_response)."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        out = io.StringIO()
        # Cells users chose (an email, a model name) may read as formulas: SafeDictWriter quotes them.
        writer = SafeDictWriter(out, fieldnames=CSV_COLUMNS, extrasaction="ignore", lineterminator="\r\n")
        writer.writeheader()
        writer.writerows(data)
        return out.getvalue().encode("utf-8")


class AdminUsageApi(APIView):
    """Everyone's spend (USD) between two UTC days: totals, by day, model, kind, user and key.
    `?format=csv` (or `Accept: text/csv`) answers one row per user per day per model."""

    permission_classes = (IsAdmin,)
    renderer_classes = (JSONRenderer, BrowsableAPIRenderer, CsvRenderer)

    @extend_schema(
        operation_id="usage_site",
        parameters=[
            OpenApiParameter(
                "from",
                OpenApiTypes.DATE,
                description="first UTC day (YYYY-MM-DD), included; default: 29 days before `to`",
            ),
            OpenApiParameter(
                "to", OpenApiTypes.DATE, description="last UTC day (YYYY-MM-DD), included; default: today"
            ),
            OpenApiParameter(
                "format",
                str,
                enum=["json", "csv"],
                description="csv: the per user, day and model rows (as `Accept: text/csv`)",
            ),
        ],
        responses={
            (200, "application/json"): SiteUsageOut,
            (200, "text/csv"): OpenApiResponse(
                OpenApiTypes.STR,
                description=(
                    "Header `" + ",".join(CSV_COLUMNS) + "`, then one row per user per UTC day per model, "
                    "sorted by day, email, kind and model; cost in USD with 8 decimals."
                ),
            ),
            400: OpenApiResponse(
                inline_serializer(
                    "UsageRangeErrors",
                    {
                        "from": serializers.ListField(child=serializers.CharField(), required=False),
                        "to": serializers.ListField(child=serializers.CharField(), required=False),
                    },
                ),
                description="A date that is not YYYY-MM-DD, `from` after `to`, or a range over 366 days; "
                "the field is named.",
            ),
            401: NOT_SIGNED_IN,
            403: NOT_ADMIN,
        },
    )
    def get(self, request):
        dates = UsageRangeIn(request.query_params)
        first, last = dates.cleaned_range()
        if request.accepted_renderer.format == "csv":
            response = Response(selectors.site_usage_rows(first=first, last=last))
            response["Content-Disposition"] = f'attachment; filename="usage-{first}-{last}.csv"'
            return response
        return Response(SiteUsageOut(selectors.site_usage(first=first, last=last)).data)

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        if response.status_code >= 400 and isinstance(getattr(response, "accepted_renderer", None), CsvRenderer):
            # A refusal is a JSON body whatever was asked for.
            response.accepted_renderer = JSONRenderer()
            response.accepted_media_type = JSONRenderer.media_type
        return response
