from django.contrib import admin

from audit.models import AuditEntry


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    """Read-only: the trail is only ever added to, by the services."""

    list_display = ("at", "actor_email", "action", "target_type", "target_id", "target_repr", "address")
    list_filter = ("action", "target_type")
    search_fields = ("actor_email", "target_repr", "target_id", "request_id")
    date_hierarchy = "at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
