"""OpenAPI: every accounts and admin endpoint is described with its bodies and error codes."""

import re

import pytest
import yaml
from django.test import Client

pytestmark = pytest.mark.django_db

# (path, method): status codes the schema must state.
DOCUMENTED = {
    ("/api/auth/register", "post"): {"201", "400", "403", "429"},
    ("/api/auth/login", "post"): {"200", "400", "401", "429"},
    ("/api/auth/refresh", "post"): {"200", "400", "401"},
    ("/api/auth/logout", "post"): {"204", "400", "401"},
    ("/api/users/me", "get"): {"200", "401"},
    ("/api/users/me", "put"): {"200", "400", "401"},
    ("/api/users/me", "patch"): {"200", "400", "401"},
    ("/api/admin/stats", "get"): {"200", "401", "403"},
    ("/api/users/{user_id}", "delete"): {"204", "401", "403", "404", "409"},
    ("/api/users/{user_id}/role", "put"): {"200", "400", "401", "403", "404", "409"},
    ("/api/users/{user_id}/approve", "post"): {"200", "401", "403", "404", "409"},
    ("/api/models/{model_id}", "patch"): {"200", "400", "401", "403", "404"},
}
WITH_BODY = {
    "/api/auth/register",
    "/api/auth/login",
    "/api/auth/refresh",
    "/api/auth/logout",
    "/api/users/{user_id}/role",
}


@pytest.fixture(scope="module")
def schema(django_db_blocker):
    with django_db_blocker.unblock():
        response = Client().get("/api/schema/")
    assert response.status_code == 200
    return yaml.safe_load(response.content)


@pytest.mark.parametrize("path, method", sorted(DOCUMENTED))
def test_endpoint_states_its_answers(schema, path, method):
    operation = schema["paths"][path][method]
    assert set(operation["responses"]) >= DOCUMENTED[(path, method)]
    if path in WITH_BODY or method in ("put", "patch"):
        assert "application/json" in operation["requestBody"]["content"]
    for code, answer in operation["responses"].items():
        if code not in ("204",):
            assert answer.get("content") or answer.get("description"), (path, method, code)


def test_token_endpoints_need_no_credentials_and_the_rest_a_bearer_token(schema):
    login = schema["paths"]["/api/auth/login"]["post"]
    assert login.get("security") in (None, [], [{}])
    me = schema["paths"]["/api/users/me"]["get"]
    assert {"jwtAuth": []} in me["security"]


def test_login_answer_names_tokens_and_user(schema):
    ref = schema["paths"]["/api/auth/login"]["post"]["responses"]["200"]["content"]["application/json"]["schema"][
        "$ref"
    ]
    component = schema["components"]["schemas"][ref.rsplit("/", 1)[-1]]
    assert set(component["properties"]) == {"access", "refresh", "user"}


def test_interactive_docs_are_served_without_a_cdn():
    client = Client()
    response = client.get("/api/docs/")
    assert response.status_code == 200 and b"swagger" in response.content.lower()
    html = response.content.decode()
    assert "http://" not in html and "https://" not in html, "docs must not load assets from elsewhere"
    assets = re.findall(r'"(/static/[^"]+)"', html)
    assert any(asset.endswith("swagger-ui-bundle.js") for asset in assets)
    for asset in assets:
        assert client.get(asset).status_code == 200, asset
