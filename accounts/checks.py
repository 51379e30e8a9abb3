"""System checks for the login limits' view of client addresses."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Tags, Warning, register


@register(Tags.security, deploy=True)
def check_proxy_addresses(app_configs=None, **kwargs):
    """accounts.W001: behind TLS (which the app, serving plain HTTP on 127.0.0.1, gets from a
    reverse proxy) with NUM_PROXIES=0, every client shares the proxy's address, so one
    client's failed logins lock everybody out."""
    behind_proxy = (
        settings.SECURE_SSL_REDIRECT
        or getattr(settings, "SECURE_PROXY_SSL_HEADER", None)
        or (getattr(settings, "HTTPS", False))
    )
    if behind_proxy and not settings.REST_FRAMEWORK.get("NUM_PROXIES"):
        return [
            Warning(
                "HTTPS is on but NUM_PROXIES is 0: behind the reverse proxy every client has the "
                "proxy's address, and the login limits per address apply to all of them together.",
                hint="Set NUM_PROXIES to the number of proxies that append to X-Forwarded-For "
                "(usually 1), or unset it (HTTPS and SECURE_PROXY_SSL make it 1).",
                id="accounts.W001",
            )
        ]
    return []
