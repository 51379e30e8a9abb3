from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        from accounts import checks  # noqa: F401 - registers the system checks
        from accounts.selectors import account_stats
        from core.sections import register_admin_stats

        register_admin_stats("", account_stats)  # users, admins, ... at the top level
