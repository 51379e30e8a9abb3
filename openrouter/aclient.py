"""The asyncio OpenRouter client, for web requests: :class:`OpenRouterClient`'s methods as
coroutines, over the same shared non-I/O parts (bodies, parsing, retry policy, URL
guard, download limits).

Differences are I/O only: the chat image route's ``n`` calls run concurrently, host
look-ups of the URL guard run in a thread, and downloads have a hard deadline.
A client is bound to the event loop it first ran on: :func:`get_async_client` keeps
one per running loop.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from typing import IO, Any, TypeVar
from urllib.parse import urljoin

import httpx

from . import catalogue as catalogue_parsers
from . import observe, parsing, payloads, pools, transport
from .catalogue import image_route_for
from .config import ClientConfig
from .core import ClientCache, ClientCore
from .downloads import CountingWriter, DownloadMeter
from .errors import ProviderError
from .types import (
    CatalogueModel,
    ChatResult,
    ImageResult,
    ImageRoute,
    KeyInfo,
    ProviderImage,
    StreamEnd,
    StreamPiece,
    Usage,
    VideoJobStatus,
    VideoSubmission,
)

T = TypeVar("T")


class AsyncOpenRouterClient(ClientCore):
    """The OpenRouter API for asyncio. Use it from one event loop; ``aclose()`` when done.
    Configuration as for :class:`OpenRouterClient`; ``sleep`` is a coroutine function."""

    def __init__(
        self,
        config: ClientConfig | None = None,
        *,
        http: httpx.AsyncClient | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        **options: Any,
    ) -> None:
        super().__init__(config, **options)
        self.http = http or pools.async_http_client()
        self._sleep = sleep

    async def aclose(self) -> None:
        """Close the pooled connections."""
        await self.http.aclose()

    # ------------------------------------------------------------------ text

    async def chat(
        self,
        *,
        model: str,
        messages: list[dict[str, Any]],
        max_tokens: int | None = None,
        temperature: float | None = None,
        options: dict[str, Any] | None = None,
    ) -> ChatResult:
        """One whole chat completion."""
        body = payloads.chat_body(model, messages, max_tokens, temperature, options=options)
        return parsing.chat_result(await self._post_json("/chat/completions", body), model)

    async def chat_stream(
        self,
        *,
        model: str,
        messages: list[dict[str, Any]],
        max_tokens: int | None = None,
        temperature: float | None = None,
        options: dict[str, Any] | None = None,
    ) -> AsyncChatStream:
        """Open a streamed chat completion (opening failures raise here, retried like any
        request); iterate the result with ``async for``; ``await stream.aclose()`` ends it
        early and closes the upstream connection."""
        body = payloads.chat_body(model, messages, max_tokens, temperature, stream=True, options=options)
        return AsyncChatStream(await self._request("POST", "/chat/completions", json_body=body, stream=True), model)

    # ---------------------------------------------------------------- images

    async def generate_image(
        self,
        *,
        model: str,
        prompt: str,
        n: int = 1,
        size: str | None = None,
        aspect_ratio: str | None = None,
        image_size: str | None = None,
        route: ImageRoute | None = None,
        source_image_url: str | None = None,
    ) -> ImageResult:
        """As :meth:`OpenRouterClient.generate_image`; the chat route's ``n`` calls (and
        the downloads of hosted images) run concurrently. ``source_image_url`` edits that
        image (chat route only: it goes as an ``image_url`` part of the message)."""
        if (route or image_route_for(model)) == "chat":
            body = payloads.chat_image_body(model, prompt, aspect_ratio, image_size, size, source_image_url)
            answers = await _all(self._chat_image(body) for _ in range(max(1, n)))
            return parsing.combined_chat_images(model, answers)
        if source_image_url:
            raise ValueError("Editing an image needs the chat route (a model that takes image input).")
        body = payloads.images_body(model, prompt, n, size, aspect_ratio, image_size)
        sources, usage = parsing.images_answer(await self._post_json(self.images_path, body))
        images = await _all(self._image(source) for source in sources)
        return ImageResult(model=model, route="images", images=images, usage=usage)

    async def _chat_image(self, body: dict[str, Any]) -> tuple[list[ProviderImage], Usage, str]:
        sources, usage, text = parsing.chat_image_answer(await self._post_json("/chat/completions", body))
        return await _all(self._image(source) for source in sources), usage, text

    async def _image(self, source: parsing.ImageSource) -> ProviderImage:
        if isinstance(source, ProviderImage):
            return source
        meter = DownloadMeter("image", transport.IMAGE_MAX_BYTES, self.config.image_download_deadline, self._clock)
        buffer = bytearray()
        media_type = await self._download(source, _Appender(buffer), meter)
        return parsing.provider_image(bytes(buffer), media_type)

    # ----------------------------------------------------------------- video

    async def video_submit(
        self,
        *,
        model: str,
        prompt: str,
        aspect_ratio: str | None = None,
        resolution: str | None = None,
        size: str | None = None,
        duration: int | None = None,
        first_frame_url: str | None = None,
    ) -> VideoSubmission:
        """Submit a video job; returns as soon as the provider accepted it."""
        body = payloads.video_body(model, prompt, aspect_ratio, resolution, size, duration, first_frame_url)
        return parsing.video_submission(await self._post_json("/videos", body), self.base_url)

    async def video_poll(self, *, polling_url: str) -> VideoJobStatus:
        """Poll a video job once."""
        return parsing.video_status(await self._get_json(polling_url, error_means_failure=False))

    async def video_download(self, *, url: str, dest: IO[bytes]) -> int:
        """Stream a video's bytes into ``dest``; return the size (errors as the sync client)."""
        counter = CountingWriter(dest)
        meter = DownloadMeter("video", self.video_max_bytes, self.config.video_download_deadline, self._clock)
        await self._download(url, counter, meter)
        return counter.written

    # ------------------------------------------------------------ catalogues

    async def list_models(self, *, output_modality: str | None = None) -> list[CatalogueModel]:
        """``GET /models``, optionally filtered."""
        params = {"output_modalities": output_modality} if output_modality else None
        return catalogue_parsers.parse_models_payload(await self._get_json("/models", params=params))

    async def list_image_models(self) -> list[CatalogueModel]:
        """``GET /images/models``."""
        return catalogue_parsers.parse_image_models_payload(await self._get_json("/images/models"))

    async def list_video_models(self) -> list[CatalogueModel]:
        """``GET /videos/models``."""
        return catalogue_parsers.parse_video_models_payload(await self._get_json("/videos/models"))

    async def fetch_catalogue(self) -> list[CatalogueModel]:
        """All three catalogues (fetched concurrently) merged into one entry per model id."""
        models, images, videos = await asyncio.gather(
            self.list_models(output_modality="all"), self.list_image_models(), self.list_video_models()
        )
        return catalogue_parsers.merge_catalogue(models, images, videos)

    async def key_info(self) -> KeyInfo:
        """``GET /key``: the key's own usage and credit limit."""
        return parsing.key_info(await self._get_json("/key"))

    # ------------------------------------------------------------- transport

    async def _post_json(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        return parsing.json_object((await self._request("POST", path, json_body=body)).content)

    async def _get_json(
        self, path_or_url: str, *, params: dict | None = None, error_means_failure: bool = True
    ) -> dict:
        response = await self._request("GET", path_or_url, params=params)
        return parsing.json_object(response.content, error_means_failure=error_means_failure)

    async def _download(self, url: str, dest: Any, meter: DownloadMeter) -> str:
        """GET ``url`` and stream its body into ``dest`` within the meter's size cap and
        deadline (enforced as a hard timeout here); return its media type."""
        try:
            async with asyncio.timeout(meter.remaining):
                response = await self._request("GET", url, stream=True)
                try:
                    meter.check_headers(response.headers)
                    async for chunk in response.aiter_bytes():
                        meter.add(chunk)
                        dest.write(chunk)
                    return response.headers.get("Content-Type", "").split(";")[0].strip()
                finally:
                    await response.aclose()
        except TimeoutError as exc:
            raise meter.too_slow() from exc
        except httpx.HTTPError as exc:
            raise transport.stream_error_for_exception(exc, meter.what) from exc

    async def _request(
        self,
        method: str,
        path_or_url: str,
        *,
        json_body: dict | None = None,
        params: dict | None = None,
        stream: bool = False,
    ) -> httpx.Response:
        """Send one request with the retry policy; return a 2xx response or raise."""
        url = self._url(path_or_url)
        started = self._clock()
        attempt = 0
        while True:
            try:
                return await observe.aexchange(self._exchange, method, url, json_body, params, stream)
            except ProviderError as error:
                error.attempts = attempt + 1
                delay = self.retry_policy.should_retry(error, attempt, started)
                if delay is None:
                    raise
            await self._sleep(delay)
            attempt += 1

    async def _exchange(
        self, method: str, url: str, json_body: dict | None, params: dict | None, stream: bool
    ) -> httpx.Response:
        """One attempt, as :meth:`OpenRouterClient._exchange`."""
        for _hop in range(transport.MAX_REDIRECTS + 1):
            await self._check_url(url)
            request = self.http.build_request(
                method, url, json=json_body, params=params, headers=self._headers_for(url), timeout=self._timeout
            )
            try:
                response = await self.http.send(request, stream=True)
            except httpx.HTTPError as exc:
                raise transport.error_for_exception(exc, method) from exc
            hop = transport.redirect(response, method, json_body)
            if hop is None:
                break
            await response.aclose()
            url = await self._redirect_target(url, hop.location)
            method, json_body, params = hop.method, hop.json_body, None
        else:
            raise transport.too_many_redirects(url)
        try:
            if response.status_code >= 400:
                raise transport.error_from_response(
                    response.status_code, response.reason_phrase, response.headers, await _read_quietly(response)
                )
            if not stream:
                await response.aread()
        except httpx.HTTPError as exc:
            raise transport.error_for_exception(exc, method) from exc
        finally:
            if not stream or response.status_code >= 400:
                await response.aclose()
        return response

    async def _check_url(self, url: str) -> None:
        if self.guard.needs_lookup(url):
            await asyncio.to_thread(self.guard.check, url)  # DNS look-ups block
        else:
            self.guard.check(url)

    async def _redirect_target(self, url: str, location: str) -> str:
        if self.guard.needs_lookup(urljoin(url, location)):
            return await asyncio.to_thread(self.guard.redirect_target, url, location)
        return self.guard.redirect_target(url, location)


class AsyncChatStream:
    """The items of a streamed chat completion, for ``async for``. ``aclose()`` stops
    reading and closes the upstream connection, so the provider sees the stream abandoned."""

    def __init__(self, response: httpx.Response, model: str) -> None:
        self._response = response
        self._chunks = response.aiter_bytes()
        self._decoder = parsing.StreamDecoder(model)
        self._pending: list[Any] = []
        self._finished = False

    def __aiter__(self) -> AsyncIterator[StreamPiece | StreamEnd]:
        return self

    async def __anext__(self) -> StreamPiece | StreamEnd:
        while not self._pending:
            if self._finished:
                await self.aclose()
                raise StopAsyncIteration
            self._pending.extend(await self._read())
        item = self._pending.pop(0)
        if isinstance(item, ProviderError):
            await self.aclose()
            raise item
        if isinstance(item, StreamEnd):
            self._finished, self._pending = True, []
            await self.aclose()
        return item

    async def _read(self) -> list[Any]:
        try:
            return self._decoder.feed(await self._chunks.__anext__())
        except StopAsyncIteration:
            self._finished = True
            return self._decoder.finish()
        except httpx.HTTPError as exc:
            await self.aclose()
            raise transport.stream_error_for_exception(exc) from exc

    async def aclose(self) -> None:
        """Stop reading and close the connection (safe to call twice)."""
        self._finished = True
        await self._response.aclose()


class _Appender:
    def __init__(self, buffer: bytearray) -> None:
        self.buffer = buffer

    def write(self, data: bytes) -> int:
        self.buffer.extend(data)
        return len(data)


async def _read_quietly(response: httpx.Response) -> bytes:
    try:
        return await response.aread()
    except httpx.HTTPError:
        return b""


async def _all(coroutines: Iterable[Awaitable[T]]) -> list[T]:
    """Run concurrently, results in order; on the first failure the others are cancelled
    and that failure is raised (a plain ProviderError, not an exception group)."""
    tasks = [asyncio.ensure_future(c) for c in coroutines]
    try:
        return list(await asyncio.gather(*tasks))
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise


# ---------------------------------------------------------------- settings

# One client per running event loop; an entry goes when its loop is garbage-collected.
_by_loop: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, AsyncOpenRouterClient] = weakref.WeakKeyDictionary()
_closing: set[asyncio.Task] = set()


def _close_later(client: AsyncOpenRouterClient) -> None:
    """Close a replaced client's connections on the loop it belongs to (we are on it)."""
    task = asyncio.get_running_loop().create_task(client.aclose())
    _closing.add(task)
    task.add_done_callback(_closing.discard)


_cache: ClientCache[AsyncOpenRouterClient] = ClientCache(
    lambda config: AsyncOpenRouterClient(config), on_replace=_close_later, store=_by_loop
)


def get_async_client() -> AsyncOpenRouterClient:
    """The running event loop's client, built from ``django.conf.settings``; rebuilt when
    the OPENROUTER_* settings change, like :func:`openrouter.client.get_client`.
    Must be called from a coroutine (it needs the running loop)."""
    return _cache.get(asyncio.get_running_loop())
