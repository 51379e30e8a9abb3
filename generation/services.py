"""Text and image generation: validate, record, call the provider, finish the record.

A text generation is four steps, the same for every caller (the text API and its page,
a conversation's turn, the /v1/ API):

1. open: validate the request, take one of the owner's in-flight slots, reserve its
   largest cost against the owner's budget, record a pending history row (and, with
   ``record``, the caller's own rows in the same transaction);
2. ask the provider, with every option the request carries and the ``max_tokens`` the
   budget's reservation allows;
3. answer whole, or stream the pieces as they come (:class:`TextStream`);
4. finish: the row completed, failed (with the reason a person can act on) or partial
   (cut short: the client went away, the server stopped), the reservation settled or
   released, the slot released. On every path, including a cancellation at any await
   point between 1 and 4.

Callers add only what is theirs through two hooks: ``validate`` (a conversation checks
its turn and trims its thread into the request's messages) and ``record`` (it writes its
messages beside the pending row). Images take the same steps, whole.

These are coroutines for the web (ASGI): database steps run on the database-step
threads (``core.db.in_db``), which give the connection back before the provider is
awaited; an opening that reads and writes nothing (a warm request of the embedded setup:
:func:`_opens_in_memory`) runs on the event loop instead; markdown is rendered on threads
of its own (``generation.markdown``). Each
request holds one of its owner's in-flight slots and is bounded by GENERATION_DEADLINE
(``generation.capacity``).
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import json
import logging
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import SynchronousOnlyOperation
from django.db import transaction
from django.utils import timezone

from billing import selectors as billing_selectors
from billing import services as billing
from catalogue import selectors as catalogue_selectors
from core import db as core_db
from core.changes import Kept
from core.errors import DomainError, NotFound
from generation import capacity, markdown, records, validation
from generation.models import Generation
from generation.records import GenerationFailed
from generation.validation import (
    TextRequest,
    clean_choices,
    embedding_request_validate,
    image_request_validate,
    text_request_validate,
)
from openrouter.aclient import get_async_client
from openrouter.errors import ProviderError, ProviderMalformedResponse
from openrouter.types import StreamEnd
from storage import quota

log = logging.getLogger(__name__)

in_db = core_db.in_db
# Streams being served by this process, so a stopping server can save them (close_open_streams).
_open_streams: weakref.WeakSet[TextStream] = weakref.WeakSet()
# Clean-ups that must outlive the request that started them (a cancelled one).
_cleanups: set[asyncio.Task] = set()
SERVER_STOPPED = "the server stopped before the provider finished"


# ------------------------------------------------------------------ text: the steps


async def text_generate(
    *, user, api_key=None, validate: Callable[..., TextRequest] = text_request_validate, record=None, **fields
) -> Generation:
    """Generate a whole text answer; its history row, finished. A provider error is
    re-raised once the row records it.

    ``fields`` are ``validate``'s (by default :func:`text_request_validate`: model,
    prompt, system, max_tokens, temperature, or messages, top_p, stop, seed);
    ``api_key`` is the personal key the request came with, kept on the row. ``record``
    (user, request, generation) writes the caller's own rows with the pending row, in
    one transaction; what it raises refuses the request with nothing kept."""
    [answer] = await text_generate_choices(n=1, user=user, api_key=api_key, validate=validate, record=record, **fields)
    return answer


async def text_generate_choices(
    *, n: int | None, user, api_key=None, validate=text_request_validate, record=None, **fields
) -> list[Generation]:
    """``n`` whole answers to one request (the /v1/ API's ``n``), asked of the provider at
    once; the other arguments as for :func:`text_generate`.

    Each answer is its own history row, with its own in-flight slot and budget
    reservation, all taken before any call: so ``n`` is at most GENERATION_MAX_IN_FLIGHT
    (400 on ``n`` beyond), and a request whose slots or reservations do not all fit is
    refused whole (429 or 402) with nothing recorded. If a call fails, its error is
    raised once every call has ended; the answers that did come stay in the history,
    since the provider bills them."""
    n = clean_choices(n)
    calls = await _open(user=user, stream=False, api_key=api_key, calls=n, validate=validate, record=record, **fields)
    try:
        if len(calls) == 1:  # awaited in place: no moment at which it could be cancelled unstarted
            answers: list = [await _answer(calls[0])]
        else:
            answers = await asyncio.gather(*(_answer(call) for call in calls), return_exceptions=True)
    except asyncio.CancelledError:
        # Answers cancelled before they began: their rows and slots are still open.
        await _finish_abandoned(calls, why="the request was cancelled before the provider was asked")
        raise
    for answer in answers:
        if isinstance(answer, BaseException):
            raise answer
    return answers


async def text_stream_start(
    *, user, api_key=None, validate: Callable[..., TextRequest] = text_request_validate, record=None, **fields
) -> TextStream:
    """Open a text generation and the provider's stream of its answer; the arguments as
    for :func:`text_generate`. Errors before the first piece (refusals, rate limits,
    account problems) are raised here, so the caller can still answer with a plain HTTP
    error; the row is then failed. The caller reads ``stream.pieces()`` and must
    ``aclose()`` the stream; if the request ends without doing so (its client went away
    before the answer began), the stream is closed when the request's task ends."""
    deadline = asyncio.get_running_loop().time() + settings.GENERATION_DEADLINE
    [call] = await _open(user=user, stream=True, api_key=api_key, calls=1, validate=validate, record=record, **fields)
    try:
        try:
            async with asyncio.timeout_at(deadline):
                provider_stream = await get_async_client().chat_stream(**call.provider_arguments())
        except TimeoutError:
            raise await call.fail(capacity.deadline_reached()) from None
        except asyncio.CancelledError:
            await call.cut_short(why="the request was cancelled before the stream opened")
            raise
        except Exception as exc:
            raise await call.fail(exc) from exc
    except BaseException:
        await call.release()
        raise
    stream = TextStream(call, provider_stream, deadline=deadline)
    _close_when_the_request_ends(stream)
    return stream


class _Call:
    """One provider call of a request: the validated request, its pending history
    row (``generation``, replaced by the row as finished) and the owner's in-flight slot,
    held until :meth:`release` (once, whoever calls it first)."""

    def __init__(self, request: Any, generation: Generation, *, user_id: int) -> None:
        self.request = request  # a TextRequest, or an ImageRequest
        self.generation = generation
        self.user_id = user_id
        self.asked = False  # the provider call began
        self.released = False

    def provider_arguments(self) -> dict:
        """What the provider is asked: every option of the request, and its max_tokens
        (the budget's cap when none was asked)."""
        self.asked = True
        request = self.request
        return {
            "model": request.model.pk,
            "messages": request.provider_messages(),
            "max_tokens": request.max_tokens,
            "temperature": request.temperature,
            "options": request.options,
        }

    async def complete(
        self, *, text: str, provider_id: str, finish_reason: str | None, usage, tool_calls=(), logprobs=None
    ) -> Generation:
        html = await markdown.render_markdown_async(records.readable_answer(text, tool_calls))
        answer = records.TextAnswer(self.generation, text, provider_id, finish_reason, usage, html, tuple(tool_calls))
        self.generation = await _complete_texts(answer)
        # Logprobs go back to the caller only: the history keeps the answer, not its statistics.
        self.generation.logprobs = logprobs
        return self.generation

    async def fail(self, exc: BaseException, *, text: str | None = None) -> BaseException:
        """Record a failed attempt (keeping ``text`` that arrived); the error for the
        caller (an unexpected one as GenerationFailed)."""
        fields = {} if text is None else {"text": text, "html": await markdown.render_markdown_async(text)}
        self.generation = await in_db(records.record_failure)(self.generation, exc, **fields)
        if isinstance(exc, (ProviderError, DomainError)):
            return exc
        return GenerationFailed()

    async def cut_short(self, *, why: str, text: str = "") -> Generation:
        """Cancelled (client gone, server stopping): save the row as it stood, partial.
        Shielded, so the save itself is not cancelled on the way out; a row already
        final stays as it is."""
        self.generation = await _shielded(self._cut_short(why=why, text=text))
        return self.generation

    async def _cut_short(self, *, why: str, text: str) -> Generation:
        html = await markdown.render_markdown_async(text)
        return await in_db(records.record_cut_short)(self.generation, text=text, why=why, html=html)

    async def abandon(self, *, why: str) -> None:
        """The request ended before the provider was asked: a pending row failed (the
        reservation released), the slot released."""
        try:
            if self.generation.status == Generation.Status.PENDING:
                self.generation = await _shielded(in_db(records.record_abandoned)(self.generation, why=why))
        finally:
            await self.release()

    async def release(self) -> None:
        if self.released:
            return
        self.released = True
        await _shielded(_release(self.user_id))


async def _answer(call: _Call) -> Generation:
    """Ask the provider for a whole answer and finish the row; releases the slot."""
    try:
        try:
            async with capacity.within_deadline():
                result = await get_async_client().chat(**call.provider_arguments())
        except asyncio.CancelledError:
            await call.cut_short(why="the request was cancelled before the answer came")
            raise
        except Exception as exc:
            raise await call.fail(exc) from exc
        return await call.complete(
            text=result.text,
            provider_id=result.id,
            finish_reason=result.finish_reason,
            usage=result.usage,
            tool_calls=result.tool_calls,
            logprobs=result.logprobs,
        )
    finally:
        await call.release()


class TextStream:
    """A streamed text generation, opened by :func:`text_stream_start`.

    ``async for text in stream.pieces()`` yields the text as it arrives; when it ends the
    row is final: completed, or failed on a provider error mid-stream (re-raised; the
    text that arrived is kept). :meth:`aclose` ends it early (client gone): a row not yet
    final becomes partial, keeping what arrived, and the upstream connection closes.
    ``request`` is the validated request; ``generation`` the row, final once closed.
    """

    def __init__(self, call: _Call, provider_stream, *, deadline: float) -> None:
        self._call = call
        self.request = call.request
        self.received: list[str] = []
        self._provider_stream = provider_stream
        self._deadline = deadline
        self._closed = False
        _open_streams.add(self)

    @property
    def generation(self) -> Generation:
        return self._call.generation

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def text(self) -> str:
        return "".join(self.received)

    def piece_ready(self) -> bool:
        """Whether the next piece has arrived already: a relay may send it with this one."""
        return self._provider_stream.piece_ready()

    async def pieces(self, *, deltas: bool = False) -> AsyncIterator[Any]:
        """The answer's text pieces; with ``deltas``, the provider's StreamPiece items
        (text and tool-call deltas) instead."""
        iterator = aiter(self._provider_stream)
        try:
            while True:
                item = await self._next(iterator)
                if item is None:
                    raise ProviderMalformedResponse("The stream ended without its final event.")
                if isinstance(item, StreamEnd):
                    await self._call.complete(
                        text=self.text,
                        provider_id=item.id,
                        finish_reason=item.finish_reason,
                        usage=item.usage,
                        tool_calls=item.tool_calls,
                    )
                    return
                self.received.append(item.text)
                if deltas:
                    yield item
                elif item.text:
                    yield item.text
        except (asyncio.CancelledError, GeneratorExit):
            raise  # aclose() records what arrived
        except Exception as exc:
            if self._closed:
                raise  # closed under us (server stopping): aclose() records what arrived
            error = await self._call.fail(exc, text=self.text)
            if error is exc:
                raise
            raise error from exc
        finally:
            await self._close_upstream()

    async def _next(self, iterator):
        """The provider's next item (None at its end), within the request's deadline. A
        piece that arrived already is taken without a timer: nothing waits for it (a
        provider often sends several at once, and each timer is a task lookup and a timer
        handle made and cancelled on the event loop)."""
        if self._provider_stream.piece_ready():
            return await anext(iterator)
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
            await _shielded(self._close_upstream())
            if self.generation.status == Generation.Status.PENDING:
                await self._call.cut_short(why=why, text=self.text)
        finally:
            await self._call.release()

    async def _close_upstream(self) -> None:
        await self._provider_stream.aclose()


async def close_open_streams() -> None:
    """On server shutdown: save every stream still being served as partial."""
    await asyncio.gather(*(stream.aclose(why=SERVER_STOPPED) for stream in list(_open_streams)), return_exceptions=True)


def _close_when_the_request_ends(stream: TextStream) -> None:
    """A stream is closed by whoever serves its events; but a client that goes away
    after the stream opened and before its events began cancels a response that never
    started them. So when the task of the request ends, a stream still open is closed."""
    task = asyncio.current_task()
    if task is None:
        return

    def close(_task) -> None:
        if not stream.closed:
            _in_background(stream.aclose(why="the request ended before the stream was read"))

    task.add_done_callback(close)


# ------------------------------------------------------------------ text: opening


async def _open(*, user, stream: bool, api_key, calls: int, validate, record, **fields) -> list[_Call]:
    """Step 1 for ``calls`` provider calls of one text request."""
    return await _opened(
        _open_rows(
            user=user, stream=stream, api_key=api_key, calls=calls, validate=validate, record=record, fields=fields
        )
    )


async def _opened(opening: Awaitable[list[_Call]]) -> list[_Call]:
    """Await an opening (step 1). If the request is cancelled meanwhile, the opening still
    runs to its end (a database step cannot be taken back halfway), then whatever it
    opened is finished as cut short and let go, before the cancellation goes on."""
    task = asyncio.ensure_future(opening)
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        if task.cancelled():
            raise

        async def undo() -> None:
            try:
                opened = await task
            except BaseException:
                return  # nothing was kept: the opening let go of what it had taken
            await _finish_abandoned(opened, why="the request was cancelled before the provider was asked")

        await _shielded(undo())
        raise


# The budget limits of concurrent text requests' owners are read in one query, and
# their pending rows written in one INSERT: at a burst of hundreds of streams, one-row
# statements are most of a DuckDB process's database work.
_limits_read_together = core_db.Coalesced(billing_selectors.limits_of_users)
_insert_pending = core_db.Coalesced(records.insert_pending)
# Streams that started together end together: their rows are completed in one UPDATE.
_complete_texts = core_db.Coalesced(records.complete_texts)


# And each process keeps the limits it read until a budget, a group or a membership
# changes anywhere in the installation (core.changes): most requests read none.
_kept_limits: Kept[billing_selectors.Limits] = Kept()


async def _limits_of(user_id: int) -> billing_selectors.Limits:
    limits = _kept_limits.get(user_id)
    if limits is None:
        stamp = _kept_limits.stamp()
        limits = await _limits_read_together(user_id)
        _kept_limits.put(user_id, limits, stamp)
    return limits


async def _open_rows(*, user, stream: bool, api_key, calls: int, validate, record, fields: dict) -> list[_Call]:
    limits = await _limits_of(user.pk)
    await _decode_images_ahead(fields)
    open_records = functools.partial(
        _open_records,
        validate,
        functools.partial(_record_text, stream=stream, api_key=api_key, record=record),
        user=user,
        reserve=functools.partial(_reserve_text, limits=limits),
        calls=calls,
        **fields,
    )
    if _opens_in_memory(user=user, validate=validate, record=record, limits=limits, fields=fields):
        opened = await _open_here(open_records)
    else:
        opened = await in_db(open_records)()
    try:
        unsaved = [generation for _, generation in opened if generation.pk is None]
        await asyncio.gather(*(_insert_pending(generation) for generation in unsaved))
    except BaseException as exc:
        holds = [records.budget_hold(generation) for _, generation in opened]
        await _shielded(in_db(_let_go)(user.pk, holds, len(opened)))
        if isinstance(exc, Exception) and not isinstance(exc, DomainError):
            log.error("The pending rows of a text request could not be written", exc_info=exc)
            raise records.NotRecorded() from exc
        raise
    return [_Call(request, generation, user_id=user.pk) for request, generation in opened]


def _opens_in_memory(*, user, validate, record, limits, fields: dict) -> bool:
    """Whether opening a text request would wait on nothing: the default validation, of a
    model whose entry this process keeps; no rows of the caller's to write; no budget to
    reserve (a reservation is a row); slots counted in this process's memory (the embedded
    setup's cache); no images to decode. Most requests on one machine, once warm."""
    return (
        validate is text_request_validate
        and record is None
        and not limits.applies
        and capacity.counts_in_memory()
        and not validation.sends_data_urls(fields)
        and catalogue_selectors.entry_in_memory(fields.get("model"), user)
    )


async def _open_here(open_records: Callable[[], list]) -> list:
    """Run an opening that reads nothing on the event loop: no hand-off to a database-step
    thread and back, and no wait there behind the batched writes. If it needs the
    database after all (its kept entry expired a moment ago), Django refuses the read
    before it starts and the opening, having let go of what it took, runs as a step."""
    try:
        return open_records()
    except SynchronousOnlyOperation:
        return await in_db(open_records)()


async def _decode_images_ahead(fields: dict) -> None:
    """Images the request sends as data URLs, decoded on a thread of their own: the
    opening's database step (which copies this task's context) takes them from there.
    The opening runs as a task of its own, so this ends with it."""
    if validation.sends_data_urls(fields):
        validation.decoded_ahead.set(await asyncio.to_thread(validation.decode_data_urls_ahead, fields))


def _record_text(*, user, request: TextRequest, hold, stream: bool, api_key, record) -> Generation:
    """The pending row of a text request: not written yet (the service writes it with
    those of concurrent requests), or, with the caller's ``record``, written now with the
    caller's rows in one transaction."""
    generation = records.text_unsaved(user=user, request=request, stream=stream, hold=hold, api_key=api_key)
    if record is None:
        return generation
    return records.insert_pending_with(generation, lambda row: record(user=user, request=request, generation=row))


def _open_records(validate, record, *, user, reserve, calls: int = 1, **fields):
    """One unit of database work before the provider is called: check the request, take
    one of the owner's in-flight slots per call, reserve each call's largest cost against
    the owner's budget (402 when it does not fit; billing), record a pending row per call. All or
    nothing: a slot or a reservation refused releases those taken, before any row is
    recorded. Returns (request, row) per call; the caller releases each slot when its
    generation ends, and the records settle the reservations."""
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


def _reserve_text(*, user, request, limits=None):
    # A conversation sends every message, and the tools offered: its whole text is the prompt to pay for.
    prompt = "\n".join(message["content"] for message in request.messages) or request.prompt
    if request.options.get("tools"):
        prompt += "\n" + json.dumps(request.options["tools"])
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


async def _finish_abandoned(calls: list[_Call], *, why: str) -> None:
    """Calls of a cancelled request that never asked the provider: finished as abandoned.
    (A call that did ask finishes itself: cut short.)"""
    abandoned = [call.abandon(why=why) for call in calls if not call.asked]
    await _shielded(asyncio.gather(*abandoned, return_exceptions=True))


# ------------------------------------------------------------------ shared plumbing


async def _release(user_id: int) -> None:
    # The count lives in the cache, not the database: no database step for it, and in
    # this process's memory no thread either.
    if capacity.counts_in_memory():
        capacity.release_slot(user_id)
    else:
        await asyncio.to_thread(capacity.release_slot, user_id)


def _in_background(work: Awaitable) -> asyncio.Task:
    task = asyncio.ensure_future(work)
    _cleanups.add(task)
    task.add_done_callback(_cleanups.discard)
    return task


async def _shielded(work: Awaitable):
    """Run ``work`` to its end even if the caller is cancelled meanwhile (the caller's
    cancellation goes on at once; the work finishes in the background)."""
    return await asyncio.shield(_in_background(work))


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
    reference_image_urls: list[str] | None = None,
    mask_url: str | None = None,
) -> Generation:
    """Generate images through the model's route (chat completions for text+image models,
    the images endpoint for image-only ones; a chat route's ``n`` calls run at once) and
    store them. All or nothing: completed with every image stored, or failed with no
    file left behind. With ``source_image_id`` (one of the user's images) the model edits
    that image; the result links to it. With ``source_image_url`` (an https or data: URL)
    the model edits the image sent; a data URL's image is kept as the user's upload only
    if the edit succeeds; ``reference_image_urls`` and ``mask_url`` go along with it (the
    source stays the one the edit links to). Refused (409) when the owner's storage quota
    is used up."""
    [call] = await _opened(
        _open_image(
            user=user,
            api_key=api_key,
            model=model,
            prompt=prompt,
            n=n,
            size=size,
            aspect_ratio=aspect_ratio,
            image_size=image_size,
            source_image_id=source_image_id,
            source_image_url=source_image_url,
            reference_image_urls=reference_image_urls,
            mask_url=mask_url,
        )
    )
    request = call.request
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
                    route=call.generation.route,  # type: ignore[arg-type]  # image_pending stored "chat" or "images"
                    source_image_url=request.source_url,
                    reference_urls=request.reference_urls,
                    mask_url=request.mask_url,
                )
        except asyncio.CancelledError:
            await call.cut_short(why="the request was cancelled before the images came")
            raise
        except Exception as exc:
            raise await call.fail(exc) from exc
        html = await markdown.render_markdown_async(result.text)
        return await in_db(records.store_images)(call.generation, result, html=html, upload=request.upload)
    finally:
        await call.release()


