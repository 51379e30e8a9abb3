from django.contrib import admin

from generation.models import GeneratedImage, Generation


class GeneratedImageInline(admin.TabularInline):
    model = GeneratedImage
    extra = 0
    fields = ("index", "file", "width", "height", "media_type", "size_bytes")
    readonly_fields = fields
    can_delete = False


@admin.register(Generation)
class GenerationAdmin(admin.ModelAdmin):
    list_display = ("id", "owner", "kind", "model_id", "status", "total_tokens", "cost", "created_at")
    list_filter = ("kind", "status", "route")
    search_fields = ("owner__email", "model_id", "prompt")
    list_select_related = ("owner",)
    readonly_fields = (
        "owner",
        "kind",
        "model_id",
        "prompt",
        "system",
        "params",
        "status",
        "text",
        "html",
        "error",
        "error_detail",
        "error_kind",
        "provider_id",
        "route",
        "prompt_tokens",
        "completion_tokens",
        "total_tokens",
        "cost",
        "created_at",
        "finished_at",
    )
    inlines = [GeneratedImageInline]

    def has_add_permission(self, request):
        # Generations come from the provider through the services; an admin-made row would
        # have no owner or result (every field here is read-only).
        return False
