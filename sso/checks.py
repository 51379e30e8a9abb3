"""System checks of the single sign-on settings."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from django.conf import settings
from django.core.checks import Tags, Warning, register


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@register(Tags.security, deploy=True)
def check_issuer_scheme(app_configs=None, **kwargs):
    """sso.W001: an issuer over plain HTTP on another machine: the client secret, the code
    and the provider's keys would cross the network unprotected."""
    issuer = urlsplit(settings.OIDC_ISSUER) if settings.OIDC_ISSUER else None
    if issuer is not None and issuer.scheme != "https" and not _loopback(issuer.hostname or ""):
        return [
            Warning(
                f"OIDC_ISSUER {settings.OIDC_ISSUER} is not https: the client secret and the "
                "provider's signing keys would travel unprotected.",
                hint="Use the provider's https issuer URL.",
                id="sso.W001",
            )
        ]
    return []
