"""Two-factor REST API: the login's second step, one's own state, the administrators'
policy and reset. Enrolment is on the website (profile), where the QR code is shown."""

from __future__ import annotations

from django.conf import settings
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import services as accounts
from accounts.api import PublicApiView
from accounts.permissions import IsAdmin
from accounts.serializers import NOT_SIGNED_IN, THROTTLED, FieldErrorsOut, LoginOut, detail_response
from core.parsers import JSONParser
from twofactor import services
from twofactor.serializers import PolicyOut
from twofactor.throttles import second_factor_attempt

NOT_ADMIN = detail_response("Signed in, but not an administrator.")


class SecondStepIn(serializers.Serializer):
    challenge = serializers.CharField(max_length=200)
    code = serializers.CharField(
        max_length=20, trim_whitespace=True, help_text="6 digits from the authenticator app, or a recovery code"
    )


class LoginSecondStepApi(PublicApiView):
    """Complete a login with a code of the account's second factor."""

    parser_classes = [JSONParser]
    # Codes are counted like passwords (twofactor.throttles.second_factor_attempt).
    throttle_classes = ()

    @extend_schema(
        operation_id="auth_login_2fa",
        request=SecondStepIn,
        responses={
            200: LoginOut,
            400: FieldErrorsOut,
            401: detail_response(
                "A wrong or already used code (the challenge stays usable until it expires), or a "
                "challenge that is unknown, expired or already used (the detail says to log in again)."
            ),
            429: THROTTLED,
        },
        description="The challenge comes from POST /api/auth/login (its 202 answer). A code of the "
        "authenticator app is accepted once (not again in its 30-second step); a recovery code "
        "once ever. Wrong codes are limited like wrong passwords: per client address and per "
        "account, with doubling delays.",
    )
    def post(self, request):
        body = SecondStepIn(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        user = services.challenge_user(token=data["challenge"])
        with second_factor_attempt(request, user):
            user = services.challenge_complete(token=data["challenge"], code=data["code"])
        user, pair = accounts.auth_tokens_issue(user=user)
        return Response(LoginOut({"access": pair.access, "refresh": pair.refresh, "user": user}).data)


MyTwoFactorOut = inline_serializer(
    "MyTwoFactorOut",
    {
        "enabled": serializers.BooleanField(help_text="an authenticator app is set up"),
        "required": serializers.BooleanField(help_text="the site requires one of this account"),
        "recovery_codes_left": serializers.IntegerField(),
    },
)


class MyTwoFactorApi(APIView):
    """Whether the signed-in user has a second factor."""

    @extend_schema(operation_id="users_me_two_factor", responses={200: MyTwoFactorOut, 401: NOT_SIGNED_IN})
    def get(self, request):
        user = request.user
        enabled = services.is_enrolled(user)
        return Response(
            {
                "enabled": enabled,
                "required": services.is_required_for(user),
                "recovery_codes_left": services.recovery_codes_left(user) if enabled else 0,
            }
        )


class TwoFactorResetApi(APIView):
    """An administrator removes a person's second factor (a lost phone)."""

    permission_classes = (IsAdmin,)

    @extend_schema(
        operation_id="users_two_factor_reset",
        request=None,
        responses={
            204: OpenApiResponse(description="Reset: they sign in with their password, and set one up again."),
            401: NOT_SIGNED_IN,
            403: NOT_ADMIN,
            404: detail_response("No such user."),
            409: detail_response("The account has no second factor."),
        },
    )
    def delete(self, request, user_id: int):
        services.reset(user_id=user_id, by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class PolicyIn(serializers.Serializer):
    # The JSON key; DRF takes declared fields off the class, so Field.required is not shadowed.
    required = serializers.CharField(help_text='"none", "admins" or "everyone"')  # type: ignore[assignment]


class TwoFactorPolicyApi(APIView):
    """Who must use two-factor authentication."""

    permission_classes = (IsAdmin,)
    parser_classes = [JSONParser]

    def _answer(self) -> Response:
        return Response(PolicyOut({"required": services.policy(), "default": settings.TWO_FACTOR_REQUIRED}).data)

    @extend_schema(operation_id="admin_two_factor", responses={200: PolicyOut, 401: NOT_SIGNED_IN, 403: NOT_ADMIN})
    def get(self, request):
        return self._answer()

    @extend_schema(
        operation_id="admin_two_factor_update",
        request=PolicyIn,
        responses={200: PolicyOut, 400: FieldErrorsOut, 401: NOT_SIGNED_IN, 403: NOT_ADMIN},
        description="Those it covers who have no second factor set one up at their next login on "
        "the website (the API's login refuses them with 403 until then); sessions already "
        "signed in go on.",
    )
    def put(self, request):
        body = PolicyIn(data=request.data)
        body.is_valid(raise_exception=True)
        services.policy_set(required=body.validated_data["required"], by=request.user)
        return self._answer()
