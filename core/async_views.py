"""DRF views whose handlers are coroutines, for endpoints that await the provider.

DRF's request cycle (authentication, permissions, throttles, content negotiation) stays
as DRF writes it and runs as one database step (``core.db.in_db``: it reads the user, the
key, the throttle counters), or on the event loop when everything it reads is in this
process's memory (a kept API key, throttles in the embedded setup's cache). The handler
is awaited on the event loop, so a request waiting on the provider holds no thread, and
its response is rendered there too. Exceptions become answers through the same handler
as every other view (core.http).
"""

from __future__ import annotations

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.locmem import LocMemCache
from django.core.handlers.asgi import ASGIRequest
from rest_framework.authentication import SessionAuthentication
from rest_framework.views import APIView

from core.db import in_db


class AsyncApiView(APIView):
    """An APIView whose ``get``/``post``/... are ``async def``."""

    async def dispatch(self, request, *args, **kwargs):
        self.args, self.kwargs = args, kwargs
        request = self.initialize_request(request, *args, **kwargs)
        self.request = request
        self.headers = self.default_response_headers
        try:
            # An authentication class may read ahead on the event loop (aprepare: with the
            # reads of concurrent requests); then authentication and throttles, which may
            # read the database, run as a database step.
            for authenticator in request.authenticators:
                prepare = getattr(authenticator, "aprepare", None)
                if prepare is not None:
                    await prepare(request)
            if self._initial_answers_from_memory(request):
                self.initial(request, *args, **kwargs)  # nothing to wait on: no thread
            else:
                await in_db(self.initial)(request, *args, **kwargs)
            method = request.method.lower()
            handler = getattr(self, method, None) if method in self.http_method_names else None
            if handler is None:
                handler = self._not_allowed
            response = await handler(request, *args, **kwargs)
        except Exception as exc:
            response = self.handle_exception(exc)
        self.response = self.finalize_response(request, response, *args, **kwargs)
        if isinstance(request._request, ASGIRequest) and hasattr(self.response, "render"):
            _render_here(self.response)
        return self.response

    def _initial_answers_from_memory(self, request) -> bool:
        """Whether authentication and throttles would wait on no database or cache: the
        throttles count in this process's memory (the embedded setup's cache), and the
        authentication class that will take the request says it needs nothing else
        (``answers_from_memory``: True, False, or None for a request it will not take)."""
        if self.get_throttles() and not isinstance(caches["default"], LocMemCache):
            return False
        for authenticator in request.authenticators:
            verdict = _answers_from_memory(authenticator, request)
            if verdict is not None:
                return verdict
        return True  # nobody takes it: anonymous, decided without a read

    async def _not_allowed(self, request, *args, **kwargs):
        self.http_method_not_allowed(request, *args, **kwargs)

    async def options(self, request, *args, **kwargs):
        return super().options(request, *args, **kwargs)


def _render_here(response) -> None:
    """Render a DRF response now, on the event loop. Django's async handler renders a
    response that has a sync ``render`` on the request's thread (a hand-off there and
    back for a few hundred bytes of JSON); one whose ``render`` is a coroutine function is
    awaited in place: here, an already rendered response. (Sync handlers, the test
    client's, are given the response unchanged: they call ``render`` themselves.)"""
    response.render()

    async def rendered():
        return response

    response.render = rendered


def _answers_from_memory(authenticator, request) -> bool | None:
    method = getattr(authenticator, "answers_from_memory", None)
    if method is not None:
        return method(request)
    if isinstance(authenticator, SessionAuthentication):
        # The session is read from the database only when its cookie names one.
        return None if settings.SESSION_COOKIE_NAME not in request.COOKIES else False
    return False
