from django.contrib import admin

from catalogue.models import ProviderModel


@admin.register(ProviderModel)
class ProviderModelAdmin(admin.ModelAdmin):
    list_display = ("id", "name", "kinds", "image_route", "available", "last_seen")
    list_filter = ("available", "is_text", "is_image", "is_video", "image_route")
    search_fields = ("id", "name")
    readonly_fields = ("first_seen", "last_seen", "updated_at")
