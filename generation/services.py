"""State changes and provider calls for generation: text and image generation, deleting
generations."""
from __future__ import annotations

import logging
import mimetypes
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import Iterator

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from catalogue.models import ProviderModel
from catalogue.selectors import catalogue_entry
from core.db import release_db_connection
from core.errors import ErrorKind, InvalidInput, NotFound, OperationFailed, Unavailable, describe_failure
from core.files import delete_stored_file
from core.images import IMAGE_EXTENSIONS
from core.parsing import cost_or_none
from generation.models import GeneratedImage, Generation
from openrouter.client import get_client
from openrouter.errors import ProviderError, ProviderMalformedResponse
from openrouter.types import StreamEnd, Usage
from openrouter.validation import ParameterNotAccepted, validate_image_params

log = logging.getLogger(__name__)


# ------------------------------------------------------------------ generation: shared


class StorageFailed(Unavailable):
    default_message = "The generated images could not be stored; nothing was kept. Try again."


class GenerationFailed(OperationFailed):
    """An unexpected failure after the provider call; the attempt is recorded as failed."""

    default_message = "The generation failed; try again."


def _clean_prompt(prompt, *, field: str = "prompt", required: bool = True) -> str:
    text = (prompt or "").strip() if isinstance(prompt, str) or prompt is None else None
    if text is None:
        raise InvalidInput("Must be text.", field=field)
    if required and not text:
        raise InvalidInput("This field is required.", field=field)
    limit = settings.GENERATION_PROMPT_MAX_CHARS
    if len(text) > limit:
        raise InvalidInput(f"At most {limit} characters (this has {len(text)}).", field=field)
    return text


def _usage_fields(usage: Usage) -> dict:
    return {
        "prompt_tokens": max(0, int(usage.prompt_tokens or 0)),
        "completion_tokens": max(0, int(usage.completion_tokens or 0)),
        "total_tokens": max(0, int(usage.total_tokens or 0)),
        "cost": cost_or_none(usage.cost) or Decimal("0"),
    }


def _finish(generation: Generation, *, status: str, **fields) -> Generation:
    """Move a pending generation to its final state (a conditional update: a row that
    already finished is left as it is) and return the fresh row."""
    Generation.objects.filter(pk=generation.pk, status=Generation.Status.PENDING).update(
        status=status, finished_at=timezone.now(), **fields)
    generation.refresh_from_db()
    return generation


def _record_provider_failure(generation: Generation, exc: ProviderError, **fields) -> Generation:
    failure = describe_failure(exc)
    return _finish(generation, status=Generation.Status.FAILED, error=failure.message,
                   error_detail=str(exc)[:4000], error_kind=failure.kind, **fields)


def _record_unexpected_failure(generation: Generation, exc: BaseException, **fields) -> Generation:
    log.exception("Generation %s failed unexpectedly", generation.pk)
    return _finish(generation, status=Generation.Status.FAILED, error=GenerationFailed.default_message,
                   error_detail=f"{type(exc).__name__}: {exc}"[:4000], error_kind=ErrorKind.FAILED, **fields)


@contextmanager
def _failures_recorded(generation: Generation):
    """Around a provider call: a failure fails the row with its reason, then the provider
    error goes on (an unexpected one as GenerationFailed)."""
    try:
        yield
    except ProviderError as exc:
        _record_provider_failure(generation, exc)
        raise
    except Exception as exc:
        _record_unexpected_failure(generation, exc)
        raise GenerationFailed() from exc


def _messages(prompt: str, system: str) -> list[dict]:
    messages = [{"role": "system", "content": system}] if system else []
    return messages + [{"role": "user", "content": prompt}]


# ------------------------------------------------------------------ text


@dataclass(frozen=True)
class TextRequest:
    """A validated text request: everything checked before any provider call."""

    model: ProviderModel
    prompt: str
    system: str
    max_tokens: int | None
    temperature: float | None

    @property
    def params(self) -> dict:
        return {key: value for key, value in
                (("max_tokens", self.max_tokens), ("temperature", self.temperature)) if value is not None}


def text_request_validate(*, model: str, prompt: str, system: str = "", max_tokens: int | None = None,
                          temperature: float | None = None) -> TextRequest:
    """Check a text request (prompt, model, bounds) without calling the provider."""
    prompt = _clean_prompt(prompt)
    system = _clean_prompt(system, field="system", required=False)
    if max_tokens is not None:
        limit = settings.GENERATION_MAX_TOKENS_LIMIT
        if isinstance(max_tokens, bool) or not isinstance(max_tokens, int) or not 1 <= max_tokens <= limit:
            raise InvalidInput(f"Must be a whole number from 1 to {limit}.", field="max_tokens")
    if temperature is not None:
        if isinstance(temperature, bool) or not isinstance(temperature, (int, float)) or not 0 <= temperature <= 2:
            raise InvalidInput("Must be a number from 0 to 2.", field="temperature")
        temperature = float(temperature)
    entry = catalogue_entry(model_id=model, kind="text")
    return TextRequest(model=entry, prompt=prompt, system=system, max_tokens=max_tokens, temperature=temperature)


