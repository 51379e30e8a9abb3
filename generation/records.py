"""The history rows of generations: recorded before a provider call, finished after it.

Plain synchronous steps, each a unit of database work that gives the connection back
when it ends (`core.db.release_db_connection`): the async services run them in a
worker thread and await the provider in between with no connection held, so on DuckDB
other processes can take the file meanwhile.
"""

from __future__ import annotations

import dataclasses
import logging
from datetime import timedelta
from decimal import Decimal

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from billing import services as billing
from core import diskfull
from core.db import release_db_connection, retry_on_write_conflict, update_rows
from core.errors import Conflict, DomainError, ErrorKind, OperationFailed, Unavailable, describe_failure
from core.files import delete_stored_file
from core.images import DecodedImage
from core.parsing import cost_or_none
from generation import markdown
from generation.models import GeneratedImage, Generation
from generation.validation import EmbeddingRequest, ImageRequest, TextRequest
from openrouter.errors import ProviderError
from openrouter.types import EmbeddingResult, ImageResult, Usage

log = logging.getLogger(__name__)

Status = Generation.Status
CUT_SHORT = "The answer was cut short: the connection closed before it was complete."
INTERRUPTED = "The generation was interrupted (the server restarted); try again."


class StorageFailed(Unavailable):
    default_message = "The generated images could not be stored; nothing was kept. Try again."


class NotRecorded(Unavailable):
    default_message = "The generation could not be recorded, so nothing was asked of the provider. Try again."


class GenerationDeleted(Conflict):
    default_message = "The generation was deleted while it ran; its images were not kept."


class RequestCancelled(OperationFailed):
    """The request ended (its client went away) before the provider was asked."""

    default_message = "The request was cancelled (the connection closed) before the provider was asked."


class GenerationFailed(OperationFailed):
    """An unexpected failure after the provider call; the attempt is recorded as failed."""

    default_message = "The generation failed; try again."


def usage_fields(usage: Usage) -> dict:
    return {
        "prompt_tokens": max(0, int(usage.prompt_tokens or 0)),
        "completion_tokens": max(0, int(usage.completion_tokens or 0)),
        "total_tokens": max(0, int(usage.total_tokens or 0)),
        "cost": cost_or_none(usage.cost) or Decimal("0"),
    }


def _with_hold(generation: Generation, hold) -> Generation:
    """Note the budget reservation on the row (and on the object, for settling it when
    the generation ends: billing.services.settle)."""
    billing.attach(hold, generation_id=generation.pk)
    generation.budget_hold = hold
    return generation


def budget_hold(generation: Generation):
    """The budget reservation a pending row was opened with (None without a budget)."""
    return getattr(generation, "budget_hold", None)


def text_unsaved(*, user, request: TextRequest, stream: bool, hold=None, api_key=None) -> Generation:
    """The pending row of a text request, not written yet (:func:`insert_pending`)."""
    params = {**request.params, **({"stream": True} if stream else {})}
    generation = Generation(
        owner=user,
        kind=Generation.Kind.TEXT,
        model_id=request.model.pk,
        prompt=request.prompt,
        system=request.system,
        params=params,
        status=Status.PENDING,
        api_key=api_key,
        conversation=request.conversation,
    )
    generation.budget_hold = hold
    return generation


def insert_pending(generations: list[Generation]) -> list[Generation]:
    """Write pending rows, those of concurrent requests in one INSERT (see
    generation.services: on DuckDB an INSERT's fixed cost dominates), and note each
    budget reservation on its row. Safe to repeat for rows already written (a batch
    that failed after its INSERT): those only get their reservation noted."""
    unsaved = [generation for generation in generations if generation.pk is None]
    if len(unsaved) == 1:
        # One statement is a transaction of its own: bulk_create's would add a BEGIN and a
        # COMMIT (statements on DuckDB, round trips on PostgreSQL) to the most common case.
        unsaved[0].save(force_insert=True)
    elif unsaved:
        Generation.objects.bulk_create(unsaved)
    for generation in generations:
        billing.attach(budget_hold(generation), generation_id=generation.pk)
    release_db_connection()
    return generations


def insert_pending_with(generation: Generation, write_own) -> Generation:
    """Write a pending row and, in the same transaction, the caller's own rows
    (``write_own(generation)``: a conversation's messages): all kept, or none."""
    with transaction.atomic():
        insert_pending([generation])
        write_own(generation)
    release_db_connection()
    return generation


