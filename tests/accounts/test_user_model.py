import pytest
from django.db import IntegrityError

from accounts.models import User
from tests.conftest import run_manage
from tests.factories import AdminFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_email_is_stored_trimmed_and_lower_cased():
    user = User.objects.create_user("  Ada.Lovelace@Example.COM ", "pw-Long-enough-1")
    user.refresh_from_db()
    assert user.email == "ada.lovelace@example.com"


# A real transaction per statement: DuckDB has no savepoints, so a failed INSERT inside
# the test's own transaction would poison the rest of the test.
@pytest.mark.django_db(transaction=True)
def test_same_email_in_another_letter_case_is_refused():
    User.objects.create_user("ada@example.com", "pw-Long-enough-1")
    with pytest.raises(IntegrityError):
        User.objects.create_user("ADA@Example.com", "pw-Long-enough-1")
    assert User.objects.count() == 1


def test_login_lookup_ignores_letter_case():
    created = User.objects.create_user("grace@example.com", "pw-Long-enough-1")
    assert User.objects.get_by_natural_key("Grace@EXAMPLE.com") == created


def test_ordinary_user_is_neither_staff_nor_superuser():
    user = UserFactory()
    assert user.role == "user"
    assert not user.is_staff and not user.is_superuser
    assert not user.has_perm("accounts.change_user")


def test_admin_is_staff_and_superuser():
    admin = AdminFactory()
    assert admin.is_staff and admin.is_superuser
    assert admin.has_perm("accounts.change_user") and admin.has_module_perms("accounts")


def test_inactive_admin_has_no_permissions():
    admin = AdminFactory(is_active=False)
    assert not admin.has_perm("accounts.change_user")


def test_password_is_hashed_with_argon2(production_hashers):
    user = UserFactory()
    assert user.password.startswith("argon2")
    assert user.check_password("correct-horse-battery-staple")


def test_role_is_one_of_user_or_admin():
    user = UserFactory.build(role="owner")
    with pytest.raises(Exception) as excinfo:
        user.full_clean()
    assert "role" in str(excinfo.value)


def test_createsuperuser_noinput_creates_an_admin(fresh_store_env):
    # A fresh process on a fresh store: the command as an operator runs it.
    env = {
        **fresh_store_env,
        "DJANGO_SUPERUSER_EMAIL": "Root@Example.com",
        "DJANGO_SUPERUSER_PASSWORD": "a-Strong-password-42",
    }
    assert run_manage("migrate", "--noinput", env=env).returncode == 0
    result = run_manage("createsuperuser", "--noinput", env=env)
    assert result.returncode == 0, result.stderr
    check = run_manage(
        "shell",
        "-c",
        "from accounts.models import User; u = User.objects.get(); "
        "print(u.email, u.role, u.is_staff, u.is_superuser, u.check_password('a-Strong-password-42'))",
        env=env,
    )
    assert check.stdout.strip().splitlines()[-1].split() == ["root@example.com", "admin", "True", "True", "True"], (
        check.stderr
    )
