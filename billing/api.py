"""GET/PUT /api/users/{id}/limits: a user's spending budgets.

Administrators read and set anyone's; a signed-in user may read their own (to see what
is left) but not change it.
"""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import User
from billing import services
from billing.selectors import budget_status
from core.errors import InvalidInput

Detail = inline_serializer("BillingErrorDetail", {"detail": serializers.CharField()})
NOT_SIGNED_IN = OpenApiResponse(Detail, description="No valid access token or session.")
NOT_ALLOWED = OpenApiResponse(Detail, description="Not an administrator (a user may only read their own limits).")
NO_SUCH_USER = OpenApiResponse(Detail, description="No user with this id.")

# The body of a 402 refusal (generation and video endpoints).
BUDGET_EXCEEDED = OpenApiResponse(
    inline_serializer(
        "BudgetExceeded",
        {
            "detail": serializers.CharField(help_text="what to do, with the period and its reset time in UTC"),
            "budget": serializers.CharField(help_text="USD, the limit that binds"),
            "spent": serializers.CharField(help_text="USD spent in that period (UTC day or month)"),
            "reserved": serializers.CharField(help_text="USD held by requests still running"),
            "resets_at": serializers.DateTimeField(help_text="when the period ends (UTC)"),
            "period": serializers.ChoiceField(choices=["daily", "monthly"]),
            "cost": serializers.CharField(required=False, help_text="USD, the most this request could cost"),
            "price_unknown": serializers.BooleanField(required=False, help_text="the model's price is unknown"),
        },
    ),
    description="the request could cost more than the budget has left (or its price is unknown)",
)


class PeriodOut(serializers.Serializer):
    budget_usd = serializers.CharField(allow_null=True, help_text="null: unlimited")
    spent_usd = serializers.CharField()
    reserved_usd = serializers.CharField()
    left_usd = serializers.CharField(allow_null=True)
    resets_at = serializers.DateTimeField()


class GroupLimitsOut(serializers.Serializer):
    group_id = serializers.IntegerField()
    name = serializers.CharField()
    daily = PeriodOut()
    monthly = PeriodOut()


class LimitsOut(serializers.Serializer):
    user_id = serializers.IntegerField()
    daily_budget_usd = serializers.CharField(allow_null=True, help_text="the override; null follows the default")
    monthly_budget_usd = serializers.CharField(allow_null=True, help_text="the override; null follows the default")
    default_daily_budget_usd = serializers.CharField(allow_null=True)
    default_monthly_budget_usd = serializers.CharField(allow_null=True)
    timezone = serializers.CharField()
    daily = PeriodOut()
    monthly = PeriodOut()
    groups = GroupLimitsOut(
        many=True, help_text="the budgets of the user's groups that have one; each must have room too"
    )


class LimitsIn(serializers.Serializer):
    daily_budget_usd = serializers.JSONField(help_text='a decimal string ("5.00") or null (follow the default)')
    monthly_budget_usd = serializers.JSONField(help_text='a decimal string ("50.00") or null (follow the default)')


class UserLimitsApi(APIView):
    permission_classes = (IsAuthenticated,)

    def _user(self, request, user_id: int, *, write: bool) -> User:
        me = request.user
        if not me.is_admin and (write or me.pk != user_id):
            raise PermissionDenied("Only administrators may do this.")
        return get_object_or_404(User, pk=user_id)

    @extend_schema(
        operation_id="users_limits_read",
        responses={200: LimitsOut, 401: NOT_SIGNED_IN, 403: NOT_ALLOWED, 404: NO_SUCH_USER},
        description="The user's budgets (override and default), what they spent and hold reserved "
        "in the current UTC day and month, and when each resets; and the same for each of the "
        "user's groups that has a budget (a request passes only when every budget has room).",
    )
    def get(self, request, user_id: int):
        user = self._user(request, user_id, write=False)
        return Response(budget_status(user_id=user.pk))

    @extend_schema(
        operation_id="users_limits_update",
        request=LimitsIn,
        responses={
            200: LimitsOut,
            400: OpenApiResponse(description="a value is not a decimal string or null"),
            401: NOT_SIGNED_IN,
            403: NOT_ALLOWED,
            404: NO_SUCH_USER,
        },
        description="Administrators only. Both fields are required; null follows the site's default.",
    )
    def put(self, request, user_id: int):
        user = self._user(request, user_id, write=True)
        data = request.data if isinstance(request.data, dict) else None
        if data is None:
            raise InvalidInput("Send a JSON object with daily_budget_usd and monthly_budget_usd.")
        missing = [name for name in ("daily_budget_usd", "monthly_budget_usd") if name not in data]
        if missing:
            raise InvalidInput(
                errors={name: ["This field is required (a decimal string or null)."] for name in missing}
            )
        services.limits_update(
            user=user, daily_budget_usd=data["daily_budget_usd"], monthly_budget_usd=data["monthly_budget_usd"]
        )
        return Response(budget_status(user_id=user.pk))
