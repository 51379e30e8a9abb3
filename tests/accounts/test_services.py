"""The account services on their own: field errors as InvalidInput, user_update's rules."""

import pytest
from django.db import OperationalError

from accounts import services, tokens
from accounts.models import RefreshToken, User
from core.errors import Conflict, InvalidInput
from django_duckdb.errors import WriteConflict
from tests.factories import DEFAULT_PASSWORD, AdminFactory, UserFactory
from tests.support.accounts import STRONG_PASSWORD

pytestmark = pytest.mark.django_db


def test_register_names_each_bad_field_at_once():
    UserFactory(email="taken@example.com")
    with pytest.raises(InvalidInput) as refused:
        services.user_register(email="TAKEN@example.com", password="123")
    assert set(refused.value.errors) == {"email", "password"}
    assert refused.value.errors["email"] == [services.EMAIL_TAKEN]


def test_update_that_changes_nothing_writes_nothing(django_assert_num_queries):
    user = UserFactory(email="same@example.com")
    with django_assert_num_queries(0):
        assert services.user_update(user=user, email="Same@Example.com", role="user", is_active=True) is user


def test_update_refuses_an_unknown_role_on_the_role_field():
    with pytest.raises(InvalidInput) as refused:
        services.user_update(user=UserFactory(), role="owner")
    assert list(refused.value.errors) == ["role"]


def test_update_of_the_last_admin_is_refused_whole():
    admin = AdminFactory(email="root@example.com")
    with pytest.raises(services.LastAdmin):
        services.user_update(user=admin, email="renamed@example.com", role="user")
    admin.refresh_from_db()
    assert admin.email == "root@example.com" and admin.is_admin


def test_update_refuses_self_deactivation():
    admin = AdminFactory()
    AdminFactory()
    with pytest.raises(services.SelfChangeRefused):
        services.user_update(user=admin, is_active=False, by=admin)
    admin.refresh_from_db()
    assert admin.is_active


def test_update_changes_several_fields_and_revokes_tokens_on_deactivation():
    user = UserFactory()
    tokens.token_pair_issue(user=user)
    services.user_update(user=user, email="New@Example.com", role="admin", is_active=False, password=STRONG_PASSWORD)
    assert (user.email, user.role, user.is_active) == ("new@example.com", "admin", False)
    assert user.check_password(STRONG_PASSWORD)
    assert RefreshToken.objects.get().revoked_reason == "deactivated"


def test_profile_update_names_a_wrong_current_password_with_the_other_errors():
    user = UserFactory()
    with pytest.raises(InvalidInput) as refused:
        services.user_update_profile(user=user, current_password="wrong", email="not-an-email", password="123")
    assert list(refused.value.errors) == ["current_password", "email", "password"]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "error, expected",
    [
        (WriteConflict("TransactionContext Error: Conflict on update!"), Conflict),
        (OperationalError("disk I/O error"), OperationalError),
    ],
)
def test_only_a_write_conflict_becomes_a_conflict(monkeypatch, error, expected):
    user = UserFactory()

    def fail(**kwargs):
        raise error

    monkeypatch.setattr(services.tokens, "refresh_tokens_revoke_for_user", fail)
    with pytest.raises(expected):
        services.user_update_profile(user=user, current_password=DEFAULT_PASSWORD, password=STRONG_PASSWORD)
    assert User.objects.get(pk=user.pk).check_password(DEFAULT_PASSWORD)