def image_pending(*, user, request: ImageRequest, hold=None, api_key=None) -> Generation:
    """The pending row of an image request, with the route its model's entry decides. An
    image sent as a data URL to edit is not stored yet: store_images keeps it (as the
    user's upload, linked as the source) only when the edit succeeds."""
    generation = Generation.objects.create(
        owner=user,
        kind=Generation.Kind.IMAGE,
        model_id=request.model.pk,
        prompt=request.prompt,
        params=request.params,
        route=request.model.image_route or "images",
        status=Status.PENDING,
        api_key=api_key,
        source_image=request.source,
    )
    _with_hold(generation, hold)
    release_db_connection()
    return generation


def embedding_pending(*, user, request: EmbeddingRequest, hold=None, api_key=None) -> Generation:
    """The pending row of an embeddings request: one per request, whatever the number of inputs."""
    generation = Generation.objects.create(
        owner=user,
        kind=Generation.Kind.EMBEDDING,
        model_id=request.model.pk,
        prompt=request.prompt,
        params=request.params,
        status=Status.PENDING,
        api_key=api_key,
    )
    _with_hold(generation, hold)
    release_db_connection()
    return generation


def embedding_summary(result: EmbeddingResult) -> str:
    """What the history says of an answer: how many vectors, of what size (not the vectors)."""
    first = result.vectors[0]
    size = len(first) if isinstance(first, list) else len(first) * 3 // 4 // 4  # base64 of float32 values
    count = len(result.vectors)
    return f"{count} vector{'s' if count != 1 else ''} of {size} dimensions"


def complete_embedding(generation: Generation, result: EmbeddingResult) -> Generation:
    """Complete an embeddings row with the provider's usage (its reservation settled at the
    provider's cost) and a summary of the vectors."""
    hold = budget_hold(generation)
    billing.safely(
        "settling an embeddings reservation",
        lambda: billing.settle(hold, amount=billing.provider_cost(hold, result.usage)),
    )
    return finish(
        generation,
        status=Status.COMPLETED,
        text=embedding_summary(result),
        provider_id=result.id[:200],
        **usage_fields(result.usage),
    )


UPLOAD_PROMPT = "Uploaded image"


def store_upload(*, user, image: DecodedImage, created_at=None) -> GeneratedImage:
    """Keep an image the user sent as theirs: a completed image generation on the upload
    route (no model, no provider call, nothing charged) holding its one stored image, so
    edits of it link to it and its page can show them. Its file is removed again if the
    row cannot be written."""
    now = timezone.now()
    with transaction.atomic():
        holder = Generation.objects.create(
            owner=user,
            kind=Generation.Kind.IMAGE,
            model_id="",
            prompt=UPLOAD_PROMPT,
            route=Generation.UPLOAD_ROUTE,
            status=Status.COMPLETED,
            created_at=created_at or now,
            finished_at=now,
            params={"uploaded": f"{image.media_type}, {len(image.data)} bytes"},
        )
        row = GeneratedImage(
            generation=holder,
            index=0,
            width=image.width,
            height=image.height,
            media_type=image.media_type,
            size_bytes=len(image.data),
        )
        row.file.save(GeneratedImage.file_name(0, image.media_type), ContentFile(image.data), save=False)
        try:
            row.save()
        except BaseException:
            if row.file.name:
                delete_stored_file(default_storage, row.file.name)
            raise
    return row


def finish(generation: Generation, *, status: str, **fields) -> Generation:
    """Move a pending generation to its final state and return it as stored.

    A conditional update: a row that already finished is left as it is (and read back).
    A row its owner deleted meanwhile stays deleted: the in-memory generation is
    returned as finished.
    A final ``text`` comes with its sanitized ``html`` (the web process renders it off
    the database steps: generation.markdown.render_markdown_async); without one it is
    rendered here, once (reads never render).
    """
    fields = {"status": status, "finished_at": timezone.now(), **fields}
    if "text" in fields and fields.get("html") is None:
        fields["html"] = markdown.render_markdown(fields["text"])
    updated = Generation.objects.filter(pk=generation.pk, status=Status.PENDING).update(**fields)
    # This call finished it: the row now holds exactly these values, no need to read it.
    fresh = None if updated else Generation.objects.filter(pk=generation.pk).prefetch_related("images").first()
    release_db_connection()
    if fresh is None:
        for name, value in fields.items():
            setattr(generation, name, value)
        return generation
    return fresh


