"""The asyncio OpenRouter client, for web requests: chat completions (whole and
streamed), embeddings and images.

Video jobs, the catalogues and the key's usage are the worker's and commands' business,
through :mod:`openrouter.client`. Both clients stand on the same non-I/O parts (bodies,
parsing, retry policy, URL guard, download limits); their I/O is in :mod:`.exchange`,
each sync half beside its async one. The chat image route's ``n`` calls, and the
downloads of hosted images, run concurrently. A client is bound to the event loop it
first ran on: :func:`get_async_client` keeps one per running loop.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from typing import Any, TypeVar

import httpx

from . import exchange, parsing, payloads, pools, transport
from .catalogue import image_route_for
from .config import ClientConfig
from .core import ClientCache, ClientCore
from .downloads import DownloadMeter, MemoryWriter
from .errors import ProviderError
from .types import ChatResult, EmbeddingResult, ImageResult, ImageRoute, ProviderImage, StreamEnd, StreamPiece, Usage
from .urlguard import Target

T = TypeVar("T")


class AsyncOpenRouterClient(ClientCore):
    """The web requests' client for the OpenRouter API, on asyncio. Use it from one event
    loop; ``aclose()`` when done. Configuration as for :class:`OpenRouterClient`; ``sleep``
    is a coroutine function."""

    def __init__(
        self,
        config: ClientConfig | None = None,
        *,
        http: pools.ProviderHttp | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        **options: Any,
    ) -> None:
        super().__init__(config, **options)
        self.http = http or pools.ProviderHttp()
        self._sleep = sleep
        self._request_timeout = pools.request_timeout(self.config)

    async def _send(self, method: str, target: Target, json_body: dict | None, params: dict | None) -> pools.Answer:
        """Send one request to the address the guard checked (the async half of
        ``OpenRouterClient._build_request`` and sending it)."""
        url, headers, extensions = self._request_parts(target)
        body = None
        if json_body is not None:
            body = pools.json_bytes(json_body)
            headers["Content-Type"] = "application/json"
        return await self.http.send(
            method,
            str(url),
            headers=headers,
            body=body,
            params=params,
            timeout=self._request_timeout,
            sni_hostname=extensions.get("sni_hostname"),
        )

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
        response = await exchange.asend(self, "POST", "/chat/completions", json_body=body, stream=True)
        return AsyncChatStream(response, model)

    # ------------------------------------------------------------ embeddings

    async def embeddings(
        self,
        *,
        model: str,
        inputs: list[str | list[int]],
        dimensions: int | None = None,
        encoding_format: str | None = None,
    ) -> EmbeddingResult:
        """One vector per input (texts, or token lists), in input order."""
        body = payloads.embeddings_body(model, inputs, dimensions, encoding_format)
        return parsing.embeddings_result(await self._post_json("/embeddings", body), model, inputs=len(inputs))

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
        reference_urls: tuple[str, ...] = (),
        mask_url: str | None = None,
    ) -> ImageResult:
        """Generate ``n`` images; ``route`` comes from the catalogue, else name rules.
        ``source_image_url`` edits that image, with ``reference_urls`` beside it and
        ``mask_url`` saying where to change it: on the chat route as ``image_url`` parts,
        on the images route as ``input_references``.

        The chat route (text+image models) sends ``modalities`` and ``image_config`` and
        makes one call per image, all at once; the images route sends one request with
        ``n``. Data URLs are decoded and hosted URLs fetched (concurrently), so the result
        always holds bytes.
        """
        edit = (source_image_url, reference_urls, mask_url)
        if (route or image_route_for(model)) == "chat":
            body = payloads.chat_image_body(model, prompt, aspect_ratio, image_size, size, *edit)
            answers = await _all(self._chat_image(body) for _ in range(max(1, n)))
            return parsing.combined_chat_images(model, answers)
        body = payloads.images_body(model, prompt, n, size, aspect_ratio, image_size, *edit)
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
        buffer = MemoryWriter()
        media_type = await exchange.adownload(self, source, buffer, meter)
        return parsing.provider_image(bytes(buffer), media_type)

    # ------------------------------------------------------------- transport

    async def _post_json(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        return parsing.json_object((await exchange.asend(self, "POST", path, json_body=body)).content)


class AsyncChatStream:
    """The items of a streamed chat completion, for ``async for``. ``aclose()`` stops
    reading and closes the upstream connection, so the provider sees the stream abandoned."""

    def __init__(self, response: pools.Answer, model: str) -> None:
        self._response = response
        self._chunks = response.aiter_bytes()
        self._decoder = parsing.StreamDecoder(model)
        self._pending: list[Any] = []
        self._finished = False

    def __aiter__(self) -> AsyncIterator[StreamPiece | StreamEnd]:
        return self

    def piece_ready(self) -> bool:
        """Whether the next item is a piece that has arrived already (no wait for it)."""
        return bool(self._pending) and isinstance(self._pending[0], StreamPiece)

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
