from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        from accounts import checks  # noqa: F401 - registers the system checks
        from accounts.models import password_changed
        from accounts.selectors import account_stats
        from accounts.services import user_password_changed
        from core.sections import register_admin_stats

        register_admin_stats("", account_stats)  # users, admins, ... at the top level
        password_changed.connect(user_password_changed, dispatch_uid="accounts.end_sessions_on_password_change")
