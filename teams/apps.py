from django.apps import AppConfig


class TeamsConfig(AppConfig):
    name = "teams"
    verbose_name = "Groups"

    def ready(self) -> None:
        from django.db.models.signals import m2m_changed, post_delete, post_save

        from catalogue.selectors import catalogue_entries_changed
        from core.changes import changed
        from teams.models import Membership, Team

        # A web process keeps the catalogue entries it read, with the groups each is limited
        # to: a change of those (here, or in the Django admin) clears them.
        m2m_changed.connect(
            catalogue_entries_changed, sender=Team.limited_models.through, dispatch_uid="teams-models-changed"
        )
        post_delete.connect(catalogue_entries_changed, sender=Team, dispatch_uid="teams-group-deleted")
        # Each process keeps its users' budget limits, their groups' among them
        # (core.changes): a saved or deleted group or membership (the Django admin's
        # included) makes every process read them again.
        for model in (Team, Membership):
            post_save.connect(changed, sender=model, dispatch_uid=f"kept-reads-saved-{model.__name__}")
            post_delete.connect(changed, sender=model, dispatch_uid=f"kept-reads-deleted-{model.__name__}")
