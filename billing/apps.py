from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "billing"
    verbose_name = "Spending budgets"

    def ready(self) -> None:
        from django.core.signals import setting_changed
        from django.db.models.signals import post_delete, post_save

        from billing.models import UserBudget
        from core.changes import changed

        # Each process keeps the budget limits it read (core.changes): a saved or deleted
        # budget row (the Django admin's included) makes every process read them again.
        post_save.connect(changed, sender=UserBudget, dispatch_uid="kept-reads-saved-UserBudget")
        post_delete.connect(changed, sender=UserBudget, dispatch_uid="kept-reads-deleted-UserBudget")
        # The kept limits hold the site's default budgets too (a test's overridden settings).
        setting_changed.connect(changed, dispatch_uid="kept-reads-setting-changed")
