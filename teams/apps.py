from django.apps import AppConfig


class TeamsConfig(AppConfig):
    name = "teams"
    verbose_name = "Groups"

    def ready(self) -> None:
        from django.db.models.signals import m2m_changed, post_delete

        from catalogue.selectors import catalogue_entries_changed
        from teams.models import Team

        # A web process keeps the catalogue entries it read, with the groups each is limited
        # to: a change of those (here, or in the Django admin) clears them.
        m2m_changed.connect(
            catalogue_entries_changed, sender=Team.limited_models.through, dispatch_uid="teams-models-changed"
        )
        post_delete.connect(catalogue_entries_changed, sender=Team, dispatch_uid="teams-group-deleted")
