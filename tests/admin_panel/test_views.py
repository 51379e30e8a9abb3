"""The admin pages at /admin-panel/: stats, searchable users table, role changes, deletion."""

import pytest
from django.test import Client

from accounts import tokens
from accounts.models import RefreshToken, User
from tests.factories import AdminFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin():
    return AdminFactory(email="root@example.com")


@pytest.fixture
def panel(admin):
    client = Client()
    client.force_login(admin)
    return client


def test_anonymous_visitors_get_the_login_page():
    response = Client().get("/admin-panel/")
    assert response.status_code == 302 and response["Location"] == "/login?next=/admin-panel/"


def test_ordinary_users_get_a_403_page():
    client = Client()
    client.force_login(UserFactory())
    response = client.get("/admin-panel/")
    assert response.status_code == 403
    assert b"for administrators only" in response.content
    assert b'class="site-header"' in response.content  # the site's own page, not a bare error


def test_index_shows_stats_and_users(panel):
    UserFactory(email="alice@example.com")
    response = panel.get("/admin-panel/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-testid="stat-users">2<' in html and 'data-testid="stat-admins">1<' in html
    assert 'data-email="alice@example.com"' in html and 'data-email="root@example.com"' in html


def test_users_table_is_searchable_and_paginated(panel):
    for n in range(25):
        UserFactory(email=f"member{n:02d}@example.com")
    UserFactory(email="zed@other.org")
    found = panel.get("/admin-panel/", {"q": "OTHER.org"})
    assert [u.email for u in found.context["page"].object_list] == ["zed@other.org"]
    first = panel.get("/admin-panel/")
    assert len(first.context["page"].object_list) == 20
    second = panel.get("/admin-panel/", {"page": 2})
    assert len(second.context["page"].object_list) == 7


def test_promote_from_the_table_and_return_to_the_same_listing(panel):
    user = UserFactory(email="bob@example.com")
    response = panel.post(f"/admin-panel/users/{user.pk}/role", {"role": "admin", "next": "/admin-panel/?q=bob"})
    assert response.status_code == 302 and response["Location"] == "/admin-panel/?q=bob"
    user.refresh_from_db()
    assert user.is_admin
    page = panel.get("/admin-panel/?q=bob")
    assert b"bob@example.com is now an admin." in page.content


def test_demoting_the_last_admin_shows_the_refusal(panel, admin):
    response = panel.post(f"/admin-panel/users/{admin.pk}/role", {"role": "user"}, follow=True)
    assert b"last active administrator" in response.content
    admin.refresh_from_db()
    assert admin.is_admin


def test_an_admin_who_demotes_themself_lands_on_the_dashboard(panel, admin):
    AdminFactory()
    response = panel.post(f"/admin-panel/users/{admin.pk}/role", {"role": "user", "next": "/admin-panel/"})
    assert response.status_code == 302 and response["Location"] == "/"
    assert panel.get("/admin-panel/").status_code == 403


def test_a_bad_role_is_refused(panel):
    user = UserFactory()
    response = panel.post(f"/admin-panel/users/{user.pk}/role", {"role": "owner"}, follow=True)
    assert b"Choose" in response.content
    user.refresh_from_db()
    assert user.role == "user"


def test_redirects_after_actions_stay_on_this_site(panel):
    user = UserFactory()
    response = panel.post(f"/admin-panel/users/{user.pk}/role", {"role": "admin", "next": "https://evil.example/"})
    assert response["Location"] == "/admin-panel/"


def test_role_change_needs_post(panel):
    user = UserFactory()
    assert panel.get(f"/admin-panel/users/{user.pk}/role?role=admin").status_code == 405


def test_delete_asks_for_confirmation_then_deletes(panel):
    user = UserFactory(email="leaving@example.com")
    tokens.token_pair_issue(user=user)
    confirm = panel.get(f"/admin-panel/users/{user.pk}/delete")
    assert confirm.status_code == 200 and b"Yes, delete leaving@example.com" in confirm.content
    assert User.objects.filter(pk=user.pk).exists()  # a GET deletes nothing
    response = panel.post(f"/admin-panel/users/{user.pk}/delete", follow=True)
    assert b"leaving@example.com has been deleted." in response.content
    assert not User.objects.filter(pk=user.pk).exists() and not RefreshToken.objects.exists()


def test_an_admin_cannot_delete_themself_from_the_panel(panel, admin):
    confirm = panel.get(f"/admin-panel/users/{admin.pk}/delete")
    assert b"You cannot delete your own account." in confirm.content
    response = panel.post(f"/admin-panel/users/{admin.pk}/delete", follow=True)
    assert b"You cannot delete your own account." in response.content
    assert User.objects.filter(pk=admin.pk).exists()


def test_unknown_user_is_404(panel):
    assert panel.get("/admin-panel/users/987654/delete").status_code == 404
    assert panel.post("/admin-panel/users/987654/role", {"role": "admin"}).status_code == 404


def test_panel_actions_enforce_csrf(admin):
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin)
    user = UserFactory()
    assert client.post(f"/admin-panel/users/{user.pk}/role", {"role": "admin"}).status_code == 403
    assert client.post(f"/admin-panel/users/{user.pk}/delete").status_code == 403
    user.refresh_from_db()
    assert user.role == "user"
