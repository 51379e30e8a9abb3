from django.apps import AppConfig


class TwoFactorConfig(AppConfig):
    name = "twofactor"
    verbose_name = "Two-factor authentication"

    def ready(self) -> None:
        from core.sections import register_page_section
        from twofactor.views import profile_section_context

        register_page_section("profile", "twofactor/_profile_section.html", context=profile_section_context)
