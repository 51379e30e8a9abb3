"""The admin-only REST API: stats, delete a user, change a user's role, approve an account."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import services
from accounts.models import User
from accounts.permissions import IsAdmin
from accounts.serializers import NOT_SIGNED_IN, AccountOut, FieldErrorsOut, UserOut
from admin_panel.selectors import admin_stats

AdminErrorDetail = inline_serializer("AdminErrorDetail", {"detail": serializers.CharField()})
NOT_ADMIN = OpenApiResponse(AdminErrorDetail, description="Signed in, but not an administrator.")
NO_SUCH_USER = OpenApiResponse(AdminErrorDetail, description="No user with this id.")


class AdminApiView(APIView):
    permission_classes = (IsAdmin,)


class AdminStatsOut(serializers.Serializer):
    users = serializers.IntegerField()
    admins = serializers.IntegerField()
    active_users = serializers.IntegerField()
    pending_users = serializers.IntegerField(help_text="waiting for an administrator's approval")
    active_refresh_tokens = serializers.IntegerField(help_text="not revoked and not expired")


class AdminStatsApi(AdminApiView):
    """Site-wide counts."""

    @extend_schema(
        operation_id="admin_stats",
        responses={200: AdminStatsOut, 401: NOT_SIGNED_IN, 403: NOT_ADMIN},
        description="User and refresh-token counts at the top level; other apps add their own "
        'sections (e.g. "generations", "videos": objects of counts) through '
        "core.sections.register_admin_stats.",
    )
    def get(self, request):
        return Response(admin_stats())


class UserDeleteApi(AdminApiView):
    """Delete a user and everything they own (their refresh tokens included)."""

    @extend_schema(
        operation_id="users_delete",
        responses={
            204: OpenApiResponse(description="Deleted."),
            401: NOT_SIGNED_IN,
            403: NOT_ADMIN,
            404: NO_SUCH_USER,
            409: OpenApiResponse(
                AdminErrorDetail, description="You cannot delete yourself (or the last active admin)."
            ),
        },
    )
    def delete(self, request, user_id: int):
        user = get_object_or_404(User, pk=user_id)
        services.user_delete(user=user, by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class RoleIn(serializers.Serializer):
    role = serializers.ChoiceField(choices=User.Role.values)


class UserRoleApi(AdminApiView):
    """Promote a user to admin or demote an admin to user."""

    @extend_schema(
        operation_id="users_role_update",
        request=RoleIn,
        responses={
            200: UserOut,
            400: FieldErrorsOut,
            401: NOT_SIGNED_IN,
            403: NOT_ADMIN,
            404: NO_SUCH_USER,
            409: OpenApiResponse(AdminErrorDetail, description="Demoting the last active admin."),
        },
        description="Setting the role a user already has changes nothing (200).",
    )
    def put(self, request, user_id: int):
        user = get_object_or_404(User, pk=user_id)
        data = RoleIn(data=request.data)
        data.is_valid(raise_exception=True)
        user = services.user_update(user=user, role=data.validated_data["role"], by=request.user)
        return Response(UserOut(user).data)


class UserApproveApi(AdminApiView):
    """Approve an account that waits for it (REGISTRATION=approval): it can log in from now on."""

    @extend_schema(
        operation_id="users_approve",
        request=None,
        responses={
            200: AccountOut,
            401: NOT_SIGNED_IN,
            403: NOT_ADMIN,
            404: NO_SUCH_USER,
            409: OpenApiResponse(
                AdminErrorDetail,
                description="The account is not waiting for approval (active, or deactivated after its approval).",
            ),
        },
    )
    def post(self, request, user_id: int):
        user = get_object_or_404(User, pk=user_id)
        user = services.user_approve(user=user)
        return Response(AccountOut(user).data)
