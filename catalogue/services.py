"""State changes of the model catalogue: keeping ProviderModel in step with the provider."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from audit import services as audit
from catalogue.errors import EmptyCatalogue
from catalogue.models import ProviderModel
from catalogue.selectors import catalogue_entries_changed
from openrouter.client import get_client
from openrouter.types import CatalogueModel

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CatalogueSyncResult:
    created: int
    updated: int
    unchanged: int
    marked_unavailable: int

    def __str__(self) -> str:
        return (
            f"{self.created} new, {self.updated} updated, {self.unchanged} unchanged, "
            f"{self.marked_unavailable} marked unavailable"
        )


def catalogue_sync(*, entries: list[CatalogueModel] | None = None) -> CatalogueSyncResult:
    """Bring the ProviderModel table in line with the provider's three catalogues.

    Idempotent: a second run with the same catalogue changes nothing but ``last_seen``.
    Models the provider no longer lists are marked unavailable, not deleted; a model that
    comes back is available again. The provider is asked before any transaction opens.
    A new model starts enabled or disabled as MODELS_ENABLED_BY_DEFAULT says; the
    administrator's switches (``enabled``, ``admins_only``) of known models are never touched.
    """
    if entries is None:
        entries = get_client().fetch_catalogue()
    if not entries:
        # An empty answer is a provider fault, not "every model was withdrawn".
        raise EmptyCatalogue()
    now = timezone.now()
    id_limit = ProviderModel._meta.get_field("id").max_length
    assert id_limit is not None  # the id is a CharField with a max_length
    too_long = [entry.id for entry in entries if len(entry.id) > id_limit]
    if too_long:
        log.warning("Skipping catalogue models with ids longer than %s characters: %s", id_limit, too_long)
    incoming = {entry.id: ProviderModel.values_from_catalogue(entry) for entry in entries if len(entry.id) <= id_limit}
    created = updated = unchanged = 0
    with transaction.atomic():
        existing = {model.pk: model for model in ProviderModel.objects.filter(pk__in=list(incoming))}
        new_rows = []
        for model_id, values in incoming.items():
            model = existing.get(model_id)
            if model is None:
                new_rows.append(
                    ProviderModel(
                        id=model_id,
                        first_seen=now,
                        last_seen=now,
                        updated_at=now,
                        available=True,
                        enabled=settings.MODELS_ENABLED_BY_DEFAULT,
                        **values,
                    )
                )
                created += 1
                continue
            changed = {name: value for name, value in values.items() if getattr(model, name) != value}
            if changed or not model.available:
                ProviderModel.objects.filter(pk=model_id).update(
                    **changed, available=True, last_seen=now, updated_at=now
                )
                updated += 1
            else:
                unchanged += 1
        if new_rows:
            ProviderModel.objects.bulk_create(new_rows)
        # One statement for every model seen again: its last_seen moves on.
        if existing:
            ProviderModel.objects.filter(pk__in=list(existing)).update(last_seen=now)
        gone = (
            ProviderModel.objects.filter(available=True)
            .exclude(pk__in=list(incoming))
            .update(available=False, updated_at=now)
        )
    catalogue_entries_changed()
    result = CatalogueSyncResult(created=created, updated=updated, unchanged=unchanged, marked_unavailable=gone)
    log.info("Model catalogue synced: %s", result)
    return result


def model_access_update(
    *, model: ProviderModel, enabled: bool | None = None, admins_only: bool | None = None
) -> ProviderModel:
    """Set an administrator's switches of one model (None keeps a switch as it is).
    A disabled model is offered to nobody; an admins-only one to administrators only."""
    changes = {
        name: value
        for name, value in (("enabled", enabled), ("admins_only", admins_only))
        if value is not None and getattr(model, name) != value
    }
    if changes:
        with transaction.atomic():
            ProviderModel.objects.filter(pk=model.pk).update(**changes, updated_at=timezone.now())
            audit.model_access_changed(model_id=model.pk, before={k: getattr(model, k) for k in changes}, after=changes)
        catalogue_entries_changed()
        model.refresh_from_db()
    return model
