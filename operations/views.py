"""GET /metrics: Prometheus' text format, for the allowed addresses or a bearer token."""

from __future__ import annotations

import hmac
import ipaddress
import os

from django.conf import settings
from django.http import Http404, HttpResponse, HttpResponseForbidden
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

from operations.collectors import StateCollector
from operations.context import client_address, num_proxies


def _address_allowed(address: str | None) -> bool:
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return False
    for allowed in settings.METRICS_ALLOWED_ADDRESSES:
        try:
            if ip in ipaddress.ip_network(allowed, strict=False):
                return True
        except ValueError:
            continue
    return False


def _bearer(request) -> str | None:
    header = request.META.get("HTTP_AUTHORIZATION", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


@require_GET
def metrics(request):
    """A bearer token, when sent, must be METRICS_TOKEN (403 otherwise, from anywhere);
    without one, only the allowed addresses get an answer (elsewhere: 404, as if there
    were no such page)."""
    token = _bearer(request)
    if token is not None:
        if not (settings.METRICS_TOKEN and hmac.compare_digest(token.encode(), settings.METRICS_TOKEN.encode())):
            return HttpResponseForbidden("Wrong metrics token.", content_type="text/plain")
    elif not _address_allowed(client_address(request, num_proxies())):
        raise Http404
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    body = generate_latest(registry)
    state = CollectorRegistry()
    state.register(StateCollector())
    body += generate_latest(state)
    return HttpResponse(body, content_type=CONTENT_TYPE_LATEST)
