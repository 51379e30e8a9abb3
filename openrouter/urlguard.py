"""Which provider-returned URLs the clients agree to fetch, and where they follow redirects.

Images, polling URLs and video content come as URLs in the provider's answers. A URL on
the configured provider origin is trusted. Any other must not point at a private,
loopback, link-local or otherwise internal address (every address its host resolves to
is checked), and a redirect is followed only to https or to the provider origin. The
address rule is lifted when the provider base URL is itself on such an address (the
offline double on 127.0.0.1): then everything it hands out is local too.

DNS is looked up here and again by the HTTP library when it connects; the guard keeps
honest mistakes and hostile answers away from internal services, not a rebinding DNS.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterable
from urllib.parse import urljoin, urlsplit

from .config import ClientConfig
from .errors import ProviderUnsafeURL
from .transport import origin

Resolver = Callable[[str], Iterable[str]]


def system_resolve(host: str) -> list[str]:
    """Every address ``host`` resolves to (blocking)."""
    try:
        infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise ProviderUnsafeURL(f"The provider sent a URL whose host {host!r} does not resolve.") from exc
    return [str(info[4][0]) for info in infos]


def is_internal(address: str) -> bool:
    """Whether an IP address is one a provider URL must not reach."""
    ip = ipaddress.ip_address(address.split("%")[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_multicast or ip.is_reserved or ip.is_unspecified


def _literal(host: str) -> str | None:
    try:
        return str(ipaddress.ip_address(host.strip("[]")))
    except ValueError:
        return None


class UrlGuard:
    """The rules above for one client configuration. ``resolve`` is swappable for tests."""

    def __init__(self, config: ClientConfig, resolve: Resolver = system_resolve) -> None:
        self.provider_origin = origin(config.base_url)
        self.resolve = resolve
        provider_host = urlsplit(config.base_url).hostname or ""
        literal = _literal(provider_host)
        if provider_host == "localhost":
            literal = "127.0.0.1"
        self.internal_allowed = literal is not None and is_internal(literal)

    def needs_lookup(self, url: str) -> bool:
        """Whether :meth:`check` would resolve a host name (so async callers run it in a thread)."""
        host = urlsplit(url).hostname or ""
        return not self._trusted(url) and _literal(host) is None

    def check(self, url: str) -> None:
        """Raise :class:`ProviderUnsafeURL` unless ``url`` may be fetched."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ProviderUnsafeURL(f"Refusing to fetch {_shown(url)}: not an http(s) URL.", url=url)
        if self._trusted(url):
            return
        host = parts.hostname
        literal = _literal(host)
        addresses = [literal] if literal else list(self.resolve(host))
        if not addresses:
            raise ProviderUnsafeURL(f"Refusing to fetch {_shown(url)}: its host has no address.", url=url)
        for address in addresses:
            if is_internal(address):
                raise ProviderUnsafeURL(
                    f"Refusing to fetch {_shown(url)}: {host} is an internal address ({address}).", url=url
                )

    def redirect_target(self, url: str, location: str) -> str:
        """The absolute URL a redirect from ``url`` points at, once allowed: https, or
        the provider's own origin. Raises :class:`ProviderUnsafeURL` otherwise."""
        target = urljoin(url, location)
        if urlsplit(target).scheme != "https" and origin(target) != self.provider_origin:
            raise ProviderUnsafeURL(
                f"Refusing to follow a redirect from {_shown(url)} to {_shown(target)}: not https.", url=target
            )
        self.check(target)
        return target

    def _trusted(self, url: str) -> bool:
        return self.internal_allowed or origin(url) == self.provider_origin


def _shown(url: str) -> str:
    """A URL for an error message: no query string (signed URLs carry credentials)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"
