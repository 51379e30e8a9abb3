"""Accounts' output serializers and documented error answers, public to other apps
(admin_panel answers with UserOut, and documents its errors with these)."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, inline_serializer
from rest_framework import serializers

from accounts.models import User


class UserOut(serializers.Serializer):
    id = serializers.IntegerField()
    email = serializers.EmailField()
    role = serializers.ChoiceField(choices=["user", "admin"])


class AccountOut(UserOut):
    """A user with the state of their account (register's and approve's answers)."""

    status = serializers.ChoiceField(
        choices=User.Status.choices,
        help_text='"pending": waiting for an administrator\'s approval (REGISTRATION=approval)',
    )


class MeOut(UserOut):
    date_joined = serializers.DateTimeField()
    default_system = serializers.CharField(
        help_text="the instructions (system prompt) a new conversation starts with when given none"
    )


class TokenPairOut(serializers.Serializer):
    access = serializers.CharField(help_text="JWT access token (Authorization: Bearer ...)")
    refresh = serializers.CharField(help_text="JWT refresh token, usable once")


class LoginOut(TokenPairOut):
    user = UserOut()


DetailOut = inline_serializer(
    "AccountsErrorDetail",
    {
        "detail": serializers.CharField(),
    },
)
FieldErrorsOut = OpenApiResponse(
    OpenApiTypes.OBJECT,
    description="Invalid input: an object mapping each offending field (or non_field_errors) to a list of messages.",
)


def detail_response(description: str) -> OpenApiResponse:
    """A documented error answer with a "detail" message."""
    return OpenApiResponse(DetailOut, description=description)


THROTTLED = detail_response("Too many attempts from this address or for this email; see Retry-After.")
NOT_SIGNED_IN = detail_response("No valid access token or session.")
