from django.apps import AppConfig


class VideosConfig(AppConfig):
    name = "videos"

    def ready(self) -> None:
        from core.sections import register_admin_stats, register_page_section
        from videos import sections, signals  # noqa: F401  (signals: file clean-up on delete)
        from videos.selectors import video_stats

        register_admin_stats("videos", video_stats)
        register_page_section("dashboard", "videos/_dashboard_recent.html", context=sections.dashboard_context)
