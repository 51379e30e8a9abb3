"""API authentication: SimpleJWT's, refusing access tokens issued before the user's
sessions were ended (their "ver" claim is older than `User.token_version`)."""
from __future__ import annotations

from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import AuthenticationFailed

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
