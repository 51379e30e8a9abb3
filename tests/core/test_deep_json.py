"""JSON nested too deeply for Python's json module answers 400 on every JSON endpoint,
anonymous or not, instead of a RecursionError (a 500 with a traceback in the log)."""

import logging

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework import parsers as drf_parsers
from rest_framework.test import APIClient

from accounts.api_keys import api_key_create
from core.parsers import JSONParser
from tests.factories import UserFactory
from tests.support.accounts import bearer_client

pytestmark = pytest.mark.django_db

DEEP = "[" * 100_000


def post_deep(client, path):
    return client.generic("POST", path, DEEP, content_type="application/json")


def test_an_anonymous_deep_document_to_register_is_400_and_logs_no_traceback(caplog):
    with caplog.at_level(logging.WARNING):
        response = post_deep(APIClient(), "/api/auth/register")
    assert response.status_code == 400
    assert "nested too deeply" in response.json()["detail"]
    assert not [r for r in caplog.records if r.exc_info or "RecursionError" in r.getMessage()]


def test_a_deep_document_to_login_and_to_a_signed_in_endpoint_is_400():
    assert post_deep(APIClient(), "/api/auth/login").status_code == 400
    assert post_deep(bearer_client(UserFactory()), "/api/conversations").status_code == 400
    assert post_deep(bearer_client(UserFactory()), "/api/generate/text").status_code == 400


def test_a_deep_document_to_the_openai_api_is_400_in_its_error_shape():
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {api_key_create(user=UserFactory(), name='k').secret}")
    response = post_deep(client, "/v1/chat/completions")
    assert response.status_code == 400
    assert "nested too deeply" in response.json()["error"]["message"]


def test_no_view_parses_json_with_drfs_own_parser():
    def views(resolver):
        for pattern in resolver.url_patterns:
            if isinstance(pattern, URLResolver):
                yield from views(pattern)
            elif isinstance(pattern, URLPattern):
                yield getattr(pattern.callback, "cls", None)

    for cls in filter(None, views(get_resolver())):
        for parser in getattr(cls, "parser_classes", ()):
            if issubclass(parser, drf_parsers.JSONParser):
                assert issubclass(parser, JSONParser), (cls, parser)
