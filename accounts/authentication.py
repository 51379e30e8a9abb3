"""API authentication: SimpleJWT's, refusing access tokens issued before the user's
sessions were ended (their "ver" claim is older than `User.token_version`), and personal
API keys (ApiKeyAuthentication, for the generation, video and /v1/ APIs only)."""

from __future__ import annotations

import threading

from django.core.signals import setting_changed
from django.dispatch import receiver
from django.utils.translation import gettext as _
from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.exceptions import PermissionDenied
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import AuthenticationFailed, InvalidToken, TokenError
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.tokens import Token
from rest_framework_simplejwt.utils import aware_utcnow

from accounts.api_keys import KEY_PREFIX, ApiKey, ApiKeyRefused, api_key_answers_from_memory, api_key_authenticate
from accounts.models import User
from accounts.tokens import STALE_VERSION_MESSAGE, VERSION_CLAIM
from core.changes import Kept, own_copy
from core.db import Coalesced


def _read_users(user_ids: list[int]) -> list[User | None]:
    """The users of ``user_ids`` (None where there is none), in one query; a user named
    twice is two objects, as two requests would each read their own."""
    found = User.objects.in_bulk(set(user_ids))
    return [own_copy(found[user_id]) if user_id in found else None for user_id in user_ids]


# The users that concurrent requests' tokens name, read in one query for all of them
# (core.db.Coalesced): at a burst of generation requests, each request's read of its own
# user was the largest single read of its database work.
_users_read_together = Coalesced(_read_users)
# And each process keeps the users it read until a user changes anywhere in the
# installation (core.changes: a deactivation, a role, ending sessions moves the counter).
_kept_users: Kept[User] = Kept()


async def _user_named_by_token(user_id: int) -> User | None:
    """The user a token names, a copy of its own for the request."""
    kept = _kept_users.get(user_id)
    if kept is not None:
        return own_copy(kept)
    stamp = _kept_users.stamp()
    user = await _users_read_together(user_id)
    if user is not None:
        _kept_users.put(user_id, own_copy(user), stamp)
    return user


# Access tokens this process validated, by their exact text: a token's signature and
# claims are checked once (about 140 µs each time: PyJWT, SimpleJWT's claim checks), then
# only its expiry on each use. What may change while a token lives (its user, its
# "ver", a revocation) is checked per request as before (get_user). Forgotten when the
# SIMPLE_JWT settings change.
KEPT_TOKENS = 4096
_validated_tokens: dict[bytes, Token] = {}
_validated_lock = threading.Lock()


def _kept_validation(raw_token: bytes) -> Token | None:
    token = _validated_tokens.get(raw_token)
    if token is None:
        return None
    try:
        token.check_exp(current_time=aware_utcnow())
    except TokenError:
        with _validated_lock:
            _validated_tokens.pop(raw_token, None)
        return None
    return token


def _keep_validation(raw_token: bytes, token: Token) -> None:
    with _validated_lock:
        if len(_validated_tokens) >= KEPT_TOKENS:
            del _validated_tokens[next(iter(_validated_tokens))]  # the oldest
        _validated_tokens[raw_token] = token


@receiver(setting_changed)
def _forget_validated_tokens(*, setting, **kwargs) -> None:
    if setting in ("SIMPLE_JWT", "SECRET_KEY"):
        with _validated_lock:
            _validated_tokens.clear()


class VersionedJWTAuthentication(JWTAuthentication):
    _read_before: tuple | None = None

    def get_validated_token(self, raw_token: bytes) -> Token:
        token = _kept_validation(raw_token)
        if token is None:
            token = super().get_validated_token(raw_token)  # raises InvalidToken
            _keep_validation(raw_token, token)
        return token

    async def aprepare(self, request) -> None:
        """Read the user a request's token names ahead of authentication, together with
        the users of concurrent requests (core.async_views awaits this before DRF
        authenticates in a database step). Anything wrong with the token is left for
        authentication to report."""
        header = self.get_header(request)
        if header is None:
            return
        try:
            raw_token = self.get_raw_token(header)
            if raw_token is None or raw_token.startswith(KEY_PREFIX.encode()):
                return
            user_id = int(self.get_validated_token(raw_token)[api_settings.USER_ID_CLAIM])
        except (AuthenticationFailed, InvalidToken, KeyError, TypeError, ValueError):
            return
        self._read_before = (user_id, await _user_named_by_token(user_id))

    def answers_from_memory(self, request) -> bool | None:
        """For core.async_views, after aprepare: None when the request carries no token
        (or an API key); otherwise whether authentication needs no read. It needs none:
        aprepare read the token's user ahead, or found the token invalid (refused as it
        is); unless SimpleJWT checks revoked tokens, which reads."""
        header = self.get_header(request)
        raw_token = self.get_raw_token(header) if header is not None else None
        if raw_token is None or raw_token.startswith(KEY_PREFIX.encode()):
            return None
        return not api_settings.CHECK_REVOKE_TOKEN

    def get_user(self, validated_token):
        # SimpleJWT loads the user row (and refuses inactive users); the version is on it,
        # so the check costs no query.
        user = self._user_read_before(validated_token) or super().get_user(validated_token)
        if validated_token.get(VERSION_CLAIM, 0) != user.token_version:
            raise AuthenticationFailed(STALE_VERSION_MESSAGE, code="token_not_valid")
        return user

    def _user_read_before(self, validated_token) -> User | None:
        """The user aprepare read for this token, refused as SimpleJWT would refuse it;
        None to read it now."""
        if self._read_before is None or api_settings.CHECK_REVOKE_TOKEN:
            return None
        user_id, user = self._read_before
        if str(validated_token.get(api_settings.USER_ID_CLAIM)) != str(user_id):
            return None
        if user is None:
            raise AuthenticationFailed(_("User not found"), code="user_not_found")
        if api_settings.CHECK_USER_IS_ACTIVE and not user.is_active:
            raise AuthenticationFailed(_("User is inactive"), code="user_inactive")
        return user


