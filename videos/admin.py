from django.contrib import admin, messages

from core.errors import DomainError
from videos import services
from videos.models import VideoJob


@admin.register(VideoJob)
class VideoJobAdmin(admin.ModelAdmin):
    """Jobs are changed only through their lifecycle (services): everything is read-only
    here, and the one action cancels through the same service as the API."""

    list_display = (
        "id",
        "owner",
        "generation_type",
        "model",
        "status",
        "progress",
        "consecutive_failures",
        "cost",
        "created_at",
        "finished_at",
    )
    list_filter = ("status", "generation_type", "model", "created_at")
    search_fields = ("=id", "owner__email", "prompt", "provider_job_id")
    list_select_related = ("owner",)
    date_hierarchy = "created_at"
    actions = ["cancel_jobs"]
    fieldsets = (
        (None, {"fields": ("owner", "generation_type", "model", "prompt", "status", "progress", "error")}),
        (
            "Parameters",
            {
                "fields": (
                    "aspect_ratio",
                    "resolution",
                    "duration",
                    "source_image_url",
                    "source_image",
                    "source_image_file",
                )
            },
        ),
        (
            "Provider",
            {
                "fields": (
                    "provider_job_id",
                    "polling_url",
                    "consecutive_failures",
                    "next_action_at",
                    "deadline_at",
                    "provider_video_url",
                    "error_detail",
                    "usage",
                    "cost",
                )
            },
        ),
        ("Result", {"fields": ("video_file", "video_bytes")}),
        ("Times", {"fields": ("created_at", "updated_at", "submitted_at", "finished_at", "cancelled_at")}),
    )

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in VideoJob._meta.fields]

    def has_add_permission(self, request):
        return False

    @admin.action(description="Cancel selected jobs (stops our polling; the provider has no cancel)")
    def cancel_jobs(self, request, queryset):
        cancelled = skipped = 0
        for pk in queryset.values_list("pk", flat=True):
            try:
                services.video_job_cancel(job_id=pk)
                cancelled += 1
            except DomainError:
                skipped += 1
        self.message_user(request, f"{cancelled} job(s) cancelled.", messages.SUCCESS)
        if skipped:
            self.message_user(
                request, f"{skipped} job(s) had already finished and were left as they are.", messages.WARNING
            )
