"""Content-Security-Policy: every answer carries it, and no page needs more than it allows
(no inline script or on*= handler in the templates, Swagger UI's start-up script a URL)."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from tests.factories import AdminFactory, GenerationFactory, VideoJobFactory

pytestmark = pytest.mark.django_db

EXPECTED = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self' 'unsafe-inline'",
    "img-src": "'self' data: blob:",
    "media-src": "'self' blob:",
    "connect-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}
# <script> without a src= that is not a JSON data block (json_script), and on*= attributes.
INLINE_SCRIPT = re.compile(r"<script\b(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.I)
INLINE_HANDLER = re.compile(r"<[a-z][^>]*\son[a-z]+\s*=", re.I)


def policy(response) -> dict:
    header = response.get("Content-Security-Policy")
    assert header, f"no Content-Security-Policy on {response.request['PATH_INFO']}"
    parts = (part.strip().split(None, 1) for part in header.split(";") if part.strip())
    return {name: value for name, value in parts}


def assert_no_inline_code(html: str, where: str) -> None:
    script = INLINE_SCRIPT.search(html)
    assert script is None, f"inline <script> in {where}: {script[0]}"
    handler = INLINE_HANDLER.search(html)
    assert handler is None, f"inline handler in {where}: {handler[0]}"


@pytest.fixture
def web(client, user):
    client.force_login(user)
    return client


@pytest.mark.parametrize("path", ["/login", "/register", "/api/", "/api/docs/", "/healthz", "/no-such-page"])
def test_every_answer_carries_the_policy(client, path):
    assert policy(client.get(path, HTTP_ACCEPT="text/html")) == EXPECTED


def test_signed_in_pages_carry_the_policy_and_no_inline_code(web, user):
    generation = GenerationFactory(owner=user, text="Some *answer*")
    job = VideoJobFactory(owner=user)
    paths = [
        reverse(name)
        for name in (
            "dashboard",
            "generation:text",
            "generation:image",
            "generation:history",
            "videos:generate",
            "videos:gallery",
            "accounts:profile",
        )
    ]
    paths += [reverse("generation:detail", args=[generation.pk]), reverse("videos:job", args=[job.pk])]
    for path in paths:
        response = web.get(path)
        assert response.status_code == 200, path
        assert policy(response)["script-src"] == "'self'", path
        assert_no_inline_code(response.content.decode(), path)


def test_the_delete_form_asks_through_a_data_attribute_and_a_static_script(web, user):
    generation = GenerationFactory(owner=user)
    html = web.get(f"/history/{generation.pk}").content.decode()
    form = re.search(r'<form[^>]*action="/history/%d/delete"[^>]*>' % generation.pk, html)[0]
    assert 'data-confirm="Delete this generation and its files?"' in form and "onsubmit" not in form
    assert re.search(r'<script src="/static/js/confirm(\.[0-9a-f]+)?\.js" defer>', html)


def test_no_template_has_inline_script_or_handlers():
    from django.apps import apps

    # The site's folder and the project apps' own (teams/templates, twofactor/templates...).
    folders = [*settings.TEMPLATES[0]["DIRS"]]
    folders += [
        Path(app.path) / "templates" for app in apps.get_app_configs() if Path(app.path).parent == settings.BASE_DIR
    ]
    templates = [p for d in folders for p in Path(d).rglob("*.html")]
    assert templates
    assert any("twofactor" in str(template) for template in templates)
    for template in templates:
        assert_no_inline_code(template.read_text(), str(template))


def test_swagger_ui_loads_its_start_up_script_from_a_url(client):
    html = client.get("/api/docs/").content.decode()
    assert_no_inline_code(html, "/api/docs/")
    script = re.search(r'<script src="(/api/docs/\?script=?)"', html)[1]
    response = client.get(script)
    assert response.status_code == 200 and response["Content-Type"].startswith("application/javascript")
    assert b"SwaggerUIBundle" in response.content


def test_admin_and_browsable_api_need_no_inline_script(client):
    admin = AdminFactory()
    client.force_login(admin)
    for path in [
        "/admin/",
        "/admin/accounts/user/",
        f"/admin/accounts/user/{admin.pk}/change/",
        "/api/",
        "/api/users/me",
    ]:
        response = client.get(path, HTTP_ACCEPT="text/html")
        assert response.status_code == 200, path
        assert policy(response)["script-src"] == "'self'", path
        assert_no_inline_code(response.content.decode(), path)


def test_the_policy_built_once_still_follows_views_and_settings(client, settings):
    """The policy of an unchanged answer is kept between answers (core.middleware): a view's
    own change still applies to its answers only, and a change of the setting at once."""
    assert policy(client.get("/login"))["default-src"] == "'self'"
    redoc = policy(client.get("/api/redoc/"))
    assert redoc["worker-src"] == "'self' blob:"
    assert "worker-src" not in policy(client.get("/login"))

    settings.CONTENT_SECURITY_POLICY = {
        **settings.CONTENT_SECURITY_POLICY,
        "DIRECTIVES": {**settings.CONTENT_SECURITY_POLICY["DIRECTIVES"], "default-src": ["'none'"]},
    }
    assert policy(client.get("/login"))["default-src"] == "'none'"
