"""Structured logs: one JSON line per request and per provider call (LOG_FORMAT=json), the
request id the response carries repeated on every line of the request, and no secret in
any line."""

from __future__ import annotations

import io
import json
import logging

import pytest
from rest_framework.test import APIClient

from accounts import api_keys
from operations.logs import JsonFormatter, RequestIdFilter, TextFormatter, redact
from tests.factories import DEFAULT_PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture
def json_lines(settings):
    """Every record any logger writes during the test, as the JSON lines LOG_FORMAT=json
    makes (the same formatter and filter settings.LOGGING installs)."""
    settings.LOG_REQUESTS = True
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestIdFilter())
    root = logging.getLogger()
    levels = {name: logging.getLogger(name).level for name in ("studio.requests", "openrouter.calls")}
    for name in levels:
        logging.getLogger(name).setLevel(logging.INFO)
    root.addHandler(handler)
    try:

        class Lines:
            def __call__(self):
                return [json.loads(line) for line in out.getvalue().splitlines()]

            def clear(self):
                out.seek(0)
                out.truncate()

        yield Lines()
    finally:
        root.removeHandler(handler)
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)


def test_one_line_per_request_and_per_provider_call_with_the_request_id(json_lines, user, catalogue):
    json_lines.clear()  # the catalogue's sync
    client = APIClient()
    client.force_authenticate(user)
    response = client.post(
        "/api/generate/text",
        {"prompt": "hello", "model": "openai/gpt-4o-mini"},
        format="json",
        HTTP_X_REQUEST_ID="client-trace-0001",
    )
    assert response.status_code == 200 and response["X-Request-ID"] == "client-trace-0001"
    lines = json_lines()
    requests_ = [line for line in lines if line.get("event") == "request"]
    calls = [line for line in lines if line.get("event") == "provider_call"]
    assert len(requests_) == 1 and len(calls) == 1
    assert requests_[0]["request_id"] == calls[0]["request_id"] == "client-trace-0001"
    assert requests_[0]["route"] == "generation-api:generate-text" and requests_[0]["status"] == 200
    assert requests_[0]["method"] == "POST" and requests_[0]["path"] == "/api/generate/text"
    assert requests_[0]["duration_ms"] >= 0 and requests_[0]["user_id"] == user.pk
    assert calls[0]["endpoint"] == "chat" and calls[0]["outcome"] == "ok" and calls[0]["status"] == 200
    assert all(line["request_id"] == "client-trace-0001" for line in lines if line["logger"] != "openrouter.fake")


def test_no_password_token_or_key_reaches_a_log_line(json_lines, user, settings):
    settings.OPENROUTER_API_KEY = "sk-or-v1-provider-secret-key"
    client = APIClient()
    login = client.post("/api/auth/login", {"email": user.email, "password": DEFAULT_PASSWORD}, format="json")
    assert login.status_code == 200
    access, refresh = login.json()["access"], login.json()["refresh"]
    wrong = client.post("/api/auth/login", {"email": user.email, "password": "Wrong-password-77"}, format="json")
    assert wrong.status_code == 401
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    assert client.get("/api/users/me?token=query-secret-42").status_code == 200
    secret = client.post("/api/keys", {"name": "ci"}, format="json").json()["key"]
    keyed = APIClient()
    keyed.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    keyed.get("/v1/models")
    client.post("/api/auth/refresh", {"refresh": refresh}, format="json")
    # Code that logs a secret by mistake is redacted too.
    logging.getLogger("studio.test").warning(
        "careless: Authorization: Bearer %s password=%s key %s", access, DEFAULT_PASSWORD, secret
    )
    text = "\n".join(json.dumps(line) for line in json_lines())
    assert len(json_lines()) >= 6
    for leaked in (
        DEFAULT_PASSWORD,
        "Wrong-password-77",
        access,
        refresh,
        secret,
        "query-secret-42",
        "provider-secret",
    ):
        assert leaked not in text, leaked
    assert "[redacted]" in text


def test_redact_covers_the_shapes_secrets_take():
    jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig_nature-123"
    for secret, line in [
        ("abc.def.ghi", "Authorization: Bearer abc.def.ghi"),
        ("sk-studio-0123456789abcdef", "used sk-studio-0123456789abcdef"),
        ("sk-or-v1-abcdef0123456789", "key=sk-or-v1-abcdef0123456789"),
        (jwt, f"token {jwt}"),
        ("hunter2!", '{"password": "hunter2!"}'),
        ("hunter2!", "password=hunter2!&next=/"),
        ("s3cr3t", "secret: s3cr3t"),
    ]:
        assert secret not in redact(line), line
    assert redact("a plain line about 3 tokens used") == "a plain line about 3 tokens used"


def test_secret_named_fields_passed_as_extra_are_redacted():
    record = logging.makeLogRecord({"msg": "x", "password": "hunter2", "api_key": "k", "Authorization": "Bearer t"})
    line = json.loads(JsonFormatter().format(record))
    assert line["password"] == line["api_key"] == line["Authorization"] == "[redacted]"


def test_plain_text_stays_the_default_and_carries_the_request_id(settings):
    from config import settings as studio_settings

    assert (
        studio_settings.LOG_FORMAT == "text" and studio_settings.LOGGING["handlers"]["console"]["formatter"] == "text"
    )
    record = logging.makeLogRecord({"msg": "hello %s", "args": ("Bearer abc.def",), "levelname": "INFO", "name": "x"})
    record.request_id = "rid-12345678"
    text = TextFormatter("%(levelname)s %(name)s: %(message)s").format(record)
    assert text == "[rid-12345678] INFO x: hello Bearer [redacted]"


def test_api_key_use_logs_no_key(json_lines, user):
    created = api_keys.api_key_create(user=user, name="x")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {created.secret}")
    client.get("/v1/models")
    assert created.secret not in json.dumps(json_lines())