@dataclasses.dataclass(frozen=True)
class TextAnswer:
    """A text generation's answer, to complete its row with (complete_texts)."""

    generation: Generation
    text: str
    provider_id: str
    finish_reason: str | None
    usage: Usage
    html: str | None = None  # rendered already (else here)
    tool_calls: tuple = ()  # the functions the model called, kept in the row's params


def readable_answer(text: str, tool_calls) -> str:
    """The answer as the generation's page shows it: its text, then the functions it calls."""
    if not tool_calls:
        return text
    calls = "\n".join(f"{call['function']['name']}({call['function']['arguments']})" for call in tool_calls)
    return f"{text}\n\nTool calls:\n\n```\n{calls}\n```".lstrip()


def complete_texts(answers: list[TextAnswer]) -> list[Generation]:
    """Complete pending text rows with their answers, all in one UPDATE (see
    core.db.update_rows: streams that end together each need their own row written), and
    settle their reservations. Like :func:`finish`: a row that already finished is read
    back as it is, one its owner deleted is returned as it would have been. Safe to
    repeat (a settled reservation, a finished row, stay as they are)."""
    now = timezone.now()
    changes = {}
    for answer in answers:
        hold = budget_hold(answer.generation)
        billing.safely(
            "settling a text reservation",
            lambda: billing.settle(hold, amount=billing.provider_cost(hold, answer.usage)),
        )
        changes[answer.generation.pk] = {
            "status": Status.COMPLETED,
            "finished_at": now,
            "text": answer.text,
            "html": answer.html
            if answer.html is not None
            else markdown.render_markdown(readable_answer(answer.text, answer.tool_calls)),
            "provider_id": answer.provider_id[:200],
            "finish_reason": (answer.finish_reason or "")[:40],
            **usage_fields(answer.usage),
            # Only an answer that called functions changes params (rewriting the JSON
            # column costs DuckDB a fifth of the UPDATE).
            **(
                {"params": {**answer.generation.params, "tool_calls": list(answer.tool_calls)}}
                if answer.tool_calls
                else {}
            ),
        }
    written = _update_by_fields(changes)
    finished = []
    for answer in answers:
        generation, fields = answer.generation, changes[answer.generation.pk]
        fresh = None
        if generation.pk not in written:  # finished elsewhere (cut short, failed) or deleted
            fresh = Generation.objects.filter(pk=generation.pk).prefetch_related("images").first()
        if fresh is None:
            for name, value in fields.items():
                setattr(generation, name, value)
            fresh = generation
        finished.append(fresh)
    release_db_connection()
    return finished


def _update_by_fields(changes: dict) -> set:
    """update_rows for rows that change different fields: one UPDATE per set of fields."""
    groups: dict[tuple, dict] = {}
    for key, values in changes.items():
        groups.setdefault(tuple(values), {})[key] = values
    written: set = set()
    for group in groups.values():
        written |= update_rows(Generation, group, where={"status": Status.PENDING})
    return written


def record_failure(generation: Generation, exc: BaseException, *, detail: str | None = None, **fields) -> Generation:
    """Fail the row with the reason a person can act on (the provider's, or ours);
    ``detail`` (for administrators) is the error's own text unless given."""
    billing.safely("releasing a reservation", lambda: billing.release(budget_hold(generation)))
    expected = isinstance(exc, (ProviderError, DomainError))
    if not expected:
        log.error("Generation %s failed unexpectedly", generation.pk, exc_info=exc)
    failure = describe_failure(exc)
    if detail is None:
        detail = str(exc) if expected else f"{type(exc).__name__}: {exc}"
    return finish(
        generation,
        status=Status.FAILED,
        error=failure.message,
        error_detail=detail[:4000],
        error_kind=failure.kind,
        **fields,
    )


