from django.contrib import admin

from catalogue.models import ProviderModel


@admin.register(ProviderModel)
class ProviderModelAdmin(admin.ModelAdmin):
    list_display = ("id", "name", "kinds", "image_route", "available", "enabled", "admins_only", "last_seen")
    # The administrator's switches, changed right in the list (the sync never overwrites them).
    list_editable = ("enabled", "admins_only")
    list_filter = (
        "available",
        "enabled",
        "admins_only",
        "is_text",
        "is_image",
        "is_video",
        "is_embedding",
        "image_route",
    )
    search_fields = ("id", "name")
    readonly_fields = ("first_seen", "last_seen", "updated_at")
