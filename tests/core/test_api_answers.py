"""Every answer under /api/ is JSON: unknown paths, wrong methods, unknown formats and
server errors; the site's other paths keep their HTML pages. /api/ itself lists the API."""

import json

import pytest
import yaml
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

UNKNOWN_API_PATHS = [
    "/api/nothing",
    "/api/generate/video/abc/status",
    "/api/generations/abc",
    "/api/users/me/extra",
    "/api/auth/",
]


def _json(response):
    assert response["Content-Type"].startswith("application/json"), (response.status_code, response["Content-Type"])
    return json.loads(response.content)


@pytest.mark.parametrize("path", UNKNOWN_API_PATHS)
@pytest.mark.parametrize("method", ["get", "post", "put", "delete"])
def test_unknown_api_path_is_a_json_404(path, method):
    response = getattr(Client(), method)(path, HTTP_ACCEPT="text/html")
    assert response.status_code == 404
    assert _json(response) == {"detail": "Not found."}


def test_unknown_api_path_is_a_json_404_for_a_signed_in_user_too():
    client = Client()
    client.force_login(UserFactory())
    response = client.get("/api/nothing")
    assert response.status_code == 404 and _json(response) == {"detail": "Not found."}


def test_an_api_path_missing_its_trailing_slash_still_redirects():
    response = Client().get("/api/schema")
    assert response.status_code == 301 and response["Location"] == "/api/schema/"


def test_unknown_site_path_keeps_the_html_page():
    response = Client().get("/no-such-page")
    assert response.status_code == 404 and response["Content-Type"].startswith("text/html")


def test_wrong_method_on_an_api_path_is_json_405():
    for method, path in (("delete", "/api/"), ("post", "/api/schema/"), ("put", "/api/auth/login")):
        response = getattr(Client(), method)(path)
        assert response.status_code == 405, path
        assert "detail" in _json(response)


def test_unknown_format_is_a_documented_406():
    client = Client()
    client.force_login(UserFactory())
    for path in ("/api/models?format=unknown", "/api/generations?format=xml", "/api/?format=yaml2"):
        response = client.get(path)
        assert response.status_code == 406, path
        assert "unknown" in _json(response)["detail"].lower()
    schema = yaml.safe_load(client.get("/api/schema/").content)
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            assert "406" in operation["responses"], (method, path)


@pytest.mark.urls("tests.core.api_error_urls")
def test_server_error_is_json_under_api_and_the_html_page_elsewhere():
    client = Client(raise_request_exception=False)
    response = client.get("/api/boom")
    assert response.status_code == 500 and _json(response) == {"detail": "Server error."}
    page = client.get("/boom")
    assert page.status_code == 500 and page["Content-Type"].startswith("text/html")
    assert b'data-testid="server-error"' in page.content


def test_error_handlers_answer_json_for_api_paths_only():
    from django.core.exceptions import PermissionDenied, SuspiciousOperation
    from django.http import Http404
    from django.test import RequestFactory

    from core import api

    factory = RequestFactory()
    for handler, exc, status in (
        (api.bad_request, SuspiciousOperation(), 400),
        (api.permission_denied, PermissionDenied(), 403),
        (api.page_not_found, Http404(), 404),
    ):
        assert handler(factory.get("/api/x"), exc)["Content-Type"] == "application/json"
        assert handler(factory.get("/api/x"), exc).status_code == status
        assert handler(factory.get("/x"), exc)["Content-Type"].startswith("text/html")
    assert api.server_error(factory.get("/api/x"))["Content-Type"] == "application/json"


# ------------------------------------------------------------------ the API root


def _named_api_urls() -> set[str]:
    names = set()
    for entry in get_resolver().url_patterns:
        if isinstance(entry, URLResolver) and str(entry.pattern) == "api/" and entry.namespace:
            names |= {f"{entry.namespace}:{p.name}" for p in entry.url_patterns if isinstance(p, URLPattern) and p.name}
    return names


def test_api_root_lists_every_named_api_url_with_absolute_links():
    response = Client().get("/api/", HTTP_AUTHORIZATION="Bearer stale-token")
    assert response.status_code == 200
    links = _json(response)
    assert set(links) == _named_api_urls() | {"schema", "docs"}
    assert {"accounts-api:login", "generation-api:generations", "videos-api:status"} <= set(links)
    assert links["generation-api:generations"] == "http://testserver/api/generations"
    assert links["generation-api:generation"] == "http://testserver/api/generations/{pk}"
    assert links["schema"] == "http://testserver/api/schema/"
    client = Client()
    client.force_login(UserFactory())
    for name, url in links.items():
        if "{" not in url and name != "docs":
            # 403: admins only; 405: POST only; 400: needs a query parameter (the live events' ids)
            assert client.get(url).status_code in (200, 400, 403, 405), name


