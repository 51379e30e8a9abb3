"""The outermost middleware: gives every request an id (answered as X-Request-ID), puts the
request in context for the audit trail and the logs (operations.context), counts it in the
metrics by route and status, and writes one log line per request (LOG_FORMAT=json).

Works in both modes, so under ASGI no request is handed to a thread to pass through it."""

from __future__ import annotations

import logging
import time

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.conf import settings
from django.http import StreamingHttpResponse
from django.utils.functional import SimpleLazyObject, empty

from operations import context, metrics

log = logging.getLogger("studio.requests")

HEADER = "X-Request-ID"


def route_of(request) -> str:
    """The URL pattern's name (never the raw path, whose ids would make a label per object)."""
    match = getattr(request, "resolver_match", None)
    if match is not None:
        return match.view_name or match.route or "unnamed"
    static = "/" + settings.STATIC_URL.lstrip("/")
    if request.path_info.startswith(static):
        return "static"
    return "unmatched"


def user_id_of(request) -> int | None:
    """The signed-in user's id if already known; never loads it (no query from the loop)."""
    user = request.__dict__.get("user")
    if isinstance(user, SimpleLazyObject) and user._wrapped is empty:
        return None
    return getattr(user, "pk", None) if getattr(user, "is_authenticated", False) else None


class RequestMiddleware:
    sync_capable = True
    async_capable = True

    def __init__(self, get_response) -> None:
        self.get_response = get_response
        self.async_mode = iscoroutinefunction(get_response)
        if self.async_mode:
            markcoroutinefunction(self)

    def _start(self, request) -> tuple[str, str | None]:
        request_id = context.accept_request_id(request.META.get("HTTP_X_REQUEST_ID"))
        request.request_id = request_id
        address = context.client_address(request, context.num_proxies())
        return request_id, address

    def __call__(self, request):
        if self.async_mode:
            return self._acall(request)
        request_id, address = self._start(request)
        started = time.monotonic()
        with context.bound(request_id=request_id, request=request, address=address):
            response = self.get_response(request)
            return self._finish(request, response, started, address)

    async def _acall(self, request):
        request_id, address = self._start(request)
        started = time.monotonic()
        # Not reset afterwards: Django serves each ASGI request in its own task, and a
        # streamed body is sent after this returns, still in this context.
        context.request_id_var.set(request_id)
        context.request_var.set(request)
        context.address_var.set(address)
        response = await self.get_response(request)
        return self._finish(request, response, started, address)

    def _finish(self, request, response, started: float, address):
        seconds = time.monotonic() - started
        route = route_of(request)
        response[HEADER] = request.request_id
        metrics.request_finished(route=route, method=request.method, status=response.status_code, seconds=seconds)
        if isinstance(response, StreamingHttpResponse) and response.get("Content-Type", "").startswith(
            "text/event-stream"
        ):
            _count_stream(response, route)
        if settings.LOG_REQUESTS:
            log.info(
                "%s %s %s %.1fms",
                request.method,
                request.path,
                response.status_code,
                seconds * 1000,
                extra={
                    "event": "request",
                    "method": request.method,
                    "path": request.path,  # never the query string: it may carry a token
                    "route": route,
                    "status": response.status_code,
                    "duration_ms": round(seconds * 1000, 1),
                    "user_id": user_id_of(request),
                    "client": address,
                },
            )
        return response


def _count_stream(response: StreamingHttpResponse, route: str) -> None:
    """Count the stream as in flight while its body is being sent."""
    body = response.streaming_content
    if response.is_async:

        async def counted_async():
            metrics.stream_started(route=route)
            try:
                async for chunk in body:
                    yield chunk
            finally:
                metrics.stream_ended(route=route)

        response.streaming_content = counted_async()
    else:

        def counted():
            metrics.stream_started(route=route)
            try:
                yield from body
            finally:
                metrics.stream_ended(route=route)

        response.streaming_content = counted()
