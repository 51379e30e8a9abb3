from django.contrib import admin

from sso.models import Identity


@admin.register(Identity)
class IdentityAdmin(admin.ModelAdmin):
    """Read-only: links are made by signing in; deleting one makes the next sign-in match by
    verified email again."""

    list_display = ("user", "issuer", "subject", "email", "admin_from_claim", "last_login_at")
    search_fields = ("user__email", "email", "subject")
    readonly_fields = (
        "user",
        "issuer",
        "subject",
        "email",
        "synced_team_ids",
        "admin_from_claim",
        "created_at",
        "last_login_at",
    )

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
