"""VersionedJWTAuthentication.aprepare: an async view's token user is read ahead on the
event loop, together with concurrent requests' users, and refused as SimpleJWT would."""

import asyncio

import pytest
from asgiref.sync import async_to_sync
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from rest_framework.request import Request
from rest_framework_simplejwt.exceptions import AuthenticationFailed

from accounts import tokens
from accounts.authentication import VersionedJWTAuthentication
from accounts.models import User
from accounts.tokens import STALE_VERSION_MESSAGE
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def _request(token) -> Request:
    return Request(RequestFactory().get("/api/generations", HTTP_AUTHORIZATION=f"Bearer {token}"))


def _user_reads(queries) -> int:
    return sum('FROM "users"' in query["sql"] for query in queries.captured_queries)


def _prepared(token) -> tuple[VersionedJWTAuthentication, Request]:
    auth, request = VersionedJWTAuthentication(), _request(token)
    async_to_sync(auth.aprepare)(request)
    return auth, request


def test_the_user_read_ahead_is_the_one_authenticated_with_no_further_read():
    user = UserFactory()
    auth, request = _prepared(tokens.access_token_for(user=user))
    with CaptureQueriesContext(connection) as queries:
        authenticated, _ = auth.authenticate(request)
    assert authenticated.pk == user.pk and _user_reads(queries) == 0


def test_concurrent_requests_users_are_read_in_one_query():
    users = [UserFactory() for _ in range(6)]
    pairs = [(VersionedJWTAuthentication(), _request(tokens.access_token_for(user=user))) for user in users * 2]

    async def main():
        await asyncio.gather(*(auth.aprepare(request) for auth, request in pairs))

    with CaptureQueriesContext(connection) as queries:
        async_to_sync(main)()
    # The first request's read goes at once; all the others come while it runs.
    assert 1 <= _user_reads(queries) <= 2
    authenticated = [auth.authenticate(request)[0] for auth, request in pairs]
    assert [user.pk for user in authenticated] == [user.pk for user in users * 2]
    # The same user in two requests is two objects.
    assert authenticated[0] is not authenticated[6]


def test_a_user_deactivated_is_refused():
    user = UserFactory()
    token = tokens.access_token_for(user=user)
    User.objects.filter(pk=user.pk).update(is_active=False)
    auth, request = _prepared(token)
    with pytest.raises(AuthenticationFailed) as refused:
        auth.authenticate(request)
    assert "inactive" in str(refused.value.detail)


def test_a_user_deleted_is_refused():
    user = UserFactory()
    token = tokens.access_token_for(user=user)
    user.delete()
    auth, request = _prepared(token)
    with pytest.raises(AuthenticationFailed) as refused:
        auth.authenticate(request)
    assert "not found" in str(refused.value.detail)


def test_a_token_of_ended_sessions_is_refused():
    user = UserFactory()
    token = tokens.access_token_for(user=user)
    tokens.user_sessions_end(user=user)
    auth, request = _prepared(token)
    with pytest.raises(AuthenticationFailed) as refused:
        auth.authenticate(request)
    assert refused.value.detail["detail"] == STALE_VERSION_MESSAGE


@pytest.mark.parametrize("header", ["Bearer not-a-token", "Bearer sk-studio-abc", "Basic abc", ""])
def test_other_credentials_are_not_read_ahead(header):
    auth = VersionedJWTAuthentication()
    request = Request(RequestFactory().get("/api/generations", HTTP_AUTHORIZATION=header))
    with CaptureQueriesContext(connection) as queries:
        async_to_sync(auth.aprepare)(request)
    assert _user_reads(queries) == 0 and auth._read_before is None
