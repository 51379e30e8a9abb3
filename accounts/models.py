from typing import ClassVar

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.db import models
from django.dispatch import Signal
from django.utils import timezone
from django.utils.crypto import salted_hmac

# Sent after an existing user was saved with a new password (set_password or
# set_unusable_password, then save()), whatever did it: the Django admin's forms, `manage.py
# changepassword`, a shell. accounts.apps connects the ending of the user's other sessions.
password_changed = Signal()


def normalize_email(email: str) -> str:
    """The one stored form of an address: trimmed and lower-cased, so that
    uniqueness and login are case-insensitive with a plain unique index."""
    return (email or "").strip().lower()


class UserManager(BaseUserManager):
    use_in_migrations = True

    def get_by_natural_key(self, email):
        return self.get(email=normalize_email(email))

    def _create(self, email, password, **fields):
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=normalize_email(email), **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **fields):
        fields.setdefault("role", User.Role.USER)
        return self._create(email, password, **fields)

    def create_superuser(self, email, password=None, **fields):
        fields["role"] = User.Role.ADMIN
        return self._create(email, password, **fields)


class User(AbstractBaseUser):
    """A person who signs in with an email address. `role` decides what they may do:
    admins are staff and superusers in the Django admin, users are neither."""

    class Role(models.TextChoices):
        USER = "user", "User"
        ADMIN = "admin", "Admin"

    email = models.EmailField("email address", max_length=254, unique=True)
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.USER, db_index=True)
    is_active = models.BooleanField(default=True)
    date_joined = models.DateTimeField(default=timezone.now)
    # When the account was let in. Empty while it waits for an administrator's approval
    # (REGISTRATION=approval; such an account is also inactive), which tells a pending
    # account from a deactivated one. Accounts made any other way are approved at once.
    approved_at = models.DateTimeField(null=True, blank=True, default=timezone.now)
    # Carried in every JWT as "ver": raising it (password change, deactivation, "log out
    # everywhere") makes every token issued before refused at once.
    token_version = models.PositiveIntegerField(default=0, editable=False)
    # The instructions (system prompt) a new conversation starts with when it is given none.
    default_system = models.TextField("default instructions", blank=True, default="")

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    class Meta:
        db_table = "users"
        ordering = ["id"]

    def __str__(self):
        return self.email

    def clean(self):
        super().clean()
        self.email = normalize_email(self.email)

    def set_unusable_password(self):
        super().set_unusable_password()
        self._password_disabled = True

    def save(self, *args, **kwargs):
        self.email = normalize_email(self.email)
        # set_password keeps the raw password in _password until the save (a hash upgrade
        # at login clears it first: the same password, no change).
        changed = not self._state.adding and (self._password is not None or getattr(self, "_password_disabled", False))
        super().save(*args, **kwargs)
        self._password_disabled = False
        if changed:
            password_changed.send(sender=type(self), user=self)

    def _get_session_auth_hash(self, secret=None):
        """Django's session hash, which also changes with the token version, so that
        "log out everywhere" ends web sessions too (version 0 keeps Django's own hash,
        so existing sessions survive the upgrade)."""
        if not self.token_version:
            return super()._get_session_auth_hash(secret=secret)
        key_salt = "accounts.User.get_session_auth_hash"
        value = f"{self.password}:{self.token_version}"
        return salted_hmac(key_salt, value, secret=secret, algorithm="sha256").hexdigest()

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        PENDING = "pending", "Waiting for approval"
        DEACTIVATED = "deactivated", "Deactivated"

    @property
    def is_pending(self) -> bool:
        """Registered, waiting for an administrator's approval."""
        return self.approved_at is None and not self.is_active

    @property
    def status(self) -> str:
        if self.is_active:
            return self.Status.ACTIVE
        return self.Status.PENDING if self.approved_at is None else self.Status.DEACTIVATED

    @property
    def status_label(self) -> str:
        return self.Status(self.status).label

    # Set on the user of a request authenticated with a personal API key: such a request
    # acts with a user's permissions whatever the role (accounts.authentication).
    acting_with_api_key = False

    @property
    def is_admin(self) -> bool:
        return self.role == self.Role.ADMIN and not self.acting_with_api_key

    # The Django admin and permission checks read these; both follow the role.
    @property
    def is_staff(self) -> bool:
        return self.is_admin

    @property
    def is_superuser(self) -> bool:
        return self.is_admin

    def has_perm(self, perm, obj=None) -> bool:
        return self.is_active and self.is_admin

    def has_perms(self, perm_list, obj=None) -> bool:
        return self.is_active and self.is_admin

    def has_module_perms(self, app_label) -> bool:
        return self.is_active and self.is_admin


class RefreshTokenQuerySet(models.QuerySet):
    def active(self, *, now=None):
        """Tokens that would still be accepted: not revoked and not expired."""
        return self.filter(revoked_at__isnull=True, expires_at__gt=now or timezone.now())

    def expired(self, *, now=None):
        return self.filter(expires_at__lte=now or timezone.now())


class RefreshToken(models.Model):
    """One issued refresh token (its JTI; the signed token itself is never stored).

    Tokens descend from one login through rotation and share its `family`, so that a
    replayed (already revoked) token can take its whole family down with it.
    """

    class RevokeReason(models.TextChoices):
        ROTATED = "rotated", "Rotated (exchanged for a new token)"
        LOGOUT = "logout", "Logged out"
        LOGOUT_ALL = "logout_all", "Logged out everywhere"
        REUSE_DETECTED = "reuse_detected", "Family revoked: a revoked token was presented again"
        PASSWORD_CHANGED = "password_changed", "Password changed"
        DEACTIVATED = "deactivated", "User deactivated"
        ADMIN = "admin", "Revoked by an administrator"

    jti = models.CharField("JWT ID", max_length=64, unique=True)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="refresh_tokens")
    family = models.CharField(max_length=32, db_index=True)
    issued_at = models.DateTimeField()
    expires_at = models.DateTimeField(db_index=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_reason = models.CharField(max_length=20, choices=RevokeReason.choices, blank=True, default="")

    objects = RefreshTokenQuerySet.as_manager()

    class Meta:
        db_table = "refresh_tokens"
        ordering = ["-issued_at", "-id"]
        verbose_name = "refresh token"

    def __str__(self):
        return f"{self.jti[:12]}… ({self.user_id})"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None and self.expires_at > timezone.now()


# Personal API keys live in their own module; imported here so Django registers the model.
from accounts.api_keys import ApiKey  # noqa: E402,F401
