"""REGISTRATION: "open" (the default: in at once), "approval" (new accounts wait, inactive,
until an administrator approves them; only the right password hears so) and "closed"
(register refused; administrators add accounts), through the API, the pages, the admin
panel and the Django admin."""

import pytest
from django.test import Client
from rest_framework.test import APIClient

from accounts import services
from accounts.models import User
from tests.conftest import run_manage
from tests.factories import DEFAULT_PASSWORD, UserFactory
from tests.support.accounts import STRONG_PASSWORD, bearer_client

pytestmark = pytest.mark.django_db

EMAIL = "waiting@example.com"
WAITING = "waiting for approval"


def _register_api(email=EMAIL):
    return APIClient().post("/api/auth/register", {"email": email, "password": STRONG_PASSWORD}, format="json")


def _login_api(email=EMAIL, password=STRONG_PASSWORD):
    return APIClient().post("/api/auth/login", {"email": email, "password": password}, format="json")


def _login_page(email=EMAIL, password=STRONG_PASSWORD):
    client = Client()
    return client, client.post("/login", {"username": email, "password": password})


def _panel(admin):
    client = Client()
    client.force_login(admin)
    return client


@pytest.fixture
def approval(settings):
    settings.REGISTRATION = "approval"


@pytest.fixture
def closed(settings):
    settings.REGISTRATION = "closed"


# ------------------------------------------------------------------ open (the default)


def test_open_is_the_default_and_lets_people_in_at_once(settings):
    assert settings.REGISTRATION == "open"
    response = _register_api()
    assert response.status_code == 201 and response.json()["status"] == "active"
    user = User.objects.get(email=EMAIL)
    assert user.is_active and user.approved_at is not None and not user.is_pending
    assert _login_api().status_code == 200


def test_an_unknown_registration_mode_stops_the_site_from_starting():
    result = run_manage("check", env={"REGISTRATION": "sometimes"})
    assert result.returncode != 0 and "REGISTRATION" in result.stderr


# ------------------------------------------------------------------ approval


def test_approval_through_the_api(approval, admin_user):
    response = _register_api()
    assert response.status_code == 201
    assert response.json()["status"] == "pending"
    user = User.objects.get(email=EMAIL)
    assert not user.is_active and user.approved_at is None and user.is_pending and user.status == "pending"

    refused = _login_api()
    assert refused.status_code == 401 and WAITING in refused.json()["detail"]

    approved = bearer_client(admin_user).post(f"/api/users/{user.pk}/approve")
    assert approved.status_code == 200
    assert approved.json() == {"id": user.pk, "email": EMAIL, "role": "user", "status": "active"}
    user.refresh_from_db()
    assert user.is_active and user.approved_at is not None
    assert _login_api().status_code == 200
    # Approving twice: the account is not waiting any more.
    assert bearer_client(admin_user).post(f"/api/users/{user.pk}/approve").status_code == 409


def test_approval_through_the_pages_and_the_admin_panel(approval, admin_user):
    client = Client()
    page = client.get("/register")
    assert page.status_code == 200 and "approved by an administrator" in page.content.decode()
    response = client.post(
        "/register", {"email": EMAIL, "password": STRONG_PASSWORD, "password_confirm": STRONG_PASSWORD}, follow=True
    )
    assert response.status_code == 200 and WAITING in response.content.decode()
    user = User.objects.get(email=EMAIL)
    assert user.is_pending

    login_client, answer = _login_page()
    assert answer.status_code == 200 and WAITING in answer.content.decode()
    assert "_auth_user_id" not in login_client.session

    panel = _panel(admin_user)
    index = panel.get("/admin-panel/").content.decode()
    assert f'data-testid="pending-row" data-email="{EMAIL}"' in index and "Approve" in index
    done = panel.post(f"/admin-panel/users/{user.pk}/approve", follow=True)
    assert done.status_code == 200 and f"{EMAIL} has been approved" in done.content.decode()
    assert 'data-testid="pending-row"' not in done.content.decode()

    login_client, answer = _login_page()
    assert answer.status_code == 302 and login_client.session["_auth_user_id"] == str(user.pk)


def test_only_the_right_password_says_an_account_is_waiting(approval):
    assert _register_api().status_code == 201

    wrong_api = _login_api(password="not-the-password")
    unknown_api = _login_api(email="nobody@example.com")
    assert wrong_api.status_code == unknown_api.status_code == 401
    assert wrong_api.json() == unknown_api.json()
    assert WAITING not in wrong_api.json()["detail"]

    _, wrong_page = _login_page(password="not-the-password")
    _, unknown_page = _login_page(email="nobody@example.com")
    for page in (wrong_page, unknown_page):
        assert page.status_code == 200
        assert WAITING not in page.content.decode()
        assert "The email address or password is incorrect." in page.content.decode()


