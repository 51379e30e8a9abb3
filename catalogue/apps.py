from django.apps import AppConfig


class CatalogueConfig(AppConfig):
    name = "catalogue"
    verbose_name = "Model catalogue"

    def ready(self) -> None:
        from catalogue import startup  # noqa: F401  (fills an empty catalogue when a worker starts)