def _text_pending(*, user, request: TextRequest, stream: bool) -> Generation:
    params = {**request.params, **({"stream": True} if stream else {})}
    return Generation.objects.create(
        owner=user, kind=Generation.Kind.TEXT, model_id=request.model.pk, prompt=request.prompt,
        system=request.system, params=params, status=Generation.Status.PENDING)


def text_generate(*, user, model: str, prompt: str, system: str = "", max_tokens: int | None = None,
                  temperature: float | None = None) -> Generation:
    """Generate a whole text answer. Every provider attempt is a history row: completed
    with text and usage, or failed with the reason (and the provider error re-raised)."""
    request = text_request_validate(model=model, prompt=prompt, system=system, max_tokens=max_tokens,
                                    temperature=temperature)
    generation = _text_pending(user=user, request=request, stream=False)
    release_db_connection()
    with _failures_recorded(generation):
        result = get_client().chat(model=request.model.pk, messages=_messages(request.prompt, request.system),
                                   max_tokens=request.max_tokens, temperature=request.temperature)
    return _finish(generation, status=Generation.Status.COMPLETED, text=result.text,
                   provider_id=result.id[:200], finish_reason=(result.finish_reason or "")[:40],
                   **_usage_fields(result.usage))


class TextStream:
    """A streamed text generation, opened by :func:`text_stream_start`.

    Iterate :meth:`pieces` for the text as it arrives; when it ends the row is final:
    completed, or failed on a provider error mid-stream (re-raised; the text that
    arrived is kept). :meth:`close` ends the stream early, e.g. when the client
    disconnected: a row not yet final becomes partial, keeping what arrived.
    """

    def __init__(self, generation: Generation, provider_stream) -> None:
        self.generation = generation
        self.received: list[str] = []
        self._provider_stream = provider_stream

    @property
    def text(self) -> str:
        return "".join(self.received)

    def pieces(self) -> Iterator[str]:
        try:
            for item in self._provider_stream:
                if isinstance(item, StreamEnd):
                    self.generation = _finish(
                        self.generation, status=Generation.Status.COMPLETED, text=self.text,
                        provider_id=item.id[:200], finish_reason=(item.finish_reason or "")[:40],
                        **_usage_fields(item.usage))
                    return
                self.received.append(item.text)
                yield item.text
            raise ProviderMalformedResponse("The stream ended without its final event.")
        except GeneratorExit:
            raise  # the consumer stopped; close() records what arrived
        except ProviderError as exc:
            self.generation = _record_provider_failure(self.generation, exc, text=self.text)
            raise
        except Exception as exc:
            self.generation = _record_unexpected_failure(self.generation, exc, text=self.text)
            raise GenerationFailed() from exc
        finally:
            self._close_provider_stream()

    def close(self) -> None:
        """Stop reading. A generation that has not finished is saved as partial."""
        self._close_provider_stream()
        if self.generation.status == Generation.Status.PENDING:
            self.generation = _finish(
                self.generation, status=Generation.Status.PARTIAL, text=self.text,
                error="The answer was cut short: the connection closed before it was complete.",
                error_detail="stream closed by the client before the provider finished")

    def _close_provider_stream(self) -> None:
        close = getattr(self._provider_stream, "close", None)
        if close:
            try:
                close()
            except ValueError:  # "generator already executing": closed from inside itself
                pass


def text_stream_start(*, user, model: str, prompt: str, system: str = "", max_tokens: int | None = None,
                      temperature: float | None = None) -> TextStream:
    """Validate, record a pending row and open the provider's stream. Errors before the
    first piece (refusals, rate limits, account problems) are raised here, so the caller
    can still answer with a plain HTTP error; the row is then failed."""
    request = text_request_validate(model=model, prompt=prompt, system=system, max_tokens=max_tokens,
                                    temperature=temperature)
    generation = _text_pending(user=user, request=request, stream=True)
    release_db_connection()
    with _failures_recorded(generation):
        provider_stream = get_client().chat_stream(
            model=request.model.pk, messages=_messages(request.prompt, request.system),
            max_tokens=request.max_tokens, temperature=request.temperature)
    return TextStream(generation, provider_stream)


# ------------------------------------------------------------------ images


