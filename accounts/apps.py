from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from accounts import checks  # noqa: F401 - registers the system checks
        from accounts.api_keys import ApiKey
        from accounts.models import User, password_changed
        from accounts.selectors import account_stats
        from accounts.services import user_password_changed
        from core.changes import changed
        from core.sections import register_admin_stats

        register_admin_stats("", account_stats)  # users, admins, ... at the top level
        # Each process keeps the API keys it read with their owners (core.changes): any
        # saved or deleted key or user (the Django admin's included) makes every process
        # read them again. The services' bulk UPDATEs call changed() themselves.
        for model in (User, ApiKey):
            post_save.connect(changed, sender=model, dispatch_uid=f"kept-reads-saved-{model.__name__}")
            post_delete.connect(changed, sender=model, dispatch_uid=f"kept-reads-deleted-{model.__name__}")
        password_changed.connect(user_password_changed, dispatch_uid="accounts.end_sessions_on_password_change")
