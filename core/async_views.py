"""DRF views whose handlers are coroutines, for endpoints that await the provider.

DRF's request cycle (authentication, permissions, throttles, content negotiation) stays
as DRF writes it and runs as one database step (``core.db.in_db``: it reads the user, the
key, the throttle counters); only the handler is awaited on the event loop, so a request
waiting on the provider holds no thread. Exceptions become answers through the same
handler as every other view (core.http).
"""

from __future__ import annotations

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
            await in_db(self.initial)(request, *args, **kwargs)
            method = request.method.lower()
            handler = getattr(self, method, None) if method in self.http_method_names else None
            if handler is None:
                handler = self._not_allowed
            response = await handler(request, *args, **kwargs)
        except Exception as exc:
            response = self.handle_exception(exc)
        self.response = self.finalize_response(request, response, *args, **kwargs)
        return self.response

    async def _not_allowed(self, request, *args, **kwargs):
        self.http_method_not_allowed(request, *args, **kwargs)

    async def options(self, request, *args, **kwargs):
        return super().options(request, *args, **kwargs)
