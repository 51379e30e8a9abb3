"""Error pages carry the site's look and a way back, with DEBUG off."""

import pytest
from django.test import RequestFactory
from django.views.defaults import server_error

from tests.factories import UserFactory


@pytest.mark.django_db
def test_unknown_page_is_a_404_inside_the_site_layout(client):
    client.force_login(UserFactory())
    response = client.get("/no-such-page")
    page = response.content.decode()
    assert response.status_code == 404
    assert 'data-testid="not-found"' in page and 'data-testid="header-email"' in page
    assert 'href="/"' in page


def test_server_error_page_stands_alone():
    response = server_error(RequestFactory().get("/"))
    page = response.content.decode()
    assert response.status_code == 500
    assert 'data-testid="server-error"' in page and "css/studio.css" in page
