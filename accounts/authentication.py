"""API authentication: SimpleJWT's, refusing access tokens issued before the user's
sessions were ended (their "ver" claim is older than `User.token_version`), and personal
API keys (ApiKeyAuthentication, for the generation, video and /v1/ APIs only)."""
from __future__ import annotations

from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.exceptions import PermissionDenied
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import AuthenticationFailed

from accounts.api_keys import KEY_PREFIX, ApiKey, api_key_authenticate

from accounts.tokens import STALE_VERSION_MESSAGE, VERSION_CLAIM


class VersionedJWTAuthentication(JWTAuthentication):
    def get_user(self, validated_token):
        # SimpleJWT loads the user row (and refuses inactive users); the version is on it,
        # so the check costs no query.
        user = super().get_user(validated_token)
        if validated_token.get(VERSION_CLAIM, 0) != user.token_version:
            raise AuthenticationFailed(STALE_VERSION_MESSAGE, code="token_not_valid")
        return user


class VersionedJWTScheme(SimpleJWTScheme):
    """The OpenAPI schema describes it as SimpleJWT's bearer scheme ("jwtAuth")."""

    target_class = "accounts.authentication.VersionedJWTAuthentication"


# ------------------------------------------------------------------ personal API keys

# The views a key may call, by module: generation and videos (their API views and the
# stored files those answers link to) and the OpenAI-compatible /v1/ API. Everywhere
# else (account, password, keys, admin) a key is refused with 403, whatever the view's
# permission classes say, so a leaked key cannot take the account over.
API_KEY_VIEW_MODULES = ("generation.api", "videos.api", "gateway.")
API_KEY_REFUSED = "API keys are accepted only by the generation, video and /v1/ APIs; sign in for this."
BAD_API_KEY = "Invalid API key: unknown, revoked or expired, or its account is deactivated."


def _view_accepts_api_keys(view) -> bool:
    if view is None:
        return False
    accepts = getattr(view, "accepts_api_keys", None)
    if accepts is not None:
        return bool(accepts)
    module = type(view).__module__
    return any(module == name or (name.endswith(".") and module.startswith(name)) for name in API_KEY_VIEW_MODULES)


class ApiKeyAuthentication(BaseAuthentication):
    """``Authorization: Bearer sk-studio-...``: a personal API key (accounts.api_keys).

    Any other bearer token is left to the next class (SimpleJWT), so it comes first in
    DEFAULT_AUTHENTICATION_CLASSES. ``request.auth`` is the ApiKey.
    """

    keyword = "Bearer"

    def authenticate(self, request):
        header = get_authorization_header(request).split()
        if len(header) != 2 or header[0].lower() != self.keyword.lower().encode():
            return None
        try:
            secret = header[1].decode("ascii")
        except UnicodeDecodeError:
            return None
        if not secret.startswith(KEY_PREFIX):
            return None
        view = (getattr(request, "parser_context", None) or {}).get("view")
        if not _view_accepts_api_keys(view):
            raise PermissionDenied(API_KEY_REFUSED)
        key = api_key_authenticate(secret)
        if key is None:
            raise AuthenticationFailed(BAD_API_KEY, code="invalid_api_key")
        return key.user, key

    def authenticate_header(self, request):
        return f'{self.keyword} realm="api"'


def request_api_key(request) -> ApiKey | None:
    """The key a DRF request was authenticated with (None: a token or a session)."""
    auth = getattr(request, "auth", None)
    return auth if isinstance(auth, ApiKey) else None


class ApiKeyScheme(OpenApiAuthenticationExtension):
    """In the OpenAPI schema: a bearer token that is a personal API key ("apiKeyAuth")."""

    target_class = "accounts.authentication.ApiKeyAuthentication"
    name = "apiKeyAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "bearerFormat": "sk-studio-...",
                "description": "A personal API key (create one on your profile page or with POST /api/keys). "
                               "Accepted by the generation, video and /v1/ (OpenAI-compatible) APIs only."}
