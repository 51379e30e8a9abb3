"""The accounts REST API: register, login, refresh, logout, the caller's profile and API keys."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import api_keys, services, tokens
from accounts.serializers import (
    NOT_SIGNED_IN,
    THROTTLED,
    AccountOut,
    FieldErrorsOut,
    LoginOut,
    MeOut,
    TokenPairOut,
    detail_response,
)
from accounts.throttles import ProfileThrottle, TokenThrottle, login_attempt, registration_attempt
from core.parsers import JSONParser
from twofactor import services as two_factor
from twofactor.serializers import ChallengeOut

# ------------------------------------------------------------------ shared pieces

TOKEN_THROTTLED = detail_response("Too many refreshes or logouts from this address; see Retry-After.")
PROFILE_THROTTLED = detail_response("Too many account changes by this user; see Retry-After.")


class PublicApiView(APIView):
    """Endpoints for callers without an access token. No authentication classes, so a
    stale Authorization header (or session) can neither block nor CSRF-check them."""

    authentication_classes: tuple = ()
    permission_classes = (AllowAny,)

    def get_authenticate_header(self, request):
        return 'Bearer realm="api"'


# ------------------------------------------------------------------ register and tokens


class CredentialsIn(serializers.Serializer):
    """An email and a password (register and login have the same body)."""

    email = serializers.EmailField(max_length=254)
    password = serializers.CharField(
        write_only=True, trim_whitespace=False, max_length=128, style={"input_type": "password"}
    )


class RegisterIn(CredentialsIn):
    pass


class RegisterApi(PublicApiView):
    """Create an ordinary user account."""

    # Every attempt is counted, per address and per email, atomically before the password
    # is hashed (accounts.throttles.registration_attempt), not by DRF's throttles.
    throttle_classes = ()

    @extend_schema(
        operation_id="auth_register",
        request=RegisterIn,
        responses={
            201: AccountOut,
            400: FieldErrorsOut,
            403: detail_response("Registration is closed (REGISTRATION=closed): administrators add accounts."),
            429: THROTTLED,
        },
        description='Create a user (role "user"). The email is unique in any letter case; the '
        "password must pass the site's password validators. With REGISTRATION=approval the "
        'account is "pending" (it cannot log in) until an administrator approves it.',
    )
    def post(self, request):
        email = request.data.get("email") if hasattr(request.data, "get") else None
        registration_attempt(request, email if isinstance(email, str) else "")
        data = _valid(RegisterIn, request)
        user = services.user_register(email=data["email"], password=data["password"])
        return Response(AccountOut(user).data, status=status.HTTP_201_CREATED)


class LoginIn(CredentialsIn):
    pass


class LoginApi(PublicApiView):
    """Exchange email and password for an access token and a refresh token."""

    # Attempts are counted before the password is checked and given back when it is right
    # (accounts.throttles.login_attempt), not by DRF's every-request throttles.
    throttle_classes = ()

    @extend_schema(
        operation_id="auth_login",
        request=LoginIn,
        responses={
            200: LoginOut,
            202: ChallengeOut,
            400: FieldErrorsOut,
            401: detail_response(
                "Wrong email or password, or the account is deactivated (one message for all); "
                "with the right password of an account waiting for approval, a message "
                'saying so (code "awaiting_approval").'
            ),
            403: detail_response(
                "The right password of an account that must use two-factor authentication (code "
                '"two_factor_setup_required") and has not set it up: log in on the website once.'
            ),
            429: THROTTLED,
        },
        description="With two-factor authentication on, the right password answers 202 with a "
        "challenge and no tokens: POST it with a code to /api/auth/login/2fa for the tokens. "
        "Failed attempts are limited per client address (IPv6: per /64) and per account. "
        "Over the address's limit every attempt from it is refused until Retry-After; after "
        "too many failures for one account it needs a delay (doubling each time, capped), "
        "during which every attempt, the right password too, answers 429. No password is "
        "checked for a refused attempt.",
    )
    def post(self, request):
        data = _valid(LoginIn, request)
        with login_attempt(request, data["email"]):
            user = services.user_authenticate(email=data["email"], password=data["password"])
        if (challenge := two_factor.login_challenge(user=user)) is not None:
            return Response(ChallengeOut(challenge).data, status=status.HTTP_202_ACCEPTED)
        user, pair = services.auth_tokens_issue(user=user)
        return Response(LoginOut({"access": pair.access, "refresh": pair.refresh, "user": user}).data)


class RefreshIn(serializers.Serializer):
    refresh = serializers.CharField()


class RefreshApi(PublicApiView):
    """Rotate: the refresh token is revoked and a new pair returned."""

    throttle_classes = (TokenThrottle,)

    @extend_schema(
        operation_id="auth_refresh",
        request=RefreshIn,
        responses={
            200: TokenPairOut,
            400: FieldErrorsOut,
            401: detail_response(
                "The token is invalid, expired, unknown or revoked, or its user is inactive. "
                "Presenting an already used token also revokes every token descended from "
                "the same login."
            ),
            429: TOKEN_THROTTLED,
        },
    )
    def post(self, request):
        data = _valid(RefreshIn, request)
        pair = tokens.refresh_token_rotate(token=data["refresh"])
        return Response(TokenPairOut(pair).data)


class LogoutApi(PublicApiView):
    """Revoke a refresh token (the access token simply expires)."""

    throttle_classes = (TokenThrottle,)

    @extend_schema(
        operation_id="auth_logout",
        request=RefreshIn,
        responses={
            204: OpenApiResponse(description="Revoked."),
            400: FieldErrorsOut,
            401: detail_response(
                "The token is invalid, expired or unknown, or was already revoked "
                "(then every token of the same login is revoked)."
            ),
            429: TOKEN_THROTTLED,
        },
    )
    def post(self, request):
        data = _valid(RefreshIn, request)
        tokens.refresh_token_revoke(token=data["refresh"])
        return Response(status=status.HTTP_204_NO_CONTENT)


# ------------------------------------------------------------------ the caller's profile


class MeUpdateIn(serializers.Serializer):
    email = serializers.EmailField(max_length=254, required=False)
    password = serializers.CharField(
        required=False,
        trim_whitespace=False,
        max_length=128,
        write_only=True,
        style={"input_type": "password"},
        help_text="the new password",
    )
    current_password = serializers.CharField(
        required=False,
        allow_blank=True,
        trim_whitespace=False,
        max_length=128,
        write_only=True,
        style={"input_type": "password"},
        help_text="needed for any change but default_system",
    )
    default_system = serializers.CharField(
        required=False,
        allow_blank=True,
        trim_whitespace=False,
        help_text="the instructions new conversations start with when given none (empty: none)",
    )


class MeApi(APIView):
    """The signed-in user's own account."""

    def get_throttles(self):
        # A change checks the current password (an Argon2 hash each): limited per user.
        return [ProfileThrottle()] if self.request.method in ("PUT", "PATCH") else []

    @extend_schema(operation_id="users_me", responses={200: MeOut, 401: NOT_SIGNED_IN})
    def get(self, request):
        return Response(MeOut(request.user).data)

    @extend_schema(
        operation_id="users_me_update",
        request=MeUpdateIn,
        responses={200: MeOut, 400: FieldErrorsOut, 401: NOT_SIGNED_IN, 429: PROFILE_THROTTLED},
        description="Change the email and/or the password (current_password is required for them), "
        "and/or default_system, the instructions new conversations start with (no password needed). "
        "A password change ends every session of the account: all its refresh tokens "
        "and API keys are revoked and the access tokens already issued are refused (log in again).",
    )
    def put(self, request):
        data = _valid(MeUpdateIn, request)
        user = request.user
        if "default_system" in data:  # checked first: a refused change keeps nothing
            services.clean_default_system(data["default_system"])
        if "default_system" not in data or data.keys() - {"default_system"}:
            user = services.user_update_profile(
                user=user,
                current_password=data.get("current_password", ""),
                email=data.get("email"),
                password=data.get("password"),
            )
        if "default_system" in data:
            user = services.user_set_default_system(user=user, text=data["default_system"])
        return Response(MeOut(user).data)

    @extend_schema(
        operation_id="users_me_partial_update",
        request=MeUpdateIn,
        responses={200: MeOut, 400: FieldErrorsOut, 401: NOT_SIGNED_IN, 429: PROFILE_THROTTLED},
        description="Same as PUT.",
    )
    def patch(self, request):
        return self.put(request)


