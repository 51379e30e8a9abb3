"""Who may do what: every accounts/admin endpoint and page for anonymous, the user, another
user and an admin. "the user" owns the account the {id} endpoints act on."""

import pytest
from django.test import Client
from rest_framework.test import APIClient

from accounts import tokens
from accounts.models import User
from tests.factories import DEFAULT_PASSWORD, AdminFactory, UserFactory
from tests.support.accounts import STRONG_PASSWORD, bearer_client

pytestmark = pytest.mark.django_db

ACTORS = ("anonymous", "user", "other", "admin")
LOGIN = "/login"


@pytest.fixture
def world():
    return {
        "user": UserFactory(email="owner@example.com"),
        "other": UserFactory(email="other@example.com"),
        "admin": AdminFactory(email="admin@example.com"),
    }


def api_client(world, actor) -> APIClient:
    return APIClient() if actor == "anonymous" else bearer_client(world[actor])


def web_client(world, actor) -> Client:
    client = Client()
    if actor != "anonymous":
        client.force_login(world[actor])
    return client


# (name, call(client, world) -> response, expected status per actor)
API = [
    (
        "register",
        lambda c, w: c.post(
            "/api/auth/register", {"email": f"new-{id(c)}@example.com", "password": STRONG_PASSWORD}, format="json"
        ),
        {"anonymous": 201, "user": 201, "other": 201, "admin": 201},
    ),
    (
        "login",
        lambda c, w: c.post(
            "/api/auth/login", {"email": "owner@example.com", "password": DEFAULT_PASSWORD}, format="json"
        ),
        {a: 200 for a in ACTORS},
    ),
    (
        "refresh",
        lambda c, w: c.post(
            "/api/auth/refresh", {"refresh": tokens.token_pair_issue(user=w["user"]).refresh}, format="json"
        ),
        {a: 200 for a in ACTORS},
    ),
    (
        "logout",
        lambda c, w: c.post(
            "/api/auth/logout", {"refresh": tokens.token_pair_issue(user=w["user"]).refresh}, format="json"
        ),
        {a: 204 for a in ACTORS},
    ),
    ("me", lambda c, w: c.get("/api/users/me"), {"anonymous": 401, "user": 200, "other": 200, "admin": 200}),
    (
        "me update",
        lambda c, w: c.patch("/api/users/me", {"current_password": DEFAULT_PASSWORD}, format="json"),
        {"anonymous": 401, "user": 200, "other": 200, "admin": 200},
    ),
    ("stats", lambda c, w: c.get("/api/admin/stats"), {"anonymous": 401, "user": 403, "other": 403, "admin": 200}),
    (
        "delete user",
        lambda c, w: c.delete(f"/api/users/{w['user'].pk}"),
        {"anonymous": 401, "user": 403, "other": 403, "admin": 204},
    ),
    (
        "set role",
        lambda c, w: c.put(f"/api/users/{w['user'].pk}/role", {"role": "admin"}, format="json"),
        {"anonymous": 401, "user": 403, "other": 403, "admin": 200},
    ),
]

ADMIN_LOGIN = "/admin/login/"
PAGES = [
    ("dashboard", lambda c, w: c.get("/"), {"anonymous": LOGIN, "user": 200, "other": 200, "admin": 200}),
    ("profile", lambda c, w: c.get("/users/profile"), {"anonymous": LOGIN, "user": 200, "other": 200, "admin": 200}),
    ("panel", lambda c, w: c.get("/admin-panel/"), {"anonymous": LOGIN, "user": 403, "other": 403, "admin": 200}),
    (
        "panel role",
        lambda c, w: c.post(f"/admin-panel/users/{w['user'].pk}/role", {"role": "admin"}),
        {"anonymous": LOGIN, "user": 403, "other": 403, "admin": 302},
    ),
    (
        "panel delete page",
        lambda c, w: c.get(f"/admin-panel/users/{w['user'].pk}/delete"),
        {"anonymous": LOGIN, "user": 403, "other": 403, "admin": 200},
    ),
    (
        "panel delete",
        lambda c, w: c.post(f"/admin-panel/users/{w['user'].pk}/delete"),
        {"anonymous": LOGIN, "user": 403, "other": 403, "admin": 302},
    ),
    (
        "django admin users",
        lambda c, w: c.get("/admin/accounts/user/"),
        {"anonymous": ADMIN_LOGIN, "user": ADMIN_LOGIN, "other": ADMIN_LOGIN, "admin": 200},
    ),
    (
        "django admin user",
        lambda c, w: c.get(f"/admin/accounts/user/{w['user'].pk}/change/"),
        {"anonymous": ADMIN_LOGIN, "user": ADMIN_LOGIN, "other": ADMIN_LOGIN, "admin": 200},
    ),
    (
        "django admin tokens",
        lambda c, w: c.get("/admin/accounts/refreshtoken/"),
        {"anonymous": ADMIN_LOGIN, "user": ADMIN_LOGIN, "other": ADMIN_LOGIN, "admin": 200},
    ),
]


def _target_untouched(world):
    target = User.objects.get(pk=world["user"].pk)
    return target.role == "user"


@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize("name, call, expected", API, ids=[row[0] for row in API])
def test_api(world, actor, name, call, expected):
    response = call(api_client(world, actor), world)
    assert response.status_code == expected[actor], response.content
    if name in ("me", "me update") and actor != "anonymous":
        assert response.json()["email"] == world[actor].email  # always one's own account
    if response.status_code in (401, 403):
        assert _target_untouched(world)


@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize("name, call, expected", PAGES, ids=[row[0] for row in PAGES])
def test_pages(world, actor, name, call, expected):
    response = call(web_client(world, actor), world)
    want = expected[actor]
    if isinstance(want, str):  # a redirect to a login page
        assert response.status_code == 302 and response["Location"].startswith(want + "?next="), response
    else:
        assert response.status_code == want
    if want in (403, LOGIN, ADMIN_LOGIN):
        assert User.objects.filter(pk=world["user"].pk).exists() and _target_untouched(world)
