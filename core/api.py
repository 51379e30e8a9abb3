"""What /api/ answers itself: its root (links to every endpoint) and JSON for everything
else under it that no endpoint takes (unknown paths, and the 400/403/404/500 handlers
for /api/ paths; other paths keep the site's HTML pages)."""

from __future__ import annotations

import json
import re

from asgiref.sync import iscoroutinefunction
from django.conf import settings
from django.http import HttpResponsePermanentRedirect, JsonResponse
from django.urls import URLPattern, URLResolver, get_resolver, get_script_prefix, resolve
from django.urls.exceptions import Resolver404
from django.utils.decorators import sync_and_async_middleware
from django.views import csrf, defaults
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularAPIView
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView

API_PREFIX = "api/"
# Named URLs outside the apps' API namespaces that the root lists too.
EXTRA_LINKS = {"schema": "schema", "docs": "api-docs"}
_CONVERTER = re.compile(r"<(?:\w+:)?(\w+)>")


def is_api_path(request) -> bool:
    return request.path_info.lstrip("/").startswith(API_PREFIX)


def api_links(request) -> dict[str, str]:
    """Every named URL of the API namespaces (included at api/), as absolute links; a
    URL with parameters is given as a template ("…/api/generations/{pk}")."""
    links = {}
    for entry in get_resolver().url_patterns:
        if not (isinstance(entry, URLResolver) and str(entry.pattern) == API_PREFIX and entry.namespace):
            continue
        for pattern in entry.url_patterns:
            if not (isinstance(pattern, URLPattern) and pattern.name):
                continue
            name = f"{entry.namespace}:{pattern.name}"
            route = str(pattern.pattern)
            if _CONVERTER.search(route):
                template = get_script_prefix() + API_PREFIX + _CONVERTER.sub(r"{\1}", route)
                links[name] = request.build_absolute_uri(template).replace("%7B", "{").replace("%7D", "}")
            else:
                links[name] = reverse(name, request=request)
    links.update({key: reverse(url_name, request=request) for key, url_name in EXTRA_LINKS.items()})
    return dict(sorted(links.items()))


class ApiRootView(APIView):
    """Studio's REST API. Each link names an endpoint (`namespace:name`); `{...}` parts
    are path parameters. The schema (OpenAPI 3) is at `schema`, its interactive docs at
    `docs`. Sign in with `POST /api/auth/login` and send `Authorization: Bearer <access>`."""

    # Anyone may read the root; a stale token or session must not stop them.
    authentication_classes: tuple = ()
    permission_classes = (AllowAny,)

    def get_view_name(self):
        return "Studio API"

    @extend_schema(
        operation_id="api_root",
        responses={
            200: {
                "type": "object",
                "additionalProperties": {
                    "type": "string",
                    "description": "absolute link; {...} marks a path parameter",
                },
            }
        },
        description="Links to every endpoint, the schema and the docs. JSON for API clients, the "
        "browsable API for browsers.",
    )
    def get(self, request):
        return Response(api_links(request))


class SchemaView(SpectacularAPIView):
    """The OpenAPI schema (YAML, or JSON with ?format=json); its refusals (a wrong method)
    are JSON like every other /api/ answer, not YAML."""

    def handle_exception(self, exc):
        response = super().handle_exception(exc)
        self.request.accepted_renderer = JSONRenderer()
        self.request.accepted_media_type = JSONRenderer.media_type
        return response


def _not_found_body() -> dict:
    return {"detail": "Not found."}


@csrf_exempt  # it changes nothing, and a POST must get the JSON 404, not a CSRF page
def api_not_found(request, *args, **kwargs):
    """The last /api/ pattern: any method, JSON 404. As CommonMiddleware would, a GET
    for a path that exists with a trailing slash is redirected there."""
    if settings.APPEND_SLASH and request.method in ("GET", "HEAD") and not request.path_info.endswith("/"):
        try:
            match = resolve(request.path_info + "/")
        except Resolver404:
            match = None
        if match is not None and match.func is not api_not_found:
            location = request.get_full_path(force_append_slash=True)
            return HttpResponsePermanentRedirect(
                location, content=json.dumps({"detail": f"Moved to {location}."}), content_type="application/json"
            )
    return JsonResponse(_not_found_body(), status=404)


# Django's error handlers (config.urls, CSRF_FAILURE_VIEW): JSON under /api/, the site's
# pages elsewhere.


def bad_request(request, exception, *args, **kwargs):
    if is_api_path(request):
        return JsonResponse({"detail": "Bad request."}, status=400)
    return defaults.bad_request(request, exception, *args, **kwargs)


def permission_denied(request, exception, *args, **kwargs):
    if is_api_path(request):
        return JsonResponse({"detail": "You do not have permission to perform this action."}, status=403)
    return defaults.permission_denied(request, exception, *args, **kwargs)


def page_not_found(request, exception, *args, **kwargs):
    if is_api_path(request):
        return JsonResponse(_not_found_body(), status=404)
    return defaults.page_not_found(request, exception, *args, **kwargs)


def csrf_failure(request, reason="", **kwargs):
    """CSRF_FAILURE_VIEW: a session-authenticated unsafe request without its token."""
    if is_api_path(request):
        return JsonResponse({"detail": f"CSRF Failed: {reason}"}, status=403)
    return csrf.csrf_failure(request, reason, **kwargs)


def _repeated_query_parameters(request) -> JsonResponse | None:
    if is_api_path(request):
        repeated = sorted(key for key, values in request.GET.lists() if len(values) > 1)
        if repeated:
            return JsonResponse({"detail": f"Query parameter given more than once: {', '.join(repeated)}."}, status=400)
    return None


@sync_and_async_middleware
def reject_repeated_query_parameters(get_response):
    """Middleware: under /api/ a query parameter given more than once is a 400 (every
    documented one takes one value; Django would silently use the last)."""
    if iscoroutinefunction(get_response):

        async def async_middleware(request):
            return _repeated_query_parameters(request) or await get_response(request)

        return async_middleware

    def middleware(request):
        return _repeated_query_parameters(request) or get_response(request)

    return middleware


def server_error(request, *args, **kwargs):
    if is_api_path(request):
        return JsonResponse({"detail": "Server error."}, status=500)
    return defaults.server_error(request, *args, **kwargs)
