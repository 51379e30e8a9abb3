"""Which views take personal API keys: those whose class says ``accepts_api_keys = True``,
and exactly the expected ones. Every other API view of every URL pattern refuses a valid
key with 403; the site's pages (plain Django views) never read one."""

import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.test import APIClient
from rest_framework.views import APIView

from accounts.api_keys import api_key_create
from accounts.authentication import API_KEY_REFUSED, ApiKeyAuthentication
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

# The views a key reaches: the generation and video APIs, the stored files their answers
# link to, and the OpenAI-compatible /v1/ API.
ACCEPTING = {
    "gateway.api.ChatCompletionApi",
    "gateway.embeddings.EmbeddingsApi",
    "gateway.responses.ResponsesApi",
    "gateway.images.ImageEditApi",
    "gateway.images.ImageGenerationApi",
    "gateway.models_api.ModelDetailApi",
    "gateway.models_api.ModelListApi",
    "gateway.api.VideoContentApi",
    "gateway.api.VideoCreateApi",
    "gateway.api.VideoStatusApi",
    "generation.api.GenerationDetailApi",
    "generation.api.GenerationListApi",
    "generation.api.ImageFileView",
    "generation.api.ImageGenerateApi",
    "generation.api.TextGenerateApi",
    "videos.api.VideoCancelApi",
    "videos.api.VideoCreateApi",
    "videos.api.VideoDeleteApi",
    "videos.api.VideoEventsApi",
    "videos.api.VideoFileView",
    "videos.api.VideoFromImageApi",
    "videos.api.VideoJobEventsApi",
    "videos.api.VideoListApi",
    "videos.api.VideoStatusApi",
}
# API views that authenticate nobody (the API root; register, login, refresh, logout): a
# key there is not a credential, the caller is anonymous whatever it sends.
UNAUTHENTICATED = {
    "core.api.ApiRootView",
    "accounts.api.LoginApi",
    "accounts.api.LogoutApi",
    "accounts.api.RefreshApi",
    "accounts.api.RegisterApi",
    "twofactor.api.LoginSecondStepApi",
}

_CONVERTERS = {"int": "1", "str": "x", "path": "x/y", "slug": "x", "uuid": "00000000-0000-0000-0000-000000000000"}


def _route(pattern) -> str | None:
    """A concrete path for a pattern's route (placeholders filled), or None for a regex."""
    text = str(pattern.pattern)
    if text.startswith("^") or "(?P" in text:
        return None if text not in ("^", "^api/") else text.lstrip("^")
    return re.sub(r"<(?:(\w+):)?\w+>", lambda m: _CONVERTERS[m.group(1) or "str"], text)


def _views(resolver=None, prefix: str | None = ""):
    """(path or None, view callable) for every URL pattern."""
    resolver = resolver or get_resolver()
    for pattern in resolver.url_patterns:
        route = _route(pattern)
        path = None if route is None or prefix is None else prefix + route
        if isinstance(pattern, URLResolver):
            yield from _views(pattern, path)
        elif isinstance(pattern, URLPattern):
            yield path, pattern.callback


def _name(cls) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def _api_views():
    found = {}
    for path, callback in _views():
        cls = getattr(callback, "cls", None)
        if isinstance(cls, type) and issubclass(cls, APIView):
            found.setdefault(_name(cls), (cls, []))[1].append(path)
    return found


def test_the_views_that_accept_keys_are_exactly_the_expected_ones():
    accepting = {name for name, (cls, _) in _api_views().items() if getattr(cls, "accepts_api_keys", False) is True}
    assert accepting == ACCEPTING


def test_moving_a_view_class_does_not_change_who_may_call_it():
    """The opt-in belongs to the class: a subclass defined in any module keeps it, and a
    view in generation.api without it is refused."""
    from accounts.authentication import view_accepts_api_keys
    from generation.api import GenerationListApi

    moved = type("GenerationListApi", (GenerationListApi,), {"__module__": "somewhere.else"})
    assert view_accepts_api_keys(moved())
    stray = type("Stray", (APIView,), {"__module__": "generation.api"})
    assert not view_accepts_api_keys(stray())


def test_every_other_api_view_refuses_a_key_with_403():
    secret = api_key_create(user=UserFactory(), name="script").secret
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    checked = 0
    for name, (cls, paths) in sorted(_api_views().items()):
        if name in ACCEPTING:
            continue
        authenticators = cls.authentication_classes
        if name in UNAUTHENTICATED:
            assert tuple(authenticators) == (), name
            continue
        assert ApiKeyAuthentication in authenticators, f"{name} does not say what it does with a key"
        methods = [m for m in ("get", "post", "put", "patch", "delete") if hasattr(cls, m)]
        for path in {p for p in paths if p is not None}:
            for method in methods:
                response = getattr(client, method)("/" + path, format="json")
                assert response.status_code == 403, (name, method, path, response.status_code)
                if response["Content-Type"].startswith("application/json"):
                    body = response.json()
                    detail = body.get("detail") or body.get("error", {}).get("message")
                    assert detail == API_KEY_REFUSED, (name, method, path, body)
                # (else the Swagger UI page: its HTML renderer answers a bare "403 Forbidden")
                checked += 1
    assert checked >= 20


def test_a_key_is_no_credential_on_the_sites_pages():
    secret = api_key_create(user=UserFactory(), name="script").secret
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    for page in ("/", "/users/profile", "/history", "/admin/"):
        response = client.get(page)
        assert response.status_code == 302 and "login" in response["Location"], page