async def _open_image(*, user, api_key, **fields) -> list[_Call]:
    await _decode_images_ahead(fields)
    opened = await in_db(_open_records)(
        _image_request_within_quota,
        functools.partial(records.image_pending, api_key=api_key),
        user=user,
        reserve=_reserve_images,
        **fields,
    )
    return [_Call(request, generation, user_id=user.pk) for request, generation in opened]


def _image_request_within_quota(*, user, **fields):
    """The checked image request, refused (409) when the owner's stored files fill their
    storage quota, or the image an edit sends would pass it (storage.quota)."""
    request = image_request_validate(user=user, **fields)
    quota.check_room(user_id=user.pk, adding=len(request.upload.data) if request.upload is not None else 0)
    return request


# ------------------------------------------------------------------ embeddings


async def embeddings_create(
    *, user, model: str, input, dimensions=None, encoding_format=None, api_key=None
) -> tuple[Generation, Any]:
    """Embed texts (the /v1/ API's embeddings) through the provider: one history row per
    request, reserved against the owner's budget and settled at the provider's cost like
    any generation, within the owner's in-flight slots and the deadline. Returns the
    finished row and the provider's EmbeddingResult (its vectors go to the caller only)."""
    [call] = await _opened(
        _open_embedding(
            user=user, api_key=api_key, model=model, input=input, dimensions=dimensions, encoding_format=encoding_format
        )
    )
    request = call.request
    try:
        call.asked = True
        try:
            async with capacity.within_deadline():
                result = await get_async_client().embeddings(
                    model=request.model.pk,
                    inputs=list(request.inputs),
                    dimensions=request.dimensions,
                    encoding_format=request.encoding_format,
                )
        except asyncio.CancelledError:
            await call.cut_short(why="the request was cancelled before the embeddings came")
            raise
        except Exception as exc:
            raise await call.fail(exc) from exc
        return await in_db(records.complete_embedding)(call.generation, result), result
    finally:
        await call.release()


async def _open_embedding(*, user, api_key, **fields) -> list[_Call]:
    opened = await in_db(_open_records)(
        embedding_request_validate,
        functools.partial(records.embedding_pending, api_key=api_key),
        user=user,
        reserve=_reserve_embedding,
        **fields,
    )
    return [_Call(request, generation, user_id=user.pk) for request, generation in opened]


def _reserve_embedding(*, user, request):
    hold = billing.reserve_embedding(
        user=user, entry=request.model, texts=request.text_for_pricing, tokens=request.token_inputs
    )
    return request, hold


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
