import pytest

from tests.support.provider import catalogue, fake_openrouter, fault_copies  # noqa: F401


@pytest.fixture(autouse=True)
def _media_in_tmp(media_root):
    """Every generation test stores its files in its own temporary MEDIA_ROOT."""
    return media_root


@pytest.fixture
def fault_model(catalogue):
    """A catalogue entry that the double answers with a fault: a copy of ``base`` named
    ``<base>:fault=<fault>`` (the double's model-name marker)."""
    return fault_copies("openai/gpt-4o-mini")


@pytest.fixture
def stream_post(user):
    """POST to an endpoint as ``user`` through Django's async client and read the whole
    answer on the same event loop (a streamed answer's iterator is bound to it).
    Returns (status, headers, body text)."""
    from asgiref.sync import async_to_sync
    from django.test import AsyncClient
    from rest_framework_simplejwt.tokens import AccessToken

    def post(url, body, **headers):
        async def go():
            headers["Authorization"] = f"Bearer {AccessToken.for_user(user)}"
            response = await AsyncClient().post(url, body, content_type="application/json", headers=headers)
            if response.streaming:
                content = b"".join([chunk async for chunk in response.streaming_content])
            else:
                content = response.content
            return response.status_code, response.headers, content.decode()

        return async_to_sync(go)()

    return post