def test_api_root_is_browsable_for_browsers():
    response = Client().get("/api/", HTTP_ACCEPT="text/html")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/html")
    assert b"Studio API" in response.content and b"http://testserver/api/generations" in response.content


# ------------------------------------------------------------------ the schema


@pytest.fixture(scope="module")
def schema(django_db_blocker):
    with django_db_blocker.unblock():
        return yaml.safe_load(Client().get("/api/schema/").content)


def test_generation_list_is_documented_as_the_page_object_it_answers(schema):
    answer = schema["paths"]["/api/generations"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert "$ref" in answer, "documented as an array, answered as a page"
    page = schema["components"]["schemas"][answer["$ref"].rsplit("/", 1)[-1]]
    assert page["type"] == "object" and set(page["properties"]) == {"count", "next", "previous", "results"}
    assert page["properties"]["results"]["items"] == {"$ref": "#/components/schemas/GenerationOut"}
    client = Client()
    client.force_login(UserFactory())
    body = _json(client.get("/api/generations"))
    assert set(body) == set(page["properties"])
    assert client.get("/api/generations?page=9").status_code == 404
    assert "404" in schema["paths"]["/api/generations"]["get"]["responses"]


EXPECTED_TAGS = {
    ("/api/", "get"): "api",
    ("/api/auth/login", "post"): "auth",
    ("/api/auth/register", "post"): "auth",
    ("/api/users/me", "get"): "users",
    ("/api/users/{user_id}/role", "put"): "users",
    ("/api/models", "get"): "models",
    ("/api/generations", "get"): "generations",
    ("/api/generations/{id}", "delete"): "generations",
    ("/api/generate/text", "post"): "generations",
    ("/api/generate/image", "post"): "generations",
    ("/api/generate/video", "post"): "videos",
    ("/api/generate/video/{id}/status", "get"): "videos",
    ("/api/generate/videos", "get"): "videos",
    ("/api/admin/stats", "get"): "admin",
}


def test_operations_are_grouped_by_product_area(schema):
    declared = {tag["name"]: tag.get("description") for tag in schema["tags"]}
    assert {"auth", "users", "models", "generations", "videos", "admin"} <= set(declared)
    assert all(declared.values()), "every tag has a description"
    for (path, method), tag in EXPECTED_TAGS.items():
        assert schema["paths"][path][method]["tags"] == [tag], (method, path)
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            assert len(operation["tags"]) == 1 and operation["tags"][0] in declared, (method, path)


def test_tag_for_path_names_new_areas_by_their_first_segment():
    from core.schema import tag_for_path

    assert tag_for_path("/api/generate/video/{id}/events") == "videos"
    assert tag_for_path("/api/auth/logout-all") == "auth"
    assert tag_for_path("/api/widgets/{id}") == "widgets"


def test_error_answers_have_bodies_and_common_ones_are_documented(schema):
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            for code, answer in operation["responses"].items():
                if code >= "400":
                    assert answer.get("content"), (method, path, code)
            if {"jwtAuth": []} in operation.get("security", []):
                assert "401" in operation["responses"], (method, path)
    for path in ("/api/generate/text", "/api/generate/image", "/api/generate/video", "/api/auth/login"):
        assert "429" in schema["paths"][path]["post"]["responses"], path


# ------------------------------------------------------------------ found by schemathesis


def test_unsafe_request_with_a_session_but_no_csrf_token_is_json_under_api():
    client = Client(enforce_csrf_checks=True)
    client.force_login(UserFactory())
    for path in ("/api/generations/abc", "/api/generations/1"):
        response = client.delete(path)
        assert response.status_code in (403, 404), path
        assert "detail" in _json(response)


def test_a_query_parameter_given_twice_is_a_json_400():
    client = Client()
    client.force_login(UserFactory())
    response = client.get("/api/generations?page=1&page=2")
    assert response.status_code == 400 and "page" in _json(response)["detail"]
    assert client.get("/api/generations?page=").status_code == 200  # empty counts as absent


def test_schema_states_empty_optional_query_values_sse_events_and_html_404s(schema):
    generations = schema["paths"]["/api/generations"]["get"]
    assert all(p.get("allowEmptyValue") for p in generations["parameters"] if p["in"] == "query")
    assert "400" in generations["responses"]
    text = schema["paths"]["/api/generate/text"]["post"]["responses"]
    event = text["401"]["content"]["text/event-stream"]["schema"]
    assert event["properties"]["event"]["enum"] == ["error"] and "data" in event["required"]
    video_file = schema["paths"]["/generate/video/{id}/file"]["get"]["responses"]["404"]["content"]
    assert {"application/json", "text/html"} <= set(video_file)
