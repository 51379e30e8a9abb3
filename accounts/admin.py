"""Django admin: users (email + role, no groups or permissions), the refresh-token store and
everyone's personal API keys.

Email, role, activation and deletion changes go through the services, so the admin obeys the
same rules as the API (last active admin, no self-deletion, tokens revoked on deactivation).
A password set by the admin's forms (a user's "set password", an admin's own "change
password") ends the user's other sessions and revokes their API keys through
`accounts.models.password_changed`, as every way of changing a password does.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import BaseUserCreationForm, ReadOnlyPasswordHashField
from django.core.exceptions import ValidationError
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.html import format_html

from accounts import api_keys, services, tokens
from accounts.api_keys import ApiKey
from accounts.forms import add_service_errors
from accounts.models import RefreshToken, User, normalize_email
from accounts.selectors import email_is_taken
from accounts.views import admin_login_view
from core.errors import DomainError, InvalidInput


def _clean_unique_email(form) -> str:
    email = normalize_email(form.cleaned_data.get("email"))
    if email_is_taken(email=email, exclude=form.instance if form.instance.pk else None):
        raise ValidationError(services.EMAIL_TAKEN)
    return email


class UserCreationForm(BaseUserCreationForm):
    class Meta:
        model = User
        fields = ("email", "role")

    def clean_email(self):
        return _clean_unique_email(self)


class UserChangeForm(forms.ModelForm):
    """The change form. Its clean() makes the change through `services.user_update`, inside
    the admin's transaction, so a refusal (taken email, last admin, self-deactivation) shows
    on the form and no part of the change is saved; UserAdmin.save_model has nothing left
    to write."""

    password = ReadOnlyPasswordHashField(
        label="Password",
        help_text="Raw passwords are not stored, so there is no way to see the user’s password.",
    )
    acting_user: User | None = None  # set per request by UserAdmin.get_form

    class Meta:
        model = User
        fields = ("email", "password", "role", "is_active")

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        user = self.instance  # still the stored values: the form's are applied after clean()
        try:
            services.user_update(
                user=user,
                by=self.acting_user,
                email=data.get("email"),
                role=data.get("role"),
                is_active=data.get("is_active"),
            )
        except InvalidInput as exc:
            add_service_errors(self, exc)
        except (services.LastAdmin, services.SelfChangeRefused) as exc:
            demoting = data.get("role") == User.Role.USER and user.is_admin
            refused_field = "is_active" if isinstance(exc, services.SelfChangeRefused) or not demoting else "role"
            self.add_error(refused_field, exc.user_message)
        except DomainError as exc:
            self.add_error(None, exc.user_message)
        return data


# Admin sign-in goes through the site's login page and its failed-attempt limits; the
# admin's own form (no limits, an Argon2 hash per guess) is never served.
admin.site.login = admin_login_view  # type: ignore[method-assign]  # replaces the admin's own login view on purpose


class PendingFilter(admin.SimpleListFilter):
    title = "approval"
    parameter_name = "approval"

    def lookups(self, request, model_admin):
        return (("pending", "Waiting for approval"), ("approved", "Approved"))

    def queryset(self, request, queryset):
        if self.value() == "pending":
            return queryset.filter(is_active=False, approved_at__isnull=True)
        if self.value() == "approved":
            return queryset.filter(approved_at__isnull=False)
        return queryset


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    form = UserChangeForm
    add_form = UserCreationForm
    add_form_template = None
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Role and status", {"fields": ("role", "is_active")}),
        ("Dates", {"fields": ("date_joined", "approved_at", "last_login")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "role", "password1", "password2")}),)
    readonly_fields = ("date_joined", "approved_at", "last_login")
    list_display = ("email", "role", "is_active", "account_status", "date_joined", "last_login", "live_tokens")
    list_filter = ("role", "is_active", PendingFilter)
    search_fields = ("email",)
    ordering = ("email",)
    filter_horizontal = ()
    actions = ("approve", "promote", "demote", "deactivate", "activate")

    @admin.display(description="status")
    def account_status(self, user):
        return user.status_label

    def get_queryset(self, request):
        live = Q(refresh_tokens__revoked_at__isnull=True, refresh_tokens__expires_at__gt=timezone.now())
        return super().get_queryset(request).annotate(live_token_count=Count("refresh_tokens", filter=live))

    @admin.display(description="live refresh tokens", ordering="live_token_count")
    def live_tokens(self, user):
        return user.live_token_count

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        form.acting_user = request.user  # a class made for this request by modelform_factory
        return form

    def get_actions(self, request):
        actions = super().get_actions(request)
        # Bulk deletion would skip the rules user_delete enforces; delete one at a time.
        actions.pop("delete_selected", None)
        return actions

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.pk == request.user.pk:
            return False
        return super().has_delete_permission(request, obj)

    def get_deleted_objects(self, objs, request):
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        # Refresh tokens are not deletable one by one in the admin, but go with their user.
        perms_needed.discard(RefreshToken._meta.verbose_name)
        return deleted, counts, perms_needed, protected

    def save_model(self, request, obj, form, change):
        if change:
            return  # UserChangeForm.clean() has made the change through services.user_update
        obj.save()

    def delete_model(self, request, obj):
        try:
            services.user_delete(user=obj, by=request.user)
        except DomainError as exc:
            self.message_user(request, exc.user_message, messages.ERROR)

    def _each(self, request, queryset, change, done: str):
        changed, refused = 0, []
        for user in queryset:
            try:
                change(user)
                changed += 1
            except DomainError as exc:
                refused.append(f"{user.email}: {exc.user_message}")
        if changed:
            self.message_user(request, f"{changed} user(s) {done}.", messages.SUCCESS)
        for message in refused:
            self.message_user(request, message, messages.ERROR)

    def _update_each(self, request, queryset, done: str, **change):
        self._each(request, queryset, lambda u: services.user_update(user=u, by=request.user, **change), done)

    @admin.action(description="Approve selected accounts waiting for approval")
    def approve(self, request, queryset):
        self._each(request, queryset, lambda u: services.user_approve(user=u), "approved")

    @admin.action(description="Promote selected users to admin")
    def promote(self, request, queryset):
        self._update_each(request, queryset, "promoted to admin", role=User.Role.ADMIN)

    @admin.action(description="Demote selected admins to user")
    def demote(self, request, queryset):
        self._update_each(request, queryset, "set to role user", role=User.Role.USER)

    @admin.action(description="Deactivate selected users (ends their sessions)")
    def deactivate(self, request, queryset):
        self._update_each(request, queryset, "deactivated", is_active=False)

    @admin.action(description="Activate selected users")
    def activate(self, request, queryset):
        self._update_each(request, queryset, "activated", is_active=True)


class TokenStateFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return (("active", "Active"), ("revoked", "Revoked"), ("expired", "Expired"))

    def queryset(self, request, queryset):
        now = timezone.now()
        if self.value() == "active":
            return queryset.active(now=now)
        if self.value() == "revoked":
            return queryset.filter(revoked_at__isnull=False)
        if self.value() == "expired":
            return queryset.expired(now=now)
        return queryset


@admin.register(RefreshToken)
class RefreshTokenAdmin(admin.ModelAdmin):
    """The refresh-token store, read-only: rows are written by logins and rotations only,
    and removed by the hourly purge of expired ones."""

    list_display = ("short_jti", "user", "family_short", "issued_at", "expires_at", "state", "revoked_reason")
    list_filter = (TokenStateFilter, "revoked_reason")
    search_fields = ("user__email", "jti", "family")
    list_select_related = ("user",)
    date_hierarchy = "issued_at"
    actions = ("revoke",)

    @admin.display(description="JTI", ordering="jti")
    def short_jti(self, token):
        return format_html('<span title="{}">{}…</span>', token.jti, token.jti[:12])

    @admin.display(description="family", ordering="family")
    def family_short(self, token):
        return format_html('<span title="{}">{}…</span>', token.family, token.family[:8])

    @admin.display(description="state")
    def state(self, token):
        if token.revoked_at is not None:
            return "revoked"
        return "active" if token.expires_at > timezone.now() else "expired"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description="Revoke selected refresh tokens")
    def revoke(self, request, queryset):
        revoked = tokens.refresh_tokens_revoke(tokens=queryset, reason=RefreshToken.RevokeReason.ADMIN)
        self.message_user(request, f"{revoked} refresh token(s) revoked.", messages.SUCCESS)


class ApiKeyStateFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return (("active", "Active"), ("revoked", "Revoked"), ("expired", "Expired"))

    def queryset(self, request, queryset):
        now = timezone.now()
        if self.value() == "active":
            return queryset.filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now), revoked_at__isnull=True)
        if self.value() == "revoked":
            return queryset.filter(revoked_at__isnull=False)
        if self.value() == "expired":
            return queryset.filter(revoked_at__isnull=True, expires_at__lte=now)
        return queryset


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    """Every user's personal API keys, read-only (the secrets are not stored): see and revoke."""

    list_display = ("name", "user", "prefix", "created_at", "expires_at", "last_used_at", "state")
    list_filter = (ApiKeyStateFilter,)
    search_fields = ("user__email", "name", "prefix")
    list_select_related = ("user",)
    date_hierarchy = "created_at"
    actions = ("revoke",)
    fields = ("user", "name", "prefix", "created_at", "expires_at", "last_used_at", "revoked_at")
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description="Revoke selected API keys")
    def revoke(self, request, queryset):
        revoked = api_keys.api_keys_revoke(keys=queryset)
        self.message_user(request, f"{revoked} API key(s) revoked.", messages.SUCCESS)
