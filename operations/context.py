"""What the code handling a request (or a task) knows about where it came from: the request
id, the client's address and the request itself, in context variables.

Set by operations.middleware for web requests and by operations.tasks' Celery signal
handlers for tasks; read by the log filter (every line carries the request id), the audit
trail (who, from which address) and the task publisher (the id travels with the task).
Imports nothing of the project, so any module may use it.
"""

from __future__ import annotations

import contextvars
import random
import re
from contextlib import contextmanager

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("studio_request_id", default="")
request_var: contextvars.ContextVar[object | None] = contextvars.ContextVar("studio_request", default=None)
address_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("studio_client_address", default=None)

# An incoming X-Request-ID is kept when it looks like an id (a proxy's or a client's); anything
# else (too long, spaces, quotes, control characters) gets a fresh one, so a header cannot
# forge log lines or smuggle text into them.
_SANE_ID = re.compile(r"^[A-Za-z0-9._:-]{8,64}$")


def new_request_id() -> str:
    # 128 random bits as 32 hex digits, as uuid4().hex gave, from Python's generator: an id
    # for logs is no secret, and os.urandom lets go of the GIL (on a busy event loop,
    # getting it back can take a switch interval).
    return "%032x" % random.getrandbits(128)


def accept_request_id(incoming: str | None) -> str:
    """The incoming id if it is sane, else a new one."""
    if incoming and _SANE_ID.match(incoming):
        return incoming
    return new_request_id()


def current_request_id() -> str:
    return request_id_var.get()


def current_request():
    return request_var.get()


def current_address() -> str | None:
    return address_var.get()


@contextmanager
def bound(*, request_id: str, request=None, address: str | None = None):
    """Run the block with these values in context (restored afterwards)."""
    tokens = (request_id_var.set(request_id), request_var.set(request), address_var.set(address))
    try:
        yield
    finally:
        address_var.reset(tokens[2])
        request_var.reset(tokens[1])
        request_id_var.reset(tokens[0])


def num_proxies() -> int:
    """REST_FRAMEWORK["NUM_PROXIES"]: the proxies in front that append to X-Forwarded-For."""
    from django.conf import settings

    value = settings.REST_FRAMEWORK.get("NUM_PROXIES")
    return value if isinstance(value, int) else 0


def client_address(request, num_proxies: int) -> str | None:
    """The client's address as DRF's throttles take it: the connection's peer, or with
    ``num_proxies`` proxies in front, the address they appended to X-Forwarded-For."""
    remote = request.META.get("REMOTE_ADDR") or None
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR")
    if num_proxies and forwarded:
        addresses = [part.strip() for part in forwarded.split(",") if part.strip()]
        if addresses:
            return addresses[-min(num_proxies, len(addresses))]
    return remote
