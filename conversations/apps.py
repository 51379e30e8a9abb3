from django.apps import AppConfig


class ConversationsConfig(AppConfig):
    name = "conversations"

    def ready(self) -> None:
        from core.sections import register_page_section
        from conversations import sections

        register_page_section("dashboard", "conversations/_dashboard_recent.html", context=sections.dashboard_context)
