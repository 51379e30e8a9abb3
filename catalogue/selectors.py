"""Reads of the model catalogue shared by the API, the pages and the other apps."""

from __future__ import annotations

import threading
import time

from django.conf import settings
from django.db.models import Exists, OuterRef, QuerySet

from catalogue.errors import UnknownModel
from catalogue.models import ProviderModel
from core.changes import changed, counter_reading, own_copy

KIND_FLAGS = {"text": "is_text", "image": "is_image", "video": "is_video", "embedding": "is_embedding"}


def catalogue_list(*, kind: str | None = None, include_unavailable: bool = False, user=None) -> QuerySet[ProviderModel]:
    """Catalogue entries, optionally of one kind (text, image, video or embedding), by id.

    With ``user``: only the models that person may use (:func:`usable`), as the pickers,
    GET /api/models and /v1/models offer them. Without: every entry, whatever the
    administrator's switches (the admin panel's list).
    """
    models = ProviderModel.objects.all()
    if not include_unavailable:
        models = models.filter(available=True)
    if kind:
        models = models.filter(**{KIND_FLAGS[kind]: True})
    if user is not None:
        models = models.filter(enabled=True)
        if not getattr(user, "is_admin", False):
            limited = _group_access().filter(providermodel_id=OuterRef("pk"))
            models = models.filter(admins_only=False).filter(
                ~Exists(limited) | Exists(limited.filter(team__memberships__user_id=user.pk))
            )
    return models.order_by("id")


def _group_access():
    """The rows that limit a model to a group (the group side, teams.models.Team, owns the
    relation; the decision is made here)."""
    return ProviderModel.teams.through.objects.all()


def catalogue_entry(*, model_id: str, kind: str, user=None) -> ProviderModel:
    """The available catalogue entry for ``model_id`` that makes ``kind`` outputs and, with
    ``user``, that this person may use; UnknownModel (400 on field "model") otherwise."""
    model_id = (model_id or "").strip()
    if not model_id:
        raise UnknownModel("Choose a model.", field="model")
    entry = _available_entry(model_id)
    if entry is None:
        raise UnknownModel.unknown(model_id=model_id, kind=kind)
    if not entry.has_kind(kind):
        raise UnknownModel.wrong_kind(model_id=model_id, kind=kind, kinds=entry.kinds)
    if user is not None and not entry.enabled:
        raise UnknownModel.disabled(model_id=model_id, kind=kind)
    if user is not None and not entry.usable_by(user):
        raise UnknownModel.admins_only(model_id=model_id, kind=kind)
    if user is not None and not _in_group_of(entry, user):
        raise UnknownModel.group_only(model_id=model_id, kind=kind)
    return entry


def _in_group_of(entry: ProviderModel, user) -> bool:
    """Whether ``user`` may use an entry limited to groups: an administrator, or a member
    of one of them. Read at every request (no cache), so a membership change applies to
    the next one; an entry that is not limited costs no query."""
    if not entry.group_ids or getattr(user, "is_admin", False):
        return True
    return _group_access().filter(team_id__in=entry.group_ids, team__memberships__user_id=user.pk).exists()


# Every generation request reads its model's entry: a busy web process keeps the entries it
# read for CATALOGUE_CACHE_SECONDS at most. A change through the application (catalogue.
# services, a group's models, and the signals in catalogue.apps and teams.apps, in any
# process: a sync run by the worker, an admin's switch on another web process) moves the
# installation's change counter (core.changes), and every process reads its entries again.
_entries: dict[str, tuple[float, int, ProviderModel | None]] = {}
_entries_lock = threading.Lock()


def _keeping_seconds() -> float:
    return settings.CATALOGUE_CACHE_SECONDS if settings.KEEP_READS else 0


def _kept(model_id: str, now: float) -> tuple[float, int, ProviderModel | None] | None:
    """What this process keeps of ``model_id`` (read at, stamp, entry or None), while fresh."""
    ttl = _keeping_seconds()
    if ttl <= 0:
        return None
    with _entries_lock:
        kept = _entries.get(model_id)
    if kept is None or now - kept[0] >= ttl or kept[1] != counter_reading():
        return None
    return kept


def _available_entry(model_id: str) -> ProviderModel | None:
    now = time.monotonic()
    stamp = counter_reading()
    kept = _kept(model_id, now)
    if kept is not None:
        return own_copy(kept[2])
    entry = ProviderModel.objects.filter(pk=model_id, available=True).first()
    if entry is not None:
        # The groups the entry is limited to are kept with it (changing them clears the kept entries).
        entry.group_ids = tuple(
            _group_access().filter(providermodel_id=model_id).order_by("team_id").values_list("team_id", flat=True)
        )
    if _keeping_seconds() > 0:
        with _entries_lock:
            _entries[model_id] = (now, stamp, entry)
    return own_copy(entry)


def entry_in_memory(model_id, user=None) -> bool:
    """Whether :func:`catalogue_entry` would read nothing for ``model_id`` and ``user``: this
    process keeps the entry (or its absence), fresh, and it is limited to no group (or
    ``user`` is an administrator). Kept entries expire, so a caller that acts on the
    answer must still expect a read (Django refuses one on the event loop)."""
    kept = _kept(model_id.strip(), time.monotonic()) if isinstance(model_id, str) else None
    if kept is None:
        return False
    entry = kept[2]
    return entry is None or not entry.group_ids or getattr(user, "is_admin", False)


def catalogue_entries_changed(**_signal) -> None:
    """Forget the kept entries (after a change to the catalogue), in every process."""
    with _entries_lock:
        _entries.clear()
    changed()


def catalogue_is_empty() -> bool:
    return not ProviderModel.objects.exists()


def picker_options(models) -> list[dict]:
    """What a page's model picker needs to offer only the chosen model's values."""
    return [
        {
            "id": m.pk,
            "name": m.name or m.pk,
            "route": m.image_route,
            "aspect_ratios": m.aspect_ratios,
            "resolutions": m.resolutions,
            "sizes": m.sizes,
            "durations": m.durations,
            "max_n": m.max_n,
            "from_image": "first_frame" in (m.frame_images or []),
        }
        for m in models
    ]