def record_cut_short(generation: Generation, *, text: str, why: str, html=None) -> Generation:
    """The client went away (or the server is stopping): keep what arrived as partial.
    The provider may bill the whole answer, so the reservation counts in full."""
    billing.safely("settling a cut-short reservation", lambda: billing.settle(budget_hold(generation), amount=None))
    return finish(generation, status=Status.PARTIAL, text=text, html=html, error=CUT_SHORT, error_detail=why[:4000])


def record_abandoned(generation: Generation, *, why: str) -> Generation:
    """The request ended before the provider was asked: the reservation released, the
    row failed (a row already final stays as it is)."""
    return record_failure(generation, RequestCancelled(), detail=why)


def fail_interrupted(*, created_before, now) -> int:
    """Fail every generation still pending that was created before ``created_before``:
    no request can still be working on it, so the process that was died mid-call. One
    conditional UPDATE; the number of rows failed."""
    stale = Generation.objects.filter(status=Status.PENDING, created_at__lt=created_before)
    failed = retry_on_write_conflict(
        lambda: stale.update(
            status=Status.FAILED,
            finished_at=now,
            error=INTERRUPTED,
            error_kind=ErrorKind.FAILED,
            error_detail=f"still pending at {now.isoformat()}, created before {created_before.isoformat()}: "
            f"its request had ended without finishing it",
        ),
        what="interrupted generations",
    )
    release_db_connection()
    return failed


def store_images(
    generation: Generation, result: ImageResult, *, html=None, upload: DecodedImage | None = None
) -> Generation:
    """Store every image and complete the row, or store none and fail it (StorageFailed;
    StorageFull when the disk is full). A row its owner deleted meanwhile keeps no image
    (GenerationDeleted). ``html``: the caption rendered already (else here). ``upload``,
    the image an edit sent as a data URL, is kept in the same step (the user's upload,
    linked as the edit's source), so it is kept exactly when the edit succeeds."""
    usage = usage_fields(result.usage)
    html = markdown.render_markdown(result.text) if html is None else html
    # The provider has billed the images, whether or not we can store them.
    hold = budget_hold(generation)
    billing.safely(
        "settling an image reservation", lambda: billing.settle(hold, amount=billing.provider_cost(hold, result.usage))
    )
    stored: list[str] = []
    try:
        rows = []
        for index, image in enumerate(result.images):
            row = GeneratedImage(
                generation=generation,
                index=index,
                width=image.width,
                height=image.height,
                media_type=image.media_type[:50],
                size_bytes=len(image.data),
            )
            row.file.save(GeneratedImage.file_name(index, image.media_type), ContentFile(image.data), save=False)
            stored.append(row.file.name or "")
            rows.append(row)
        with transaction.atomic():
            source = {}
            if upload is not None:
                # Listed just before the edit made from it (the history is newest first).
                kept = store_upload(
                    user=generation.owner, image=upload, created_at=generation.created_at - timedelta(microseconds=1)
                )
                stored.append(str(kept.file.name))
                generation.source_image = kept
                generation.params = {**generation.params, "source_image_id": kept.pk}
                source = {"source_image": kept, "params": generation.params}
            GeneratedImage.objects.bulk_create(rows)
            finished = Generation.objects.filter(pk=generation.pk, status=Status.PENDING).update(
                status=Status.COMPLETED,
                finished_at=timezone.now(),
                text=result.text,
                html=html,
                route=result.route,
                **source,
                **usage,
            )
            if not finished:
                raise GenerationFailed("The generation was finished (or deleted) elsewhere.")
    except Exception as exc:
        for name in stored:
            delete_stored_file(default_storage, name)
        if upload is not None:  # the upload's row went with the transaction
            generation.source_image = None
        GeneratedImage.objects.filter(generation=generation).delete()
        if not Generation.objects.filter(pk=generation.pk).exists():
            release_db_connection()
            raise GenerationDeleted() from exc
        full = diskfull.is_storage_full(exc)
        if full:
            diskfull.report(exc, what=f"storing the images of generation {generation.pk}")
        else:
            log.exception("Storing the images of generation %s failed", generation.pk)
        error = diskfull.StorageFull() if full else StorageFailed()
        finish(
            generation,
            status=Status.FAILED,
            error=error.message,
            error_detail=f"storing images failed: {type(exc).__name__}: {exc}"[:4000],
            error_kind=ErrorKind.UNAVAILABLE,
            **usage,
        )
        raise error from exc
    return finish(generation, status=Status.COMPLETED)