class VersionedJWTScheme(SimpleJWTScheme):
    """The OpenAPI schema describes it as SimpleJWT's bearer scheme ("jwtAuth")."""

    target_class = "accounts.authentication.VersionedJWTAuthentication"


# ------------------------------------------------------------------ personal API keys

# A key is accepted only by a view class that says so: ``accepts_api_keys = True`` (the
# generation and video APIs, the stored files their answers link to, and the
# OpenAI-compatible /v1/ API). Everywhere else (account, password, keys, admin) a key is
# refused with 403, whatever the view's permission classes say, so a leaked key cannot
# take the account over. The opt-in is the class's own: moving it changes nothing.
API_KEY_REFUSED = "API keys are accepted only by the generation, video and /v1/ APIs; sign in for this."


def view_accepts_api_keys(view) -> bool:
    return view is not None and getattr(type(view), "accepts_api_keys", False) is True


class ApiKeyAuthentication(BaseAuthentication):
    """``Authorization: Bearer sk-studio-...``: a personal API key (accounts.api_keys).

    Any other bearer token is left to the next class (SimpleJWT), so it comes first in
    DEFAULT_AUTHENTICATION_CLASSES. ``request.auth`` is the ApiKey; ``request.user`` its
    owner, acting as an ordinary user (``User.acting_with_api_key``).
    """

    keyword = "Bearer"

    def _secret(self, request) -> str | None:
        """The personal API key the request's Authorization header carries, if any."""
        header = get_authorization_header(request).split()
        if len(header) != 2 or header[0].lower() != self.keyword.lower().encode():
            return None
        try:
            secret = header[1].decode("ascii")
        except UnicodeDecodeError:
            return None
        return secret if secret.startswith(KEY_PREFIX) else None

    def authenticate(self, request):
        secret = self._secret(request)
        if secret is None:
            return None
        view = (getattr(request, "parser_context", None) or {}).get("view")
        if not view_accepts_api_keys(view):
            raise PermissionDenied(API_KEY_REFUSED)
        try:
            key = api_key_authenticate(secret)
        except ApiKeyRefused as exc:
            raise AuthenticationFailed(exc.message, code=exc.code) from None
        # A key acts with a user's permissions whatever its owner's role: its owner's own
        # data only, so a leaked administrator's key reads nobody else's.
        key.user.acting_with_api_key = True
        return key.user, key

    def authenticate_header(self, request):
        return f'{self.keyword} realm="api"'

    def answers_from_memory(self, request) -> bool | None:
        """Whether authenticate() would wait on no database (core.async_views then runs it
        on the event loop): None when the request carries no key (not this class's),
        True for a key this process keeps."""
        secret = self._secret(request)
        return None if secret is None else api_key_answers_from_memory(secret)


def request_api_key(request) -> ApiKey | None:
    """The key a DRF request was authenticated with (None: a token or a session)."""
    auth = getattr(request, "auth", None)
    return auth if isinstance(auth, ApiKey) else None


class ApiKeyScheme(OpenApiAuthenticationExtension):
    """In the OpenAPI schema: a bearer token that is a personal API key ("apiKeyAuth")."""

    target_class = "accounts.authentication.ApiKeyAuthentication"
    name = "apiKeyAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "sk-studio-...",
            "description": "A personal API key (create one on your profile page or with POST /api/keys). "
            "Accepted by the generation, video and /v1/ (OpenAI-compatible) APIs only.",
        }
