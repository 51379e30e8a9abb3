"""The relying party's side of OpenID Connect, on Authlib's Django client: discovery, the
authorization request (state, nonce, PKCE S256), the code exchange and the ID token's checks
(signature against the provider's JWKS, ``iss``, ``aud``, ``exp``, ``iat``, ``nonce``).

The only code that speaks HTTP to the identity provider."""

from __future__ import annotations

import functools
import logging
import time

import requests
from authlib.integrations.base_client import OAuthError
from authlib.integrations.django_client import OAuth
from django.conf import settings
from joserfc.errors import JoseError

from core.errors import DomainError, ErrorKind

log = logging.getLogger(__name__)

# Discovery is read again after this many seconds (keys also whenever a token names an unknown one).
METADATA_MAX_AGE = 24 * 3600
# The session key under which Authlib keeps each pending sign-in's state, nonce and verifier.
CLIENT_NAME = "oidc"


class ProviderUnreachable(DomainError):
    kind = ErrorKind.PROVIDER_FAILED
    default_message = "The identity provider could not be reached; try again in a moment."


class SignInInvalid(DomainError):
    """The provider's answer did not prove who signed in (a wrong or replayed state, a bad
    signature, another audience or issuer, an expired token, a wrong nonce, no ID token)."""

    kind = ErrorKind.INVALID
    default_message = "The sign-in could not be verified; please start again."


def enabled() -> bool:
    return bool(settings.OIDC_ISSUER)


def provider_name() -> str:
    return settings.OIDC_PROVIDER_NAME


def discovery_url(issuer: str) -> str:
    return issuer.rstrip("/") + "/.well-known/openid-configuration"


@functools.lru_cache(maxsize=4)
def _app(issuer: str, client_id: str, client_secret: str, scopes: str, timeout: float):
    """One client per configuration: it keeps the discovery document and the JWKS it read
    (a key id it does not know makes it read the JWKS again, so key rotation is followed)."""
    oauth = OAuth()
    return oauth.register(
        CLIENT_NAME,
        client_id=client_id,
        client_secret=client_secret,
        server_metadata_url=discovery_url(issuer),
        client_kwargs={"scope": scopes, "code_challenge_method": "S256", "default_timeout": timeout},
    )


def _client():
    app = _app(
        settings.OIDC_ISSUER,
        settings.OIDC_CLIENT_ID,
        settings.OIDC_CLIENT_SECRET,
        settings.OIDC_SCOPES,
        settings.OIDC_TIMEOUT,
    )
    if time.time() - app.server_metadata.get("_loaded_at", time.time()) > METADATA_MAX_AGE:
        _app.cache_clear()  # a fresh client reads discovery and keys again
        return _client()
    try:
        metadata = app.load_server_metadata()
    except (requests.RequestException, ValueError) as exc:
        log.warning("oidc discovery failed: %s", exc)
        _app.cache_clear()  # read it again next time
        raise ProviderUnreachable() from None
    # OpenID Connect Discovery 1.0 §4.3: the document must be the configured issuer's.
    if str(metadata.get("issuer", "")).rstrip("/") != settings.OIDC_ISSUER.rstrip("/"):
        log.warning("oidc discovery names issuer %r, not %r", metadata.get("issuer"), settings.OIDC_ISSUER)
        _app.cache_clear()
        raise ProviderUnreachable("The identity provider's discovery document names another issuer.")
    return app


def authorization_redirect(request, redirect_uri: str):
    """The redirect to the provider's authorization endpoint; state, nonce and the PKCE
    verifier stay in this browser's session."""
    return _client().authorize_redirect(request, redirect_uri)


def verified_claims(request) -> dict:
    """The callback: exchange the code (with the PKCE verifier) and return the ID token's
    claims once its signature and claims are checked. SignInInvalid for anything that does
    not prove who signed in; ProviderUnreachable when the provider did not answer."""
    app = _client()
    # Authlib checks iss by default but aud only when told (else an ID token for another
    # client that names us as its azp would pass): both are required here.
    claims_options = {
        "iss": {"essential": True, "values": [app.server_metadata["issuer"]]},
        "aud": {"essential": True, "values": [settings.OIDC_CLIENT_ID]},
    }
    try:
        token = app.authorize_access_token(request, claims_options=claims_options)
    except OAuthError as exc:
        log.warning("oidc sign-in refused: %s %s", exc.error, exc.description)
        if exc.error == "access_denied":
            raise SignInInvalid("The sign-in was cancelled at the identity provider.") from None
        raise SignInInvalid() from None
    except JoseError as exc:
        log.warning("oidc id token refused: %s", exc)
        raise SignInInvalid() from None
    except requests.HTTPError as exc:
        # The token endpoint's refusal (a wrong code or verifier, a wrong client secret).
        log.warning("oidc token request refused: %s", exc)
        raise SignInInvalid() from None
    except (requests.RequestException, ValueError) as exc:
        log.warning("oidc token request failed: %s", exc)
        raise ProviderUnreachable() from None
    claims = token.get("userinfo")
    if not claims:
        # Authlib checks an ID token only when there is one: without it nothing is proven.
        log.warning("oidc token response without an id_token")
        raise SignInInvalid()
    return dict(claims)