class LogoutAllApi(APIView):
    """Log out everywhere: end every session of the signed-in user."""

    @extend_schema(
        operation_id="users_me_logout_all",
        request=None,
        responses={204: OpenApiResponse(description="Every session ended."), 401: NOT_SIGNED_IN},
        description="Revokes every refresh token and every personal API key of the account and "
        "makes every access token issued so far (this one included) and every web session invalid.",
    )
    def post(self, request):
        tokens.user_sessions_end(user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


def _valid(serializer_class, request) -> dict:
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


# ------------------------------------------------------------------ personal API keys


class ApiKeyIn(serializers.Serializer):
    name = serializers.CharField(max_length=api_keys.NAME_MAX_LENGTH, help_text="what the key is for")
    expires_at = serializers.DateTimeField(
        required=False, allow_null=True, default=None, help_text="when the key stops working; empty: never"
    )
    expires_in_days = serializers.IntegerField(
        required=False,
        allow_null=True,
        default=None,
        help_text="or: the key stops working this many days from now (1 to 3650); give one of the two at most",
    )


class ApiKeyOut(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    prefix = serializers.CharField(help_text="the start of the secret, to recognise the key")
    state = serializers.ChoiceField(choices=["active", "expired", "revoked"])
    created_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField(allow_null=True)
    last_used_at = serializers.DateTimeField(allow_null=True, help_text="to the minute")
    revoked_at = serializers.DateTimeField(allow_null=True)
    revoked_reason = serializers.ChoiceField(
        choices=[""] + list(api_keys.ApiKey.RevokeReason.values), help_text="why it was revoked; empty while it is not"
    )


class ApiKeyCreatedOut(serializers.Serializer):
    id = serializers.IntegerField(source="key.id")
    name = serializers.CharField(source="key.name")
    key = serializers.CharField(source="secret", help_text="the secret: shown this once, never again")
    prefix = serializers.CharField(source="key.prefix")
    created_at = serializers.DateTimeField(source="key.created_at")
    expires_at = serializers.DateTimeField(source="key.expires_at", allow_null=True)


KEYS_REFUSED = detail_response("Not signed in, or signed in with an API key (keys cannot manage keys).")


class ApiKeyListApi(APIView):
    # JSON only: a form's empty field would read as "no expiry" where the schema says date-time.
    parser_classes = [JSONParser]
    """Your personal API keys: list them, or create one (its secret is answered once)."""

    @extend_schema(
        operation_id="api_keys_list", responses={200: ApiKeyOut(many=True), 401: NOT_SIGNED_IN, 403: KEYS_REFUSED}
    )
    def get(self, request):
        return Response(ApiKeyOut(api_keys.user_api_keys(user=request.user), many=True).data)

    @extend_schema(
        operation_id="api_keys_create",
        request=ApiKeyIn,
        responses={201: ApiKeyCreatedOut, 400: FieldErrorsOut, 401: NOT_SIGNED_IN, 403: KEYS_REFUSED},
        description="Send it as `Authorization: Bearer <key>` to the generation, video and /v1/ APIs "
        "(e.g. the openai SDK with base_url=<site>/v1). Only a hash is stored: keep the "
        "secret, it is not shown again. A key acts with an ordinary user's permissions on its "
        "owner's own data, whatever the owner's role. It stops working when revoked, when it "
        "expires (expires_at, or expires_in_days from now) and when its owner changes the "
        "password or logs out everywhere.",
    )
    def post(self, request):
        data = _valid(ApiKeyIn, request)
        created = api_keys.api_key_create(
            user=request.user,
            name=data["name"],
            expires_at=data["expires_at"],
            expires_in_days=data["expires_in_days"],
        )
        return Response(ApiKeyCreatedOut(created).data, status=status.HTTP_201_CREATED)


class ApiKeyDetailApi(APIView):
    """Revoke a key: yours, or anyone's for an administrator."""

    @extend_schema(
        operation_id="api_keys_revoke",
        responses={
            204: OpenApiResponse(description="Revoked (or already was)."),
            401: NOT_SIGNED_IN,
            403: KEYS_REFUSED,
            404: detail_response("No such key among yours."),
        },
    )
    def delete(self, request, pk: int):
        api_keys.api_key_revoke(key_id=pk, by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
