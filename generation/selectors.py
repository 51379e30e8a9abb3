"""Reads of generations shared by the API, the pages and other apps (videos)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import CharField, Count, F, QuerySet, Sum, Value

from conversations.models import Conversation
from conversations.selectors import user_conversations
from core.errors import NotFound
from core.parsing import int_or_none
from generation.models import GeneratedImage, Generation


def user_generations(*, user, kind: str | None = None) -> QuerySet[Generation]:
    """The user's own generations, newest first, with their images and API key."""
    generations = Generation.objects.filter(owner=user)
    if kind:
        generations = generations.filter(kind=kind)
    return generations.order_by("-created_at", "-id").select_related("api_key").prefetch_related("images")


@dataclass(frozen=True)
class HistoryEntry:
    """One line of the history: a generation, or a conversation (its answers are not listed
    on their own). ``at`` is when it was made, or the conversation's last activity."""

    at: datetime
    generation: Generation | None = None
    conversation: object | None = None


class HistoryFeed:
    """The user's generations made outside conversations and their conversations, newest
    first, interleaved by time in the database: a sequence Paginator can count and slice.
    ``kind`` "text" or "image" keeps those generations, "conversation" the conversations."""

    def __init__(self, *, user, kind: str | None = None) -> None:
        generations = Generation.objects.filter(owner=user, conversation__isnull=True)
        if kind in Generation.Kind.values:
            generations = generations.filter(kind=kind)
        self._generations = None if kind == "conversation" else generations
        self._conversations = Conversation.objects.filter(owner=user) if kind in (None, "", "conversation") else None
        self._user = user

    def count(self) -> int:
        return sum(rows.count() for rows in (self._generations, self._conversations) if rows is not None)

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, window: slice) -> list[HistoryEntry]:
        keys = []
        for label, rows, at in (("g", self._generations, "created_at"), ("c", self._conversations, "updated_at")):
            if rows is not None:
                keys.append(
                    rows.order_by()
                    .annotate(entry=Value(label, output_field=CharField()), at=F(at))
                    .values_list("entry", "pk", "at")
                )
        if not keys:
            return []
        merged = keys[0].union(*keys[1:], all=True) if len(keys) > 1 else keys[0]
        page = list(merged.order_by("-at", "-pk")[window])
        generations = (
            Generation.objects.select_related("api_key")
            .prefetch_related("images")
            .in_bulk([pk for label, pk, _ in page if label == "g"])
        )
        conversations = {
            row.pk: row
            for row in user_conversations(user=self._user).filter(pk__in=[pk for label, pk, _ in page if label == "c"])
        }
        entries = []
        for label, pk, at in page:
            if label == "g" and pk in generations:
                entries.append(HistoryEntry(at=at, generation=generations[pk]))
            elif label == "c" and pk in conversations:
                entries.append(HistoryEntry(at=at, conversation=conversations[pk]))
        return entries


def user_generation(*, user, generation_id, allow_admin: bool = False) -> Generation:
    """One of the user's generations (any one for an admin when ``allow_admin``);
    someone else's is NotFound (404), never 403."""
    return _one_visible_to(
        user,
        Generation.objects.select_related("api_key").prefetch_related("images"),
        pk=int_or_none(generation_id),
        owner_lookup="owner",
        allow_admin=allow_admin,
        not_found="Generation not found.",
    )


def user_image(*, user, image_id, allow_admin: bool = False) -> GeneratedImage:
    """A stored image the user owns (any image for an admin when ``allow_admin``);
    otherwise NotFound (404), never revealing that it exists."""
    return _one_visible_to(
        user,
        GeneratedImage.objects.select_related("generation"),
        pk=int_or_none(image_id),
        owner_lookup="generation__owner",
        allow_admin=allow_admin,
        not_found="Image not found.",
    )


def _one_visible_to(user, rows: QuerySet, *, pk: int | None, owner_lookup: str, allow_admin: bool, not_found: str):
    """The row ``pk`` of ``rows`` if ``user`` owns it (or is an admin, when ``allow_admin``);
    otherwise NotFound, whether or not it exists."""
    row = None
    if pk is not None and getattr(user, "is_authenticated", False):
        rows = rows.filter(pk=pk)
        if not (allow_admin and user.is_admin):
            rows = rows.filter(**{owner_lookup: user})
        row = rows.first()
    if row is None:
        raise NotFound(not_found)
    return row


def generation_stats() -> dict:
    """Site-wide counts by kind and status and the total provider cost (admin stats)."""
    by_kind = {kind: 0 for kind in Generation.Kind.values}
    for row in Generation.objects.values("kind").annotate(n=Count("id")).order_by():
        by_kind[row["kind"]] = row["n"]
    by_status = {status: 0 for status in Generation.Status.values}
    for status_row in Generation.objects.values("status").annotate(n=Count("id")).order_by():
        by_status[status_row["status"]] = status_row["n"]
    totals = Generation.objects.aggregate(cost=Sum("cost"), tokens=Sum("total_tokens"))
    return {
        "total": sum(by_kind.values()),
        "by_kind": by_kind,
        "by_status": by_status,
        "total_tokens": totals["tokens"] or 0,
        "total_cost": totals["cost"] or 0,
    }


def user_usage_summary(*, user) -> dict:
    """One user's generation counts, tokens and cost (profile page, admin views)."""
    generations = Generation.objects.filter(owner=user)
    by_kind = {kind: 0 for kind in Generation.Kind.values}
    for row in generations.values("kind").annotate(n=Count("id")).order_by():
        by_kind[row["kind"]] = row["n"]
    totals = generations.aggregate(
        cost=Sum("cost"),
        prompt=Sum("prompt_tokens"),
        completion=Sum("completion_tokens"),
        tokens=Sum("total_tokens"),
    )
    return {
        "total": sum(by_kind.values()),
        "by_kind": by_kind,
        "failed": generations.filter(status=Generation.Status.FAILED).count(),
        "images": GeneratedImage.objects.filter(generation__owner=user).count(),
        "prompt_tokens": totals["prompt"] or 0,
        "completion_tokens": totals["completion"] or 0,
        "total_tokens": totals["tokens"] or 0,
        "total_cost": totals["cost"] or 0,
    }
