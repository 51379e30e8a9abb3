from django.apps import AppConfig


class CatalogueConfig(AppConfig):
    name = "catalogue"
    verbose_name = "Model catalogue"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from catalogue import startup  # noqa: F401  (fills an empty catalogue when a worker starts)
        from catalogue.models import ProviderModel
        from catalogue.selectors import catalogue_entries_changed

        # Saves outside the services (the Django admin's list) forget kept entries too.
        post_save.connect(catalogue_entries_changed, sender=ProviderModel, dispatch_uid="catalogue-entries-saved")
        post_delete.connect(catalogue_entries_changed, sender=ProviderModel, dispatch_uid="catalogue-entries-deleted")
