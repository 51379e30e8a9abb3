from django.apps import AppConfig


class ConversationsConfig(AppConfig):
    name = "conversations"

    def ready(self) -> None:
        from conversations import sections
        from core.sections import register_page_section

        register_page_section("dashboard", "conversations/_dashboard_recent.html", context=sections.dashboard_context)
