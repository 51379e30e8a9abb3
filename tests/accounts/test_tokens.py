"""The token services: claims, lifetimes, the store, rotation, reuse detection, revocation."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework_simplejwt import tokens as jwt

from accounts import services, tokens
from accounts.models import RefreshToken
from accounts.tasks import purge_expired_refresh_tokens
from tests.factories import DEFAULT_PASSWORD, AdminFactory, UserFactory

pytestmark = pytest.mark.django_db

Reason = RefreshToken.RevokeReason


def _rotates_in_its_family(refresh: str) -> bool:
    """Rotating ``refresh`` gives a live successor in its family, for the same user."""
    old = RefreshToken.objects.get(jti=jwt.RefreshToken(refresh)["jti"])  # type: ignore[arg-type]  # simplejwt annotates the encoded str as Token
    pair = tokens.refresh_token_rotate(token=refresh)
    new = RefreshToken.objects.get(jti=jwt.RefreshToken(pair.refresh)["jti"])  # type: ignore[arg-type]  # simplejwt annotates the encoded str as Token
    return (
        new.is_active
        and new.family == old.family
        and new.user_id == old.user_id
        and jwt.AccessToken(pair.access)["user_id"] == str(old.user_id)  # type: ignore[arg-type]  # simplejwt annotates the encoded str as Token
    )


def test_access_token_carries_identity_and_role_for_15_minutes():
    admin = AdminFactory(email="ada@example.com")
    pair = tokens.token_pair_issue(user=admin)
    access = jwt.AccessToken(pair.access)
    assert access["user_id"] == str(admin.pk)
    assert access["email"] == "ada@example.com"
    assert access["role"] == "admin"
    assert access["token_type"] == "access"
    assert access["jti"]
    assert access["exp"] - access["iat"] == 15 * 60


def test_refresh_token_is_stored_with_its_jti_family_and_times():
    user = UserFactory()
    pair = tokens.token_pair_issue(user=user)
    refresh = jwt.RefreshToken(pair.refresh)
    row = RefreshToken.objects.get()
    assert row.jti == refresh["jti"] and row.user == user
    assert len(row.family) == 32
    assert row.issued_at.timestamp() == refresh["iat"]
    assert row.expires_at.timestamp() == refresh["exp"]
    assert row.expires_at - row.issued_at == timedelta(days=7)
    assert row.revoked_at is None and row.is_active


def test_lifetimes_are_configurable(settings):
    settings.SIMPLE_JWT = {
        **settings.SIMPLE_JWT,
        "ACCESS_TOKEN_LIFETIME": timedelta(minutes=5),
        "REFRESH_TOKEN_LIFETIME": timedelta(days=1),
    }
    pair = tokens.token_pair_issue(user=UserFactory())
    access, refresh = jwt.AccessToken(pair.access), jwt.RefreshToken(pair.refresh)
    assert access["exp"] - access["iat"] == 5 * 60
    assert refresh["exp"] - refresh["iat"] == 24 * 3600


def test_each_login_starts_a_new_family():
    user = UserFactory()
    tokens.token_pair_issue(user=user)
    tokens.token_pair_issue(user=user)
    assert RefreshToken.objects.values("family").distinct().count() == 2


def test_rotation_revokes_the_old_token_and_continues_its_family():
    user = UserFactory()
    first = tokens.token_pair_issue(user=user)
    second = tokens.refresh_token_rotate(token=first.refresh)
    old = RefreshToken.objects.get(jti=jwt.RefreshToken(first.refresh)["jti"])
    new = RefreshToken.objects.get(jti=jwt.RefreshToken(second.refresh)["jti"])
    assert old.revoked_at is not None and old.revoked_reason == Reason.ROTATED
    assert new.revoked_at is None and new.family == old.family and new.jti != old.jti
    assert jwt.AccessToken(second.access)["user_id"] == str(user.pk)


def test_a_rotated_token_presented_again_revokes_its_whole_family():
    user = UserFactory()
    first = tokens.token_pair_issue(user=user)
    second = tokens.refresh_token_rotate(token=first.refresh)
    third = tokens.refresh_token_rotate(token=second.refresh)
    other_login = tokens.token_pair_issue(user=user)

    with pytest.raises(tokens.RefreshTokenReused):
        tokens.refresh_token_rotate(token=first.refresh)  # the stolen, already used token

    family = RefreshToken.objects.get(jti=jwt.RefreshToken(first.refresh)["jti"]).family
    assert not RefreshToken.objects.filter(family=family, revoked_at__isnull=True).exists()
    assert RefreshToken.objects.get(jti=jwt.RefreshToken(third.refresh)["jti"]).revoked_reason == Reason.REUSE_DETECTED
    with pytest.raises(tokens.RefreshTokenReused):
        tokens.refresh_token_rotate(token=third.refresh)  # the latest token is dead too
    # Another login's family is untouched.
    assert _rotates_in_its_family(other_login.refresh)


def test_a_token_whose_row_has_expired_is_refused():
    pair = tokens.token_pair_issue(user=UserFactory())
    RefreshToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    with pytest.raises(tokens.InvalidRefreshToken):
        tokens.refresh_token_rotate(token=pair.refresh)


def test_an_expired_jwt_is_refused():
    user = UserFactory()
    pair = tokens.token_pair_issue(user=user)
    expired = jwt.RefreshToken(pair.refresh)
    expired.set_exp(lifetime=timedelta(seconds=-1))
    with pytest.raises(tokens.InvalidRefreshToken):
        tokens.refresh_token_rotate(token=str(expired))


@pytest.mark.parametrize("token", ["", "not-a-jwt", "a.b.c"])
def test_garbage_is_refused(token):
    with pytest.raises(tokens.InvalidRefreshToken):
        tokens.refresh_token_rotate(token=token)


def test_a_validly_signed_token_missing_from_the_store_is_refused():
    user = UserFactory()
    forged = jwt.RefreshToken.for_user(user)  # signed with our key, never stored
    with pytest.raises(tokens.InvalidRefreshToken):
        tokens.refresh_token_rotate(token=str(forged))


def test_an_access_token_is_not_a_refresh_token():
    pair = tokens.token_pair_issue(user=UserFactory())
    with pytest.raises(tokens.InvalidRefreshToken):
        tokens.refresh_token_rotate(token=pair.access)


def test_a_deactivated_users_token_is_refused():
    user = UserFactory()
    pair = tokens.token_pair_issue(user=user)
    type(user).objects.filter(pk=user.pk).update(is_active=False)
    with pytest.raises(tokens.InvalidRefreshToken):
        tokens.refresh_token_rotate(token=pair.refresh)


def test_logout_revokes_that_token_only():
    user = UserFactory()
    kept = tokens.token_pair_issue(user=user)
    ended = tokens.token_pair_issue(user=user)
    tokens.refresh_token_revoke(token=ended.refresh)
    row = RefreshToken.objects.get(jti=jwt.RefreshToken(ended.refresh)["jti"])
    assert row.revoked_reason == Reason.LOGOUT
    with pytest.raises(tokens.RefreshTokenReused):
        tokens.refresh_token_rotate(token=ended.refresh)
    assert _rotates_in_its_family(kept.refresh)


def test_password_change_revokes_every_refresh_token_of_that_user_only():
    user, other = UserFactory(), UserFactory()
    for _ in range(2):
        tokens.token_pair_issue(user=user)
    others = tokens.token_pair_issue(user=other)
    services.user_update_profile(user=user, current_password=DEFAULT_PASSWORD, password="Lantern-orbit-7-quietly")
    assert not RefreshToken.objects.active().filter(user=user).exists()
    assert set(RefreshToken.objects.filter(user=user).values_list("revoked_reason", flat=True)) == {
        Reason.PASSWORD_CHANGED
    }
    assert _rotates_in_its_family(others.refresh)


def test_tokens_ended_with_all_their_siblings_answer_why_without_counting_as_reuse():
    user = UserFactory()
    first, second = tokens.token_pair_issue(user=user), tokens.token_pair_issue(user=user)
    services.user_update_profile(user=user, current_password=DEFAULT_PASSWORD, password="Lantern-orbit-7-quietly")
    with pytest.raises(tokens.RefreshSessionEnded, match="password of this account was changed"):
        tokens.refresh_token_rotate(token=first.refresh)
    with pytest.raises(tokens.RefreshSessionEnded):
        tokens.refresh_token_revoke(token=second.refresh)
    assert set(RefreshToken.objects.values_list("revoked_reason", flat=True)) == {Reason.PASSWORD_CHANGED}


def test_a_rotated_token_presented_again_is_still_reuse():
    pair = tokens.token_pair_issue(user=UserFactory())
    tokens.refresh_token_rotate(token=pair.refresh)
    with pytest.raises(tokens.RefreshTokenReused):
        tokens.refresh_token_rotate(token=pair.refresh)
    assert not RefreshToken.objects.active().exists()


def test_deleting_a_user_deletes_their_refresh_tokens():
    admin, user = AdminFactory(), UserFactory()
    tokens.token_pair_issue(user=user)
    tokens.token_pair_issue(user=admin)
    services.user_delete(user=user, by=admin)
    assert list(RefreshToken.objects.values_list("user_id", flat=True)) == [admin.pk]


def test_purge_task_deletes_expired_rows_only_and_is_idempotent():
    user = UserFactory()
    live = tokens.token_pair_issue(user=user)
    for _ in range(2):
        tokens.token_pair_issue(user=user)
    RefreshToken.objects.exclude(jti=jwt.RefreshToken(live.refresh)["jti"]).update(
        expires_at=timezone.now() - timedelta(minutes=1)
    )
    assert purge_expired_refresh_tokens() == 2
    assert purge_expired_refresh_tokens() == 0
    assert RefreshToken.objects.get().jti == jwt.RefreshToken(live.refresh)["jti"]


def test_purge_runs_hourly_from_beat(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["purge-expired-refresh-tokens"]
    assert entry["task"] == "accounts.tasks.purge_expired_refresh_tokens"
    assert entry["schedule"] == timedelta(hours=1)
    from config.celery import app

    app.loader.import_default_modules()
    assert "accounts.tasks.purge_expired_refresh_tokens" in app.tasks
