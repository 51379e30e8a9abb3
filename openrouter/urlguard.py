"""Which provider-returned URLs the clients agree to fetch, where they follow redirects,
and which address they connect to.

Images, polling URLs and video content come as URLs in the provider's answers. A URL on
the configured provider origin is trusted (the operator chose it). Any other must point
at globally routable addresses only: every address its host resolves to is checked, and
private, shared (100.64.0.0/10, where cloud metadata services live), loopback,
link-local, multicast and reserved ranges are refused, also when they hide inside an
IPv6 form (IPv4-mapped, NAT64, and 6to4, which is refused whole). A redirect is followed
only to https or to the provider origin.

The host is looked up once: the request then goes to the address that was checked, with
the name kept for the Host header and TLS (SNI and the certificate check), so a DNS
answer that changes between the check and the connection (rebinding) is never used.
Behind a proxy named by the environment the proxy makes the connection, so its own
rules hold there; the addresses are still checked.
"""

from __future__ import annotations

import ipaddress
import socket
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx

from .config import ClientConfig
from .errors import ProviderUnsafeURL
from .transport import origin

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str], Iterable[str]]
AddressRule = Callable[[IPAddress], bool]

_SIX_TO_FOUR = ipaddress.ip_network("2002::/16")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")  # the well-known prefix: the last 32 bits are an IPv4 address
_NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")  # deprecated ::a.b.c.d


def system_resolve(host: str) -> list[str]:
    """Every address ``host`` resolves to (blocking)."""
    try:
        infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise ProviderUnsafeURL(f"The provider sent a URL whose host {host!r} does not resolve.") from exc
    return [str(info[4][0]) for info in infos]


def is_public(ip: IPAddress) -> bool:
    """Whether a provider-handed URL may reach ``ip``: globally routable unicast only.

    Python 3.11's ``is_global`` lets some forms through (IPv4-mapped, NAT64 and
    IPv4-compatible addresses of internal hosts, multicast), so those are unwrapped or
    refused here first.
    """
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return is_public(ip.ipv4_mapped)
        if ip in _NAT64:
            return is_public(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
        # 6to4 is deprecated (RFC 7526) and a relay reaches whatever IPv4 address is inside.
        if ip in _SIX_TO_FOUR or ip in _NAT64_LOCAL or ip in _IPV4_COMPATIBLE:
            return False
    return ip.is_global and not ip.is_multicast


def _address(text: str) -> IPAddress:
    return ipaddress.ip_address(text.split("%")[0])


def _literal(host: str) -> str | None:
    try:
        return str(ipaddress.ip_address(host.strip("[]")))
    except ValueError:
        return None


@dataclass(frozen=True)
class Target:
    """A URL the guard let through. ``address`` is the checked address to connect to
    when the host is a name off the provider's origin; None means connect as the URL says
    (the provider's own origin, an address literal, or through a proxy)."""

    url: str
    address: str | None = None

    def request_args(self) -> dict[str, Any]:
        """``httpx.Client.build_request`` arguments that send to ``address`` while the
        Host header and TLS (SNI, the certificate check) keep the name."""
        if self.address is None:
            return {"url": self.url, "headers": {}, "extensions": {}}
        url = httpx.URL(self.url)
        return {
            "url": url.copy_with(host=self.address),
            # A connection opened for one name is never reused for another name at the
            # same address, whose certificate it did not check.
            "headers": {"Host": url.netloc.decode("ascii"), "Connection": "close"},
            "extensions": {"sni_hostname": url.raw_host.decode("ascii")},
        }


class UrlGuard:
    """The rules above for one client configuration.

    ``resolve`` and ``allow`` exist for tests: a resolver that needs no DNS, and a wider
    address rule for the tests' own servers on 127.0.0.1 (the clients built from
    settings never pass one, so there only public addresses are allowed).
    """

    def __init__(
        self, config: ClientConfig, resolve: Resolver = system_resolve, allow: AddressRule = is_public
    ) -> None:
        self.provider_origin = origin(config.base_url)
        self.resolve = resolve
        self.allow = allow
        # Through a proxy the connection is the proxy's: there is no address of ours to pin.
        self.pin = not urllib.request.getproxies()

    def needs_lookup(self, url: str) -> bool:
        """Whether :meth:`check` would resolve a host name (so async callers run it in a thread)."""
        host = urlsplit(url).hostname or ""
        return not self._trusted(url) and _literal(host) is None

    def check(self, url: str) -> Target:
        """The :class:`Target` to send ``url`` to; raise :class:`ProviderUnsafeURL` unless
        it may be fetched. Looks its host up at most once."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ProviderUnsafeURL(f"Refusing to fetch {_shown(url)}: not an http(s) URL.", url=url)
        if self._trusted(url):
            return Target(url)
        host = parts.hostname
        literal = _literal(host)
        addresses = [literal] if literal else list(self.resolve(host))
        if not addresses:
            raise ProviderUnsafeURL(f"Refusing to fetch {_shown(url)}: its host has no address.", url=url)
        for address in addresses:
            try:
                allowed = self.allow(_address(address))
            except ValueError:
                allowed = False
            if not allowed:
                raise ProviderUnsafeURL(
                    f"Refusing to fetch {_shown(url)}: {host} is an internal address ({address}).", url=url
                )
        if literal or not self.pin:
            return Target(url)
        return Target(url, address=addresses[0])

    def redirect_url(self, url: str, location: str) -> str:
        """Where a redirect from ``url`` points, if it may be followed: https, or the
        provider's own origin (the hop is then sent through :meth:`check` like any URL).
        Raises :class:`ProviderUnsafeURL` otherwise."""
        target = urljoin(url, location)
        if urlsplit(target).scheme != "https" and origin(target) != self.provider_origin:
            raise ProviderUnsafeURL(
                f"Refusing to follow a redirect from {_shown(url)} to {_shown(target)}: not https.", url=target
            )
        return target

    def _trusted(self, url: str) -> bool:
        return origin(url) == self.provider_origin


def _shown(url: str) -> str:
    """A URL for an error message: no query string (signed URLs carry credentials)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"