@dataclass(frozen=True)
class ImageRequest:
    model: ProviderModel
    prompt: str
    n: int
    size: str | None
    aspect_ratio: str | None
    image_size: str | None

    @property
    def params(self) -> dict:
        values = (("n", self.n), ("size", self.size), ("aspect_ratio", self.aspect_ratio),
                  ("image_size", self.image_size))
        return {key: value for key, value in values if value is not None}


def image_request_validate(*, model: str, prompt: str, n: int | None = 1, size: str | None = None,
                           aspect_ratio: str | None = None, image_size: str | None = None) -> ImageRequest:
    """Check an image request against the model's catalogue entry, before any call."""
    prompt = _clean_prompt(prompt)
    n = 1 if n is None else n
    limit = settings.GENERATION_MAX_IMAGES
    if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= limit:
        raise InvalidInput(f"Must be a whole number from 1 to {limit}.", field="n")
    size, aspect_ratio, image_size = ((value or "").strip() or None for value in (size, aspect_ratio, image_size))
    if size and aspect_ratio:
        raise InvalidInput("Send either size or aspect_ratio, not both.", field="size")
    entry = catalogue_entry(model_id=model, kind="image")
    try:
        validate_image_params(entry.as_catalogue_model(), n=n, size=size, aspect_ratio=aspect_ratio,
                              image_size=image_size)
    except ParameterNotAccepted as exc:
        raise InvalidInput(str(exc), field=exc.field) from exc
    return ImageRequest(model=entry, prompt=prompt, n=n, size=size, aspect_ratio=aspect_ratio,
                        image_size=image_size)


_EXTENSIONS = IMAGE_EXTENSIONS


def _image_name(generation: Generation, index: int, media_type: str) -> str:
    extension = _EXTENSIONS.get(media_type) or (mimetypes.guess_extension(media_type) or ".bin").lstrip(".")
    return f"generations/{generation.owner_id}/{generation.pk}/{index}-{uuid.uuid4().hex[:12]}.{extension}"


def _delete_files(names: list[str]) -> None:
    for name in names:
        delete_stored_file(default_storage, name)


def image_generate(*, user, model: str, prompt: str, n: int | None = 1, size: str | None = None,
                   aspect_ratio: str | None = None, image_size: str | None = None) -> Generation:
    """Generate images through the model's route (chat completions for text+image models,
    the images endpoint for image-only ones) and store them.

    All or nothing: the generation is completed with every image stored, or failed with
    no file left behind.
    """
    request = image_request_validate(model=model, prompt=prompt, n=n, size=size, aspect_ratio=aspect_ratio,
                                     image_size=image_size)
    route = request.model.image_route or "images"
    generation = Generation.objects.create(
        owner=user, kind=Generation.Kind.IMAGE, model_id=request.model.pk, prompt=request.prompt,
        params=request.params, route=route, status=Generation.Status.PENDING)
    release_db_connection()
    with _failures_recorded(generation):
        result = get_client().generate_image(
            model=request.model.pk, prompt=request.prompt, n=request.n, size=request.size,
            aspect_ratio=request.aspect_ratio, image_size=request.image_size, route=route)
    usage = _usage_fields(result.usage)
    stored: list[str] = []
    try:
        rows = []
        for index, image in enumerate(result.images):
            name = default_storage.save(_image_name(generation, index, image.media_type), ContentFile(image.data))
            stored.append(name)
            rows.append(GeneratedImage(generation=generation, index=index, file=name, width=image.width,
                                       height=image.height, media_type=image.media_type[:50],
                                       size_bytes=len(image.data)))
        with transaction.atomic():
            GeneratedImage.objects.bulk_create(rows)
            finished = Generation.objects.filter(pk=generation.pk, status=Generation.Status.PENDING).update(
                status=Generation.Status.COMPLETED, finished_at=timezone.now(), text=result.text,
                route=result.route, **usage)
            if not finished:
                raise GenerationFailed("The generation was finished elsewhere.")
    except Exception as exc:
        _delete_files(stored)
        GeneratedImage.objects.filter(generation=generation).delete()
        log.exception("Storing the images of generation %s failed", generation.pk)
        _finish(generation, status=Generation.Status.FAILED, error=StorageFailed.default_message,
                error_detail=f"storing images failed: {type(exc).__name__}: {exc}"[:4000], error_kind=ErrorKind.UNAVAILABLE, **usage)
        raise StorageFailed() from exc
    generation.refresh_from_db()
    return generation


# ------------------------------------------------------------------ history


def generation_delete(*, generation: Generation, by) -> None:
    """Delete one of the user's generations and its stored files (after the commit, so a
    failed delete loses nothing). Another user's generation is NotFound."""
    if generation.owner_id != by.id:
        raise NotFound("Generation not found.")
    # The images' files go through GeneratedImage's post_delete handler (signals.py).
    with transaction.atomic():
        generation.delete()
