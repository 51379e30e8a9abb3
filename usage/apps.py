from django.apps import AppConfig


class UsageConfig(AppConfig):
    name = "usage"

    def ready(self) -> None:
        from core.sections import register_admin_stats
        from usage.selectors import site_spend_summary
        from usage.services import provider_key_stats

        # The provider's own account of the key (GET /key) beside the site's counts.
        register_admin_stats("provider_key", provider_key_stats)
        # The site's spend, generations and videos together, as the usage pages count it.
        register_admin_stats("spend", site_spend_summary)
