"""Account state changes: registration, login, profile, role, activation, deletion.

Called alike by the API, the web pages, the Django admin and tests. Bad input raises
`core.errors.InvalidInput` naming the field or fields (the API answers 400 with
``{"email": [...], ...}``, forms show each message next to its field); refusals that depend
on state raise the other `core.errors` errors.

Refusals are raised outside the services' atomic blocks: DuckDB has no savepoints, so an
error leaving a nested block would spoil the caller's transaction (the Django admin's).
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import update_last_login
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, OperationalError, transaction
from django.db.models import F
from django.utils import timezone

from accounts import tokens
from accounts.api_keys import ApiKey, api_keys_revoke_for_user
from accounts.models import RefreshToken, User, normalize_email
from accounts.passwords import password_check_slot
from accounts.selectors import email_is_taken
from accounts.tokens import AuthenticationError, TokenPair
from audit import services as audit
from core.changes import changed
from core.db import is_write_conflict
from core.errors import Conflict, DomainError, ErrorKind, InvalidInput

EMAIL_TAKEN = "An account with this email address already exists."
WRONG_CURRENT_PASSWORD = "Your current password is not correct."


class InvalidCredentials(AuthenticationError):
    code = "invalid_credentials"
    # One message for a wrong password, an unknown email and an inactive account alike.
    default_message = "The email address or password is incorrect."


class AwaitingApproval(AuthenticationError):
    """The right password of an account that waits for an administrator's approval (only
    the right password tells, so nobody else learns whether the address is registered)."""

    code = "awaiting_approval"
    default_message = "Your account is waiting for approval by an administrator; you can log in once it is approved."


class RegistrationClosed(DomainError):
    kind = ErrorKind.FORBIDDEN
    default_message = "Registration is closed; an administrator adds new accounts."


class NotPending(Conflict):
    default_message = "This account is not waiting for approval."


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
    """Django's password validators' messages (they raise ValidationError; we collect)."""
    try:
        validate_password(password, user=user)
    except ValidationError as exc:
        return list(exc.messages)
    return []


def _role_errors(role: str | None) -> list[str]:
    if role is None or role in User.Role.values:
        return []
    return [f'Choose "{User.Role.USER}" or "{User.Role.ADMIN}".']


def _raise_if(errors: dict[str, list[str]]) -> None:
    errors = {field: messages for field, messages in errors.items() if messages}
    if errors:
        raise InvalidInput(errors=errors)


def registration_mode() -> str:
    """REGISTRATION: "open", "approval" or "closed"."""
    return settings.REGISTRATION


def user_register(*, email: str, password: str) -> User:
    """Someone registers themself as an ordinary user, as REGISTRATION allows: "open"
    lets them in at once, "approval" makes the account wait (inactive, not approved) for
    an administrator, "closed" refuses (RegistrationClosed, 403). The email is unique in
    any letter case; the password must pass AUTH_PASSWORD_VALIDATORS."""
    mode = registration_mode()
    if mode == "closed":
        raise RegistrationClosed()
    pending = {"is_active": False, "approved_at": None} if mode == "approval" else {}
    return _create(email=email, password=password, role=None, **pending)


def user_create(*, email: str, password: str, role: str | None = None) -> User:
    """An administrator adds an account (in any REGISTRATION mode): active and approved."""
    return _create(email=email, password=password, role=role)


def _create(*, email: str, password: str, role: str | None, **fields) -> User:
    email = normalize_email(email)
    _raise_if(
        {
            "email": _email_errors(email),
            "password": _password_errors(password, user=User(email=email)),
            "role": _role_errors(role),
        }
    )
    try:
        with password_check_slot(), transaction.atomic():
            return User.objects.create_user(email, password, role=role or User.Role.USER, **fields)
    except IntegrityError:
        # A concurrent registration of the same address won the unique index.
        raise InvalidInput(EMAIL_TAKEN, field="email") from None


def user_approve(*, user: User) -> User:
    """Let a pending account in: active and approved from now on. NotPending (409) for an
    account that is not waiting (an active one, or one deactivated after its approval)."""
    with transaction.atomic():
        approved = User.objects.filter(pk=user.pk, approved_at__isnull=True, is_active=False).update(
            is_active=True, approved_at=timezone.now()
        )
        if approved:
            changed()
            audit.user_approved(user=user)
    user.refresh_from_db()
    if not approved:
        raise NotPending()
    return user


def user_authenticate(*, email: str, password: str) -> User:
    """The active user with these credentials; AwaitingApproval (401) for the right
    password of a pending account; InvalidCredentials (401) otherwise."""
    email = normalize_email(email)
    pending = User.objects.filter(email=email, is_active=False, approved_at__isnull=True).first()
    if pending is not None:
        # One password check, as on every other path: the timing tells nothing either.
        with password_check_slot():
            right = pending.check_password(password)
        if right:
            raise AwaitingApproval()
        raise InvalidCredentials()
    # ModelBackend refuses inactive users and hashes even for unknown addresses, so
    # neither the answer nor its timing tells which case it was.
    with password_check_slot():
        user = authenticate(None, email=email, password=password)
    if user is None:
        raise InvalidCredentials()
    return user


def auth_login(*, email: str, password: str) -> tuple[User, TokenPair]:
    """Check the credentials and start a new refresh-token family."""
    return auth_tokens_issue(user=user_authenticate(email=email, password=password))


def auth_tokens_issue(*, user: User) -> tuple[User, TokenPair]:
    """A signed-in user's new refresh-token family (after the password, and the second
    factor where there is one)."""
    pair = tokens.token_pair_issue(user=user)
    update_last_login(User, user)  # called as the user_logged_in receiver would be; sender unused
    return user, pair


def _changes_errors(user: User, *, email: str | None, password: str | None, role: str | None) -> dict:
    """Field errors of a change (``email`` already normalised and different, or None)."""
    errors = {"email": _email_errors(email, exclude=user) if email else []}
    if password:
        errors["password"] = _password_errors(password, user=User(pk=user.pk, email=email or user.email))
    errors["role"] = _role_errors(role)
    return errors


def user_update(
    *,
    user: User,
    by: User | None = None,
    email: str | None = None,
    password: str | None = None,
    role: str | None = None,
    is_active: bool | None = None,
) -> User:
    """Change a user's email, password, role and/or activation: all of it or nothing.

    Arguments left None are kept; values equal to the stored ones change nothing, and a
    call that changes nothing writes nothing. Refused with InvalidInput (a taken or bad
    email, a weak password, an unknown role), SelfChangeRefused (``by`` deactivating
    themself) or LastAdmin (demoting or deactivating the last active admin); a refused
    call saves no part of the change. A password change or a deactivation ends every session
    of the user: the token version goes up (access tokens already issued are refused, web
    sessions end) and the refresh tokens are revoked; a password change revokes the user's
    API keys too. Returns ``user``, re-read from the database.
    """
    changes: dict = {}
    new_email = normalize_email(email) if email is not None else None
    if new_email is not None and new_email != user.email:
        changes["email"] = new_email
    if role is not None and role != user.role:
        changes["role"] = role
    if is_active is not None and is_active != user.is_active:
        changes["is_active"] = is_active
        if is_active and user.approved_at is None:
            changes["approved_at"] = timezone.now()  # activating a pending account approves it
    _raise_if(_changes_errors(user, email=changes.get("email"), password=password, role=role))
    if password:
        with password_check_slot():
            changes["password"] = make_password(password)
    if not changes:
        return user
    deactivating = changes.get("is_active") is False
    if deactivating and by is not None and by.pk == user.pk:
        raise SelfChangeRefused("You cannot deactivate your own account.")
    if deactivating:
        revoke_reason = RefreshToken.RevokeReason.DEACTIVATED
    elif password:
        revoke_reason = RefreshToken.RevokeReason.PASSWORD_CHANGED
    else:
        revoke_reason = None
    if revoke_reason:
        # In the same UPDATE, before the revocation: a concurrent rotation holds this row
        # (tokens._hold_user_at_version), so the two never interleave.
        changes["token_version"] = F("token_version") + 1

    def write():
        audit.user_changed(user=user, changes=changes, by=by)
        User.objects.filter(pk=user.pk).update(**changes)
        changed()
        if revoke_reason:
            tokens.refresh_tokens_revoke_for_user(user=user, reason=revoke_reason)
        if password:
            api_keys_revoke_for_user(user=user, reason=ApiKey.RevokeReason.PASSWORD_CHANGED)

    try:
        if deactivating or changes.get("role") == User.Role.USER:
            _reduce_admins(user, write)
        else:
            with transaction.atomic():
                write()
    except IntegrityError:
        # A concurrent change took the address first (the unique index decides).
        user.refresh_from_db()
        raise InvalidInput(EMAIL_TAKEN, field="email") from None
    except OperationalError as exc:
        if not is_write_conflict(exc):
            raise
        # DuckDB: one of the user's tokens (or the row) was being changed at this moment.
        user.refresh_from_db()
        whose = "Your" if by is not None and by.pk == user.pk else "This"
        raise Conflict(f"{whose} account was being changed at the same moment; try again.") from None
    user.refresh_from_db()
    return user


def user_update_profile(
    *,
    user: User,
    current_password: str,
    email: str | None = None,
    password: str | None = None,
) -> User:
    """The user changes their own email and/or password; both need the current password.

    A password change ends every session of the user (API tokens and web sessions; the web
    view keeps the caller's own session with `update_session_auth_hash`).
    Giving neither (or the same email) changes nothing and is not an error.
    """
    with password_check_slot():
        right = bool(current_password) and user.check_password(current_password)
    if not right:
        # Shown together with whatever else is wrong with the change.
        new_email = normalize_email(email) if email else None
        errors = _changes_errors(
            user, email=new_email if new_email != user.email else None, password=password, role=None
        )
        _raise_if({"current_password": [WRONG_CURRENT_PASSWORD], **errors})
    return user_update(user=user, by=user, email=email or None, password=password or None)


def clean_default_system(text) -> str:
    """Default instructions as kept: text within the prompt's bound (400 on ``default_system``)."""
    if not isinstance(text, str):
        raise InvalidInput("Must be text.", field="default_system")
    text = text.strip()
    limit = settings.GENERATION_PROMPT_MAX_CHARS
    if len(text) > limit:
        raise InvalidInput(f"At most {limit} characters (this has {len(text)}).", field="default_system")
    return text


def user_set_default_system(*, user: User, text) -> User:
    """The instructions (system prompt) the user's new conversations start with when they
    are given none; empty for none."""
    text = clean_default_system(text)
    User.objects.filter(pk=user.pk).update(default_system=text)
    user.default_system = text
    return user


def user_password_changed(*, user: User, **kwargs) -> None:
    """A password set outside these services (the Django admin's password forms, `manage.py
    changepassword`, a shell's ``set_password()`` and ``save()``): end every session of the
    user as a change here does, API keys included (connected to
    `accounts.models.password_changed` in accounts.apps). The instance keeps the new token
    version, so a caller's own web session can follow it (update_session_auth_hash)."""
    tokens.user_sessions_end(user=user, reason=RefreshToken.RevokeReason.PASSWORD_CHANGED)


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
        except OperationalError as exc:
            if not is_write_conflict(exc):
                raise
            if attempt == 2:
                raise Conflict("Another administrator change is in progress; try again.") from None
            user.refresh_from_db()
            continue
        if not allowed:
            raise LastAdmin()
        return


def user_delete(*, user: User, by: User | None = None) -> None:
    """Delete a user with everything they own (their refresh tokens included).
    An admin cannot delete themself; the last active admin cannot be deleted."""
    if by is not None and by.pk == user.pk:
        raise SelfChangeRefused("You cannot delete your own account.")

    def delete():
        audit.user_deleted(user=user, by=by)
        user.delete()

    _reduce_admins(user, delete)
