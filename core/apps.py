from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "Studio core"

    def ready(self) -> None:
        from core import checks, middleware, sections  # noqa: F401  (register their system checks)
