from django.apps import AppConfig


class GenerationConfig(AppConfig):
    name = "generation"

    def ready(self) -> None:
        from core.sections import register_admin_stats, register_page_section
        from core.shutdown import on_server_stop
        from generation import sections, signals  # noqa: F401  (signals: file clean-up on delete)
        from generation.selectors import generation_stats
        from generation.services import close_open_streams

        on_server_stop(close_open_streams)  # streams cut by a stopping server are saved

        register_admin_stats("generations", generation_stats)
        register_page_section("dashboard", "generation/_dashboard_recent.html", context=sections.dashboard_context)
        register_page_section("profile", "generation/_usage_summary.html", context=sections.profile_context)
