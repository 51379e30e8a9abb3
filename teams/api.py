"""REST API of groups: administrators manage them; a member reads their own groups."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import User
from accounts.serializers import NOT_SIGNED_IN, FieldErrorsOut
from billing.api import PeriodOut
from core.errors import InvalidInput
from teams import selectors, services
from teams.models import Team

ErrorDetail = inline_serializer("GroupErrorDetail", {"detail": serializers.CharField()})
NOT_ADMIN = OpenApiResponse(ErrorDetail, description="Signed in, but not an administrator.")
NO_SUCH_GROUP = OpenApiResponse(ErrorDetail, description="No such group, or not one of yours.")
BAD_INPUT = FieldErrorsOut


class GroupBudgetOut(serializers.Serializer):
    daily = PeriodOut()
    monthly = PeriodOut()


class GroupOut(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    description = serializers.CharField()
    daily_budget_usd = serializers.CharField(allow_null=True, help_text="USD per UTC day; null: no limit")
    monthly_budget_usd = serializers.CharField(allow_null=True, help_text="USD per UTC month; null: no limit")
    models = serializers.ListField(
        child=serializers.CharField(), help_text="models limited to this group's members (and administrators)"
    )
    member_count = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    budget = GroupBudgetOut(help_text="what the members spent together and hold reserved, this UTC day and month")


class GroupIn(serializers.Serializer):
    name = serializers.CharField(help_text="unique (case does not count)")
    description = serializers.CharField(required=False, allow_blank=True)
    daily_budget_usd = serializers.JSONField(required=False, help_text='a decimal string ("50.00") or null: no limit')
    monthly_budget_usd = serializers.JSONField(required=False, help_text="a decimal string or null: no limit")
    models = serializers.JSONField(required=False, help_text="model ids limited to this group's members")


class GroupPatchIn(GroupIn):
    name = serializers.CharField(required=False)


class MemberOut(serializers.Serializer):
    user_id = serializers.IntegerField(source="user.pk")
    email = serializers.EmailField(source="user.email")
    added_at = serializers.DateTimeField()
    added_by = serializers.EmailField(source="added_by.email", allow_null=True, default=None)


class MemberIn(serializers.Serializer):
    user_id = serializers.IntegerField()


FIELDS = ("name", "description", "daily_budget_usd", "monthly_budget_usd", "models")


def _body(request) -> dict:
    if not isinstance(request.data, dict):
        raise InvalidInput("Send a JSON object.")
    return {name: request.data[name] for name in FIELDS if name in request.data}


def _admin_only(request) -> None:
    if not request.user.is_admin:
        raise PermissionDenied("Only administrators may do this.")


def _team(request, team_id: int) -> Team:
    """The group, if the caller may see it (else 404: someone else's group is not there)."""
    return get_object_or_404(selectors.teams_visible_to(request.user), pk=team_id)


class GroupsApi(APIView):
    permission_classes = (IsAuthenticated,)

    @extend_schema(
        operation_id="groups_list",
        responses={200: GroupOut(many=True), 401: NOT_SIGNED_IN},
        description="Every group for an administrator; the caller's own groups for anyone else.",
    )
    def get(self, request):
        return Response([selectors.team_detail(t) for t in selectors.teams_visible_to(request.user)])

    @extend_schema(
        operation_id="groups_create",
        request=GroupIn,
        responses={201: GroupOut, 400: BAD_INPUT, 401: NOT_SIGNED_IN, 403: NOT_ADMIN},
        description="Administrators only. Budgets are per UTC day and month, for all members together.",
    )
    def post(self, request):
        _admin_only(request)
        fields = _body(request)
        if "name" not in fields:
            raise InvalidInput("A group needs a name.", field="name")
        team = services.team_create(by=request.user, **fields)
        return Response(selectors.team_detail(team), status=status.HTTP_201_CREATED)


class GroupApi(APIView):
    permission_classes = (IsAuthenticated,)

    @extend_schema(
        operation_id="groups_read",
        responses={200: GroupOut, 401: NOT_SIGNED_IN, 404: NO_SUCH_GROUP},
        description="A group: an administrator any, a member their own.",
    )
    def get(self, request, team_id: int):
        return Response(selectors.team_detail(_team(request, team_id)))

    @extend_schema(
        operation_id="groups_update",
        request=GroupPatchIn,
        responses={200: GroupOut, 400: BAD_INPUT, 401: NOT_SIGNED_IN, 403: NOT_ADMIN, 404: NO_SUCH_GROUP},
        description="Administrators only. The fields sent change; `models` replaces the list.",
    )
    def patch(self, request, team_id: int):
        _admin_only(request)
        team = services.team_update(team=_team(request, team_id), by=request.user, **_body(request))
        return Response(selectors.team_detail(team))

    @extend_schema(
        operation_id="groups_delete",
        responses={204: None, 401: NOT_SIGNED_IN, 403: NOT_ADMIN, 404: NO_SUCH_GROUP},
        description="Administrators only. The members' own spending stays theirs.",
    )
    def delete(self, request, team_id: int):
        _admin_only(request)
        services.team_delete(team=_team(request, team_id), by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class GroupMembersApi(APIView):
    permission_classes = (IsAuthenticated,)

    @extend_schema(
        operation_id="groups_members_list",
        responses={200: MemberOut(many=True), 401: NOT_SIGNED_IN, 403: NOT_ADMIN, 404: NO_SUCH_GROUP},
        description="Administrators only (a member sees the group, not the others in it).",
    )
    def get(self, request, team_id: int):
        _admin_only(request)
        return Response(MemberOut(selectors.members(_team(request, team_id)), many=True).data)

    @extend_schema(
        operation_id="groups_members_add",
        request=MemberIn,
        responses={
            201: MemberOut,
            400: BAD_INPUT,
            401: NOT_SIGNED_IN,
            403: NOT_ADMIN,
            404: NO_SUCH_GROUP,
            409: OpenApiResponse(ErrorDetail, description="already a member"),
        },
        description="Administrators only. The person's next request counts against the group's budget.",
    )
    def post(self, request, team_id: int):
        _admin_only(request)
        team = _team(request, team_id)
        data = MemberIn(data=request.data)
        data.is_valid(raise_exception=True)
        user = User.objects.filter(pk=data.validated_data["user_id"]).first()
        if user is None:
            raise InvalidInput("No such user.", field="user_id")
        membership = services.member_add(team=team, user=user, by=request.user)
        return Response(MemberOut(membership).data, status=status.HTTP_201_CREATED)


class GroupMemberApi(APIView):
    permission_classes = (IsAuthenticated,)

    @extend_schema(
        operation_id="groups_members_remove",
        responses={204: None, 401: NOT_SIGNED_IN, 403: NOT_ADMIN, 404: NO_SUCH_GROUP},
        description="Administrators only. What the person spent under the group's budget stays counted in it.",
    )
    def delete(self, request, team_id: int, user_id: int):
        _admin_only(request)
        services.member_remove(team=_team(request, team_id), user_id=user_id, by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
