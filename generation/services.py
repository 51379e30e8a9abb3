"""Text and image generation: validate, record, call the provider, finish the record.

The entry points are coroutines for the web (ASGI): the provider is awaited through the
async client, with no database connection held meanwhile, so one process holds many
generations in flight. Every provider attempt is a history row: completed, failed with
the reason a person can act on, or partial when the connection closed mid-answer.
Each request holds one of its owner's in-flight slots and is bounded by
GENERATION_DEADLINE (`generation.capacity`).
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import logging
import weakref
from collections.abc import AsyncIterator
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from billing import selectors as billing_selectors
from billing import services as billing
from core import db as core_db
from core.errors import DomainError, NotFound
from generation import capacity, records
from generation.models import Generation
from generation.records import GenerationFailed, StorageFailed  # noqa: F401  (raised to callers)
from generation.validation import clean_choices, image_request_validate, text_request_validate
from openrouter.aclient import get_async_client
from openrouter.errors import ProviderError, ProviderMalformedResponse
from openrouter.types import StreamEnd
from storage import quota

log = logging.getLogger(__name__)

# Every database step runs in the request's worker thread, then gives the connection back.
in_db = core_db.in_db
# Streams being served by this process, so a stopping server can save them (close_open_streams).
_open_streams: weakref.WeakSet[TextStream] = weakref.WeakSet()
SERVER_STOPPED = "the server stopped before the provider finished"


def _open_records(validate, record, *, user, reserve, calls: int = 1, **fields):
    """One unit of database work before the provider is called: check the request, take
    one of the owner's in-flight slots per call, reserve each call's largest cost against
    the owner's budget (402 when it does not fit; billing), record a pending row per call. All or
    nothing: a slot or a reservation refused releases those taken, before any row is
    recorded. Returns (request, row) per call; the caller releases each slot when its
    generation ends, and the records settle the reservations. ``record`` may return rows
    not written yet (records.text_unsaved): :func:`_open_text` writes them."""
    request = validate(user=user, **fields)
    slots, reserved = 0, []
    try:
        for _ in range(calls):
            capacity.try_acquire_slot(user.pk)
            slots += 1
        for _ in range(calls):
            reserved.append(reserve(user=user, request=request))
        return [(each, record(user=user, request=each, hold=hold)) for each, hold in reserved]
    except BaseException:
        _let_go(user.pk, [hold for _, hold in reserved], slots)
        raise


def _let_go(user_id: int, holds: list, slots: int) -> None:
    for hold in holds:
        billing.safely("releasing a reservation", lambda: billing.release(hold))
    for _ in range(slots):
        capacity.release_slot(user_id)


# The pending rows of text requests arriving together are written in one INSERT: at a
# burst of hundreds of streams, single-row INSERTs are most of a DuckDB process's work.
_insert_pending = core_db.Coalesced(records.insert_pending)


# Likewise the budget limits they are checked against: one query for every user's.
_limits_read_together = core_db.Coalesced(billing_selectors.limits_of_users)


async def _open_text(*, user, stream: bool, api_key=None, calls: int = 1, **fields):
    """:func:`_open_records` for text requests, their owners' budget limits read and
    their rows written with those of concurrent requests. If writing fails, the slots
    and reservations are let go."""
    limits = await _limits_read_together(user.pk)
    opened = await in_db(_open_records)(
        text_request_validate,
        functools.partial(records.text_unsaved, stream=stream, api_key=api_key),
        user=user,
        reserve=functools.partial(_reserve_text, limits=limits),
        calls=calls,
        **fields,
    )
    try:
        await asyncio.gather(*(_insert_pending(generation) for _, generation in opened))
    except BaseException as exc:
        holds = [records.budget_hold(generation) for _, generation in opened]
        await asyncio.shield(in_db(_let_go)(user.pk, holds, len(opened)))
        if isinstance(exc, Exception) and not isinstance(exc, DomainError):
            log.error("The pending rows of a text request could not be written", exc_info=exc)
            raise records.NotRecorded() from exc
        raise
    return opened


def _open_record(validate, record, *, user, reserve, **fields):
    """:func:`_open_records` for one call: (request, row)."""
    [opened] = _open_records(validate, record, user=user, reserve=reserve, **fields)
    return opened


def _reserve_text(*, user, request, limits=None):
    # A conversation sends every message: its whole text is the prompt to pay for.
    prompt = "\n".join(message["content"] for message in request.messages) or request.prompt
    hold = billing.reserve_text(
        user=user,
        entry=request.model,
        prompt=prompt,
        system=request.system,
        max_tokens=request.max_tokens,
        images=len(request.images),
        limits=limits,
    )
    if hold is not None and hold.max_tokens != request.max_tokens:
        # No max_tokens asked: the answer is capped at what the budget left pays for.
        request = dataclasses.replace(request, max_tokens=hold.max_tokens)
    return request, hold


def _reserve_images(*, user, request):
    return request, billing.reserve_images(user=user, entry=request.model, prompt=request.prompt, n=request.n)


# Streams that started together end together: their rows are completed in one UPDATE.
_complete_texts = core_db.Coalesced(records.complete_texts)


async def _complete_text(
    generation: Generation, *, text: str, provider_id: str, finish_reason: str | None, usage
) -> Generation:
    """Complete a text row with its answer (records.complete_texts), with the rows of
    the answers that come at the same time."""
    return await _complete_texts(records.TextAnswer(generation, text, provider_id, finish_reason, usage))


async def _release(user_id: int) -> None:
    # The count lives in the cache, not the database: no database step for it, and in
    # this process's memory no thread either.
    if capacity.counts_in_memory():
        capacity.release_slot(user_id)
    else:
        await asyncio.shield(asyncio.to_thread(capacity.release_slot, user_id))


async def _failed(generation: Generation, exc: BaseException) -> BaseException:
    """Record a failed attempt; the error for the caller (an unexpected one as GenerationFailed)."""
    await in_db(records.record_failure)(generation, exc)
    if isinstance(exc, (ProviderError, DomainError)):
        return exc
    return GenerationFailed()


async def _cut_short(generation: Generation, *, text: str, why: str) -> Generation:
    """The request was cancelled (client gone, server stopping): save the row as it stood.
    Shielded, so the save itself is not cancelled on the way out."""
    return await asyncio.shield(in_db(records.record_cut_short)(generation, text=text, why=why))


# ------------------------------------------------------------------ text


async def text_generate(
    *,
    user,
    model: str,
    prompt: str = "",
    system: str = "",
    max_tokens: int | None = None,
    temperature: float | None = None,
    api_key=None,
    **conversation,
) -> Generation:
    """Generate a whole text answer (the provider error re-raised after it is recorded).

    ``conversation`` may give ``messages`` (a whole conversation instead of prompt and
    system) and ``top_p``, ``stop``, ``seed`` (the /v1/ API); ``api_key`` is the personal
    key the request came with, kept on the row."""
    [answer] = await text_generate_choices(
        n=1,
        user=user,
        model=model,
        prompt=prompt,
        system=system,
        max_tokens=max_tokens,
        temperature=temperature,
        api_key=api_key,
        **conversation,
    )
    return answer


async def text_generate_choices(*, n: int | None, user, api_key=None, **fields) -> list[Generation]:
    """``n`` whole answers to one request (the /v1/ API's ``n``), asked of the provider at
    once; the other arguments as for :func:`text_generate`.

    Each answer is its own history row, with its own in-flight slot and budget
    reservation, all taken before any call: so ``n`` is at most GENERATION_MAX_IN_FLIGHT
    (400 on ``n`` beyond), and a request whose slots or reservations do not all fit is
    refused whole (429 or 402) with nothing recorded. If a call fails, its error is
    raised once every call has ended; the answers that did come stay in the history,
    since the provider bills them."""
    n = clean_choices(n)
    opened = await _open_text(user=user, stream=False, api_key=api_key, calls=n, **fields)
    answers = await asyncio.gather(
        *(_answer(request, generation, user_id=user.pk) for request, generation in opened), return_exceptions=True
    )
    for answer in answers:
        if isinstance(answer, BaseException):
            raise answer
    return answers


async def _answer(request, generation: Generation, *, user_id: int) -> Generation:
    """One provider call for a pending text row, then its final state; releases the slot."""
    try:
        try:
            async with capacity.within_deadline():
                result = await get_async_client().chat(
                    model=request.model.pk,
                    messages=request.provider_messages(),
                    max_tokens=request.max_tokens,
                    temperature=request.temperature,
                    options=request.options,
                )
        except asyncio.CancelledError:
            await _cut_short(generation, text="", why="the request was cancelled before the answer came")
            raise
        except Exception as exc:
            raise await _failed(generation, exc) from exc
        return await _complete_text(
            generation, text=result.text, provider_id=result.id, finish_reason=result.finish_reason, usage=result.usage
        )
    finally:
        await _release(user_id)


class TextStream:
    """A streamed text generation, opened by :func:`text_stream_start`.

    ``async for text in stream.pieces()`` yields the text as it arrives; when it ends the
    row is final: completed, or failed on a provider error mid-stream (re-raised; the
    text that arrived is kept). :meth:`aclose` ends it early (client gone): a row not yet
    final becomes partial, keeping what arrived, and the upstream connection closes.
    """

    def __init__(self, generation: Generation, provider_stream, *, user_id: int, deadline: float) -> None:
        self.generation = generation
        self.received: list[str] = []
        self._provider_stream = provider_stream
        self._user_id = user_id
        self._deadline = deadline
        self._closed = False
        _open_streams.add(self)

    @property
    def text(self) -> str:
        return "".join(self.received)

    async def pieces(self) -> AsyncIterator[str]:
        iterator = aiter(self._provider_stream)
        try:
            while True:
                item = await self._next(iterator)
                if item is None:
                    raise ProviderMalformedResponse("The stream ended without its final event.")
                if isinstance(item, StreamEnd):
                    self.generation = await _complete_text(
                        self.generation,
                        text=self.text,
                        provider_id=item.id,
                        finish_reason=item.finish_reason,
                        usage=item.usage,
                    )
                    return
                self.received.append(item.text)
                yield item.text
        except (asyncio.CancelledError, GeneratorExit):
            raise  # aclose() records what arrived
        except Exception as exc:
            if self._closed:
                raise  # closed under us (server stopping): aclose() records what arrived
            self.generation = await in_db(records.record_failure)(self.generation, exc, text=self.text)
            if isinstance(exc, (ProviderError, DomainError)):
                raise
            raise GenerationFailed() from exc
        finally:
            await self._close_upstream()

    async def _next(self, iterator):
        """The provider's next item (None at its end), within the request's deadline."""
        try:
            async with asyncio.timeout_at(self._deadline):
                return await anext(iterator)
        except StopAsyncIteration:
            return None
        except TimeoutError:
            raise capacity.deadline_reached() from None

    async def aclose(self, *, why: str = "stream closed by the client before the provider finished") -> None:
        """Stop reading and release the owner's slot. An unfinished row is saved as partial."""
        if self._closed:
            return
        self._closed = True
        _open_streams.discard(self)
        try:
            await self._close_upstream()
            if self.generation.status == Generation.Status.PENDING:
                self.generation = await _cut_short(self.generation, text=self.text, why=why)
        finally:
            await _release(self._user_id)

    async def _close_upstream(self) -> None:
        await self._provider_stream.aclose()


async def close_open_streams() -> None:
    """On server shutdown: save every stream still being served as partial."""
    await asyncio.gather(*(stream.aclose(why=SERVER_STOPPED) for stream in list(_open_streams)), return_exceptions=True)


async def text_stream_start(
    *,
    user,
    model: str,
    prompt: str = "",
    system: str = "",
    max_tokens: int | None = None,
    temperature: float | None = None,
    api_key=None,
    **conversation,
) -> TextStream:
    """Validate, take a slot, record a pending row and open the provider's stream. Errors
    before the first piece (refusals, rate limits, account problems) are raised here, so
    the caller can still answer with a plain HTTP error; the row is then failed. The
    caller must ``aclose()`` the stream it gets (that releases the slot). ``conversation``
    and ``api_key`` as for :func:`text_generate`."""
    deadline = asyncio.get_running_loop().time() + settings.GENERATION_DEADLINE
    [(request, generation)] = await _open_text(
        user=user,
        stream=True,
        api_key=api_key,
        model=model,
        prompt=prompt,
        system=system,
        max_tokens=max_tokens,
        temperature=temperature,
        **conversation,
    )
    try:
        try:
            async with asyncio.timeout_at(deadline):
                provider_stream = await get_async_client().chat_stream(
                    model=request.model.pk,
                    messages=request.provider_messages(),
                    max_tokens=request.max_tokens,
                    temperature=request.temperature,
                    options=request.options,
                )
        except TimeoutError:
            raise await _failed(generation, capacity.deadline_reached()) from None
        except asyncio.CancelledError:
            await _cut_short(generation, text="", why="the request was cancelled before the stream opened")
            raise
        except Exception as exc:
            raise await _failed(generation, exc) from exc
    except BaseException:
        await _release(user.pk)
        raise
    return TextStream(generation, provider_stream, user_id=user.pk, deadline=deadline)


# ------------------------------------------------------------------ images


async def image_generate(
    *,
    user,
    model: str,
    prompt: str,
    n: int | None = 1,
    size: str | None = None,
    aspect_ratio: str | None = None,
    image_size: str | None = None,
    api_key=None,
    source_image_id: int | None = None,
    source_image_url: str | None = None,
) -> Generation:
    """Generate images through the model's route (chat completions for text+image models,
    the images endpoint for image-only ones; a chat route's ``n`` calls run at once) and
    store them. All or nothing: completed with every image stored, or failed with no
    file left behind. With ``source_image_id`` (one of the user's images) the model edits
    that image; the result links to it. With ``source_image_url`` (an https or data: URL)
    the model edits the image sent; a data URL's image is kept as the user's upload only
    if the edit succeeds. Refused (409) when the owner's storage quota is used up."""
    request, generation = await in_db(_open_record)(
        _image_request_within_quota,
        functools.partial(records.image_pending, api_key=api_key),
        user=user,
        reserve=_reserve_images,
        model=model,
        prompt=prompt,
        n=n,
        size=size,
        aspect_ratio=aspect_ratio,
        image_size=image_size,
        source_image_id=source_image_id,
        source_image_url=source_image_url,
    )
    route = generation.route
    try:
        try:
            async with capacity.within_deadline():
                result = await get_async_client().generate_image(
                    model=request.model.pk,
                    prompt=request.prompt,
                    n=request.n,
                    size=request.size,
                    aspect_ratio=request.aspect_ratio,
                    image_size=request.image_size,
                    route=route,
                    source_image_url=request.source_url,
                )
        except asyncio.CancelledError:
            await _cut_short(generation, text="", why="the request was cancelled before the images came")
            raise
        except Exception as exc:
            raise await _failed(generation, exc) from exc
        return await in_db(records.store_images)(generation, result, upload=request.upload)
    finally:
        await _release(user.pk)


def _image_request_within_quota(*, user, **fields):
    """The checked image request, refused (409) when the owner's stored files fill their
    storage quota, or the image an edit sends would pass it (storage.quota)."""
    request = image_request_validate(user=user, **fields)
    quota.check_room(user_id=user.pk, adding=len(request.upload.data) if request.upload is not None else 0)
    return request


# ------------------------------------------------------------------ history


def generation_delete(*, generation: Generation, by) -> None:
    """Delete one of the user's generations and its stored files (after the commit, so a
    failed delete loses nothing). Another user's generation is NotFound."""
    if generation.owner_id != by.id:
        raise NotFound("Generation not found.")
    # The images' files go through GeneratedImage's post_delete handler (signals.py).
    with transaction.atomic():
        generation.delete()


def generation_fail_stale(*, now=None) -> int:
    """Fail generations left pending by a process killed mid-call (the beat runs this every
    GENERATION_SWEEP_INTERVAL): any pending row older than GENERATION_DEADLINE plus
    GENERATION_STALE_MARGIN, since every live request finishes its row by then. Their
    owners read that the generation was interrupted. Returns how many were failed."""
    now = now or timezone.now()
    created_before = now - timedelta(seconds=settings.GENERATION_DEADLINE + settings.GENERATION_STALE_MARGIN)
    failed = records.fail_interrupted(created_before=created_before, now=now)
    if failed:
        log.warning("%s generations left pending by an interrupted request were failed", failed)
    return failed
