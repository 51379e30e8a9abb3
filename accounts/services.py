"""Account state changes: registration, login, profile, role, activation, deletion.

Called alike by the API, the web pages, the Django admin and tests. Bad input raises
Django's `ValidationError` keyed by field (the API answers 400 naming the field, forms show
it next to the field); refusals that depend on state raise `core.errors` errors.
"""
from __future__ import annotations

from django.contrib.auth import authenticate
from django.contrib.auth.models import update_last_login
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, OperationalError, transaction

from accounts import tokens
from accounts.models import RefreshToken, User, normalize_email
from accounts.selectors import email_is_taken
from accounts.tokens import AuthenticationError, TokenPair
from core.errors import Conflict

EMAIL_TAKEN = "An account with this email address already exists."


class InvalidCredentials(AuthenticationError):
    code = "invalid_credentials"
    # One message for a wrong password, an unknown email and an inactive account alike.
    default_message = "The email address or password is incorrect."


class LastAdmin(Conflict):
    default_message = "This is the last active administrator; promote someone else first."


class SelfChangeRefused(Conflict):
    default_message = "You cannot do this to your own account."


def _email_errors(email: str, *, exclude: User | None = None) -> list[str]:
    try:
        validate_email(email)
    except ValidationError as exc:
        return list(exc.messages)
    return [EMAIL_TAKEN] if email_is_taken(email=email, exclude=exclude) else []


def _password_errors(password: str, *, user: User) -> list[str]:
    try:
        validate_password(password, user=user)
    except ValidationError as exc:
        return list(exc.messages)
    return []


def _raise_if(errors: dict[str, list[str]]) -> None:
    errors = {field: messages for field, messages in errors.items() if messages}
    if errors:
        raise ValidationError(errors)


def user_register(*, email: str, password: str) -> User:
    """Create an ordinary user. The email is unique in any letter case; the password
    must pass AUTH_PASSWORD_VALIDATORS."""
    email = normalize_email(email)
    _raise_if({
        "email": _email_errors(email),
        "password": _password_errors(password, user=User(email=email)),
    })
    try:
        with transaction.atomic():
            return User.objects.create_user(email, password)
    except IntegrityError:
        # A concurrent registration of the same address won the unique index.
        raise ValidationError({"email": [EMAIL_TAKEN]}) from None


def user_authenticate(*, email: str, password: str) -> User:
    """The active user with these credentials; InvalidCredentials (401) otherwise."""
    # ModelBackend refuses inactive users and hashes even for unknown addresses, so
    # neither the answer nor its timing tells which case it was.
    user = authenticate(None, email=normalize_email(email), password=password)
    if user is None:
        raise InvalidCredentials()
    return user


def auth_login(*, email: str, password: str) -> tuple[User, TokenPair]:
    """Check the credentials and start a new refresh-token family."""
    user = user_authenticate(email=email, password=password)
    pair = tokens.token_pair_issue(user=user)
    update_last_login(None, user)
    return user, pair


def user_update_profile(
    *, user: User, current_password: str, email: str | None = None, password: str | None = None,
) -> User:
    """Change the user's own email and/or password; both need the current password.

    A password change revokes all the user's refresh tokens (every API session ends;
    web sessions other than the caller's end through Django's session hash).
    Giving neither (or the same email) changes nothing and is not an error.
    """
    new_email = normalize_email(email) if email else None
    if new_email == user.email:
        new_email = None
    errors = {
        "current_password": (
            [] if current_password and user.check_password(current_password)
            else ["Your current password is not correct."]
        ),
        "email": _email_errors(new_email, exclude=user) if new_email else [],
    }
    if password:
        candidate = User(pk=user.pk, email=new_email or user.email)
        errors["password"] = _password_errors(password, user=candidate)
    _raise_if(errors)
    if not new_email and not password:
        return user

    changed = []
    if new_email:
        user.email = new_email
        changed.append("email")
    if password:
        user.set_password(password)
        changed.append("password")
    try:
        with transaction.atomic():
            user.save(update_fields=changed)
            if password:
                tokens.refresh_tokens_revoke_for_user(user=user, reason=RefreshToken.RevokeReason.PASSWORD_CHANGED)
    except IntegrityError:
        user.refresh_from_db()
        raise ValidationError({"email": [EMAIL_TAKEN]}) from None
    except OperationalError:
        # DuckDB: one of the user's tokens was being rotated at this very moment.
        user.refresh_from_db()
        raise Conflict("Your account was being changed at the same moment; try again.") from None
    return user


def _other_active_admin_exists(user: User) -> bool:
    """Inside the transaction of an admin-reducing change: is anyone else still an admin?

    The first statement writes every active admin row (to the same value): on PostgreSQL
    that makes concurrent admin-reducing changes queue up, so the second sees the first's
    result; on DuckDB the second gets a write conflict (OperationalError) instead.
    Without it, two admins demoting each other at once could both succeed.
    """
    admins = User.objects.filter(role=User.Role.ADMIN, is_active=True)
    admins.update(role=User.Role.ADMIN)
    return admins.exclude(pk=user.pk).exists()


def _reduce_admins(user: User, change) -> None:
    """Run `change()` (which demotes, deactivates or deletes `user`) unless `user` is the
    last active admin; retried once when DuckDB reports a concurrent admin change."""
    for attempt in (1, 2):
        try:
            with transaction.atomic():
                if user.is_admin and user.is_active and not _other_active_admin_exists(user):
                    allowed = False
                else:
                    allowed = True
                    change()
        except OperationalError:
            if attempt == 2:
                raise Conflict("Another administrator change is in progress; try again.") from None
            user.refresh_from_db()
            continue
        if not allowed:
            raise LastAdmin()
        return


def user_set_role(*, user: User, role: str, by: User | None = None) -> User:
    """Promote or demote. A no-op when the role does not change; demoting the last
    active admin raises LastAdmin (409)."""
    if role not in User.Role.values:
        raise ValidationError({"role": [f'Choose "{User.Role.USER}" or "{User.Role.ADMIN}".']})
    if user.role == role:
        return user
    if role == User.Role.ADMIN:
        User.objects.filter(pk=user.pk).update(role=role)
    else:
        _reduce_admins(user, lambda: User.objects.filter(pk=user.pk).update(role=role))
    user.refresh_from_db()
    return user


def user_set_active(*, user: User, is_active: bool, by: User | None = None) -> User:
    """Activate or deactivate. Deactivating revokes the user's refresh tokens; nobody can
    deactivate themself or the last active admin."""
    if user.is_active == is_active:
        return user
    if is_active:
        User.objects.filter(pk=user.pk).update(is_active=True)
    else:
        if by is not None and by.pk == user.pk:
            raise SelfChangeRefused("You cannot deactivate your own account.")

        def deactivate():
            User.objects.filter(pk=user.pk).update(is_active=False)
            tokens.refresh_tokens_revoke_for_user(user=user, reason=RefreshToken.RevokeReason.DEACTIVATED)

        _reduce_admins(user, deactivate)
    user.refresh_from_db()
    return user


def user_delete(*, user: User, by: User | None = None) -> None:
    """Delete a user with everything they own (their refresh tokens included).
    An admin cannot delete themself; the last active admin cannot be deleted."""
    if by is not None and by.pk == user.pk:
        raise SelfChangeRefused("You cannot delete your own account.")
    _reduce_admins(user, user.delete)

