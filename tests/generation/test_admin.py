"""The Django admin for generations: a console to inspect and delete, not to create."""

import pytest

from generation.models import Generation
from tests.factories import GenerationFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_web(client, admin_user):
    client.force_login(admin_user)
    return client


def test_generations_cannot_be_added_in_the_django_admin(admin_web):
    # The add form had only read-only fields, so saving it hit the NOT NULL owner (a 500).
    assert admin_web.get("/admin/generation/generation/add/").status_code == 403
    # (403 raised inside the admin's atomic block: on DuckDB, without savepoints, the test's
    # transaction cannot be queried afterwards, so the status code is the whole check.)
    assert admin_web.post("/admin/generation/generation/add/", {"_save": "Save"}).status_code == 403


def test_the_generation_list_offers_no_add_link(admin_web):
    page = admin_web.get("/admin/generation/generation/").content.decode()
    assert "/admin/generation/generation/add/" not in page


def test_a_generation_can_still_be_viewed_and_deleted(admin_web, user):
    generation = GenerationFactory(owner=user, prompt="hi")
    assert admin_web.get(f"/admin/generation/generation/{generation.pk}/change/").status_code == 200
    response = admin_web.post(f"/admin/generation/generation/{generation.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302 and not Generation.objects.exists()