def test_pending_accounts_are_told_apart_from_deactivated_ones(approval, admin_user):
    _register_api()
    pending = User.objects.get(email=EMAIL)
    deactivated = UserFactory(email="gone@example.com", is_active=False)

    assert (pending.status, deactivated.status) == ("pending", "deactivated")
    assert pending.is_pending and not deactivated.is_pending
    # A deactivated account with its right password hears nothing more than a wrong one.
    answer = _login_api(email="gone@example.com", password=DEFAULT_PASSWORD)
    assert answer.status_code == 401 and WAITING not in answer.json()["detail"]
    assert bearer_client(admin_user).post(f"/api/users/{deactivated.pk}/approve").status_code == 409
    index = _panel(admin_user).get("/admin-panel/").content.decode()
    assert 'data-email="gone@example.com"' in index and 'data-testid="pending-row" data-email="gone' not in index
    assert "Waiting for approval" in index and "Deactivated" in index
    stats = bearer_client(admin_user).get("/api/admin/stats").json()
    assert stats["pending_users"] == 1


def test_activating_a_pending_account_approves_it(approval, admin_user):
    _register_api()
    user = services.user_update(user=User.objects.get(email=EMAIL), by=admin_user, is_active=True)
    assert user.is_active and user.approved_at is not None and user.status == "active"


def test_django_admin_approves_pending_accounts(approval, admin_user):
    _register_api()
    user = User.objects.get(email=EMAIL)
    client = _panel(admin_user)
    listing = client.get("/admin/accounts/user/", {"approval": "pending"})
    assert listing.status_code == 200 and EMAIL in listing.content.decode()

    response = client.post("/admin/accounts/user/", {"action": "approve", "_selected_action": [user.pk]})

    assert response.status_code == 302
    user.refresh_from_db()
    assert user.is_active and user.approved_at is not None


# ------------------------------------------------------------------ closed


def test_closed_refuses_registration_on_the_api(closed):
    response = _register_api()
    assert response.status_code == 403 and "closed" in response.json()["detail"]
    assert not User.objects.filter(email=EMAIL).exists()


def test_closed_register_page_says_so(closed):
    client = Client()
    page = client.get("/register")
    assert page.status_code == 200
    assert "Registration is closed" in page.content.decode() and 'name="password"' not in page.content.decode()
    posted = client.post(
        "/register", {"email": EMAIL, "password": STRONG_PASSWORD, "password_confirm": STRONG_PASSWORD}
    )
    assert posted.status_code == 403 and "Registration is closed" in posted.content.decode()
    assert not User.objects.filter(email=EMAIL).exists()
    login = client.get("/login").content.decode()
    assert "Registration is closed" in login


def test_closed_an_admin_adds_a_user_in_the_admin_panel(closed, admin_user):
    panel = _panel(admin_user)
    assert 'action="/admin-panel/users/add"' in panel.get("/admin-panel/").content.decode()

    response = panel.post(
        "/admin-panel/users/add",
        {"email": "Added@Example.com", "password": STRONG_PASSWORD, "role": "user"},
        follow=True,
    )

    assert response.status_code == 200 and "added@example.com has been added" in response.content.decode()
    added = User.objects.get(email="added@example.com")
    assert added.is_active and added.approved_at is not None and added.role == "user"
    assert _login_api(email="added@example.com").status_code == 200


def test_the_add_user_form_shows_what_is_wrong(closed, admin_user):
    panel = _panel(admin_user)
    UserFactory(email="taken@example.com")

    response = panel.post("/admin-panel/users/add", {"email": "taken@example.com", "password": "short", "role": "user"})

    assert response.status_code == 400
    html = response.content.decode()
    assert services.EMAIL_TAKEN in html and "too short" in html
    assert User.objects.filter(email="taken@example.com").count() == 1


def test_closed_an_admin_adds_a_user_in_the_django_admin(closed, admin_user):
    response = _panel(admin_user).post(
        "/admin/accounts/user/add/",
        {
            "email": "byadmin@example.com",
            "role": "user",
            "password1": STRONG_PASSWORD,
            "password2": STRONG_PASSWORD,
            "usable_password": "true",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    added = User.objects.get(email="byadmin@example.com")
    assert added.is_active and added.approved_at is not None


def test_the_add_user_page_is_for_admins_only(closed):
    user = UserFactory()
    as_user = Client()
    as_user.force_login(user)
    data = {"email": "sneaky@example.com", "password": STRONG_PASSWORD, "role": "admin"}
    assert as_user.post("/admin-panel/users/add", data).status_code == 403
    assert Client().post("/admin-panel/users/add", data).status_code == 302  # to the login page
    assert not User.objects.filter(email="sneaky@example.com").exists()
