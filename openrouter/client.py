"""The synchronous OpenRouter client, for the Celery worker and management commands.

A thin layer of I/O over the shared parts: request bodies (:mod:`.payloads`), answer
parsing (:mod:`.parsing`), the retry policy, headers and timeouts (:mod:`.transport`),
the URL guard (:mod:`.urlguard`) and download limits (:mod:`.downloads`).
:mod:`openrouter.aclient` is the same client for asyncio.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import IO, Any

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


class OpenRouterClient(ClientCore):
    """A client for the OpenRouter API. Safe to share between threads (one pooled
    ``httpx.Client``). Configuration comes as a :class:`ClientConfig` and/or its field
    names as keywords; use :func:`get_client` to build one from Django settings."""

    def __init__(
        self,
        config: ClientConfig | None = None,
        *,
        http: httpx.Client | None = None,
        sleep: Callable[[float], None] = time.sleep,
        **options: Any,
    ) -> None:
        super().__init__(config, **options)
        self.http = http or httpx.Client(limits=pools.POOL_LIMITS)
        self._sleep = sleep

    def close(self) -> None:
        """Close the pooled connections."""
        self.http.close()

    # ------------------------------------------------------------------ text

    def chat(
        self,
        *,
        model: str,
        messages: list[dict[str, Any]],
        max_tokens: int | None = None,
        temperature: float | None = None,
    ) -> ChatResult:
        """One whole chat completion."""
        body = payloads.chat_body(model, messages, max_tokens, temperature)
        return parsing.chat_result(self._post_json("/chat/completions", body), model)

    def chat_stream(
        self,
        *,
        model: str,
        messages: list[dict[str, Any]],
        max_tokens: int | None = None,
        temperature: float | None = None,
    ) -> ChatStream:
        """Stream a chat completion: :class:`StreamPiece` items, then one :class:`StreamEnd`.

        The request is sent by the call itself, so failures to open the stream raise
        before iteration starts (retried like any request); once text has flowed, a
        dropped connection raises :class:`ProviderUnavailable` (no retry: the pieces
        already given cannot be taken back) and an error event raises its typed error.
        ``close()`` ends the stream early and closes the connection.
        """
        body = payloads.chat_body(model, messages, max_tokens, temperature, stream=True)
        return ChatStream(self._request("POST", "/chat/completions", json_body=body, stream=True), model)

    # ---------------------------------------------------------------- images

    def generate_image(
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
        """Generate ``n`` images; ``route`` comes from the catalogue, else name rules.
        ``source_image_url`` edits that image (chat route only, as an ``image_url`` part).

        The chat route (text+image models) sends ``modalities`` and ``image_config``
        and makes one call per image, one after another; the images route sends one
        request with ``n``. Data URLs are decoded and hosted URLs fetched, so the
        result always holds bytes.
        """
        if (route or image_route_for(model)) == "chat":
            body = payloads.chat_image_body(model, prompt, aspect_ratio, image_size, size, source_image_url)
            return parsing.combined_chat_images(model, [self._chat_image(body) for _ in range(max(1, n))])
        if source_image_url:
            raise ValueError("Editing an image needs the chat route (a model that takes image input).")
        body = payloads.images_body(model, prompt, n, size, aspect_ratio, image_size)
        sources, usage = parsing.images_answer(self._post_json(self.images_path, body))
        return ImageResult(model=model, route="images", images=[self._image(s) for s in sources], usage=usage)

    def _chat_image(self, body: dict[str, Any]) -> tuple[list[ProviderImage], Usage, str]:
        sources, usage, text = parsing.chat_image_answer(self._post_json("/chat/completions", body))
        return [self._image(source) for source in sources], usage, text

    def _image(self, source: parsing.ImageSource) -> ProviderImage:
        if isinstance(source, ProviderImage):
            return source
        meter = DownloadMeter("image", transport.IMAGE_MAX_BYTES, self.config.image_download_deadline, self._clock)
        writer = _Buffer()
        media_type = self._download(source, writer, meter)
        return parsing.provider_image(writer.getvalue(), media_type)

    # ----------------------------------------------------------------- video

    def video_submit(
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
        """Submit a video job (text-to-video, or image-to-video with ``first_frame_url``,
        an https or data URL). Returns as soon as the provider accepted the job."""
        body = payloads.video_body(model, prompt, aspect_ratio, resolution, size, duration, first_frame_url)
        return parsing.video_submission(self._post_json("/videos", body), self.base_url)

    def video_poll(self, *, polling_url: str) -> VideoJobStatus:
        """Poll a video job once (see :func:`parsing.video_status` for a completed job
        without URLs)."""
        # A failed job's "error" may be an object: it describes the job, not this request.
        return parsing.video_status(self._get_json(polling_url, error_means_failure=False))

    def video_download(self, *, url: str, dest: IO[bytes]) -> int:
        """Stream a video's bytes into ``dest`` (a writable binary file); return the size.

        Raises :class:`ProviderMalformedResponse` when the video exceeds
        ``video_max_bytes`` (checked against Content-Length first, then while reading),
        :class:`ProviderTimeout` past the download deadline and :class:`ProviderUnavailable`
        when the connection drops. After an error ``dest`` may hold part of the file.
        """
        counter = CountingWriter(dest)
        meter = DownloadMeter("video", self.video_max_bytes, self.config.video_download_deadline, self._clock)
        self._download(url, counter, meter)
        return counter.written

    # ------------------------------------------------------------ catalogues

    def list_models(self, *, output_modality: str | None = None) -> list[CatalogueModel]:
        """``GET /models``, optionally filtered (``text``, ``image``, ``video``, ``all``...)."""
        params = {"output_modalities": output_modality} if output_modality else None
        return catalogue_parsers.parse_models_payload(self._get_json("/models", params=params))

    def list_image_models(self) -> list[CatalogueModel]:
        """``GET /images/models``: image models with the parameters they accept."""
        return catalogue_parsers.parse_image_models_payload(self._get_json("/images/models"))

    def list_video_models(self) -> list[CatalogueModel]:
        """``GET /videos/models``: video models with the parameters they accept."""
        return catalogue_parsers.parse_video_models_payload(self._get_json("/videos/models"))

    def fetch_catalogue(self) -> list[CatalogueModel]:
        """All three catalogues merged into one entry per model id, with its kinds."""
        return catalogue_parsers.merge_catalogue(
            self.list_models(output_modality="all"), self.list_image_models(), self.list_video_models()
        )

    def key_info(self) -> KeyInfo:
        """``GET /key``: the key's own usage and credit limit (for the admin stats)."""
        return parsing.key_info(self._get_json("/key"))

    # ------------------------------------------------------------- transport

    def _post_json(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        return parsing.json_object(self._request("POST", path, json_body=body).content)

    def _get_json(self, path_or_url: str, *, params: dict | None = None, error_means_failure: bool = True) -> dict:
        response = self._request("GET", path_or_url, params=params)
        return parsing.json_object(response.content, error_means_failure=error_means_failure)

    def _download(self, url: str, dest: Any, meter: DownloadMeter) -> str:
        """GET ``url`` (retried like any request), stream its body into ``dest`` within
        the meter's limits and return its media type."""
        response = self._request("GET", url, stream=True)
        try:
            meter.check_headers(response.headers)
            for chunk in response.iter_bytes():
                meter.add(chunk)
                dest.write(chunk)
            return response.headers.get("Content-Type", "").split(";")[0].strip()
        except httpx.HTTPError as exc:
            raise transport.stream_error_for_exception(exc, meter.what) from exc
        finally:
            response.close()

    def _request(
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
                return observe.exchange(self._exchange, method, url, json_body, params, stream)
            except ProviderError as error:
                error.attempts = attempt + 1
                delay = self.retry_policy.should_retry(error, attempt, started)
                if delay is None:
                    raise
            self._sleep(delay)
            attempt += 1

    def _exchange(
        self, method: str, url: str, json_body: dict | None, params: dict | None, stream: bool
    ) -> httpx.Response:
        """One attempt: redirects followed under the URL guard, errors typed, the body
        read unless ``stream``."""
        for _hop in range(transport.MAX_REDIRECTS + 1):
            self.guard.check(url)
            request = self.http.build_request(
                method, url, json=json_body, params=params, headers=self._headers_for(url), timeout=self._timeout
            )
            try:
                response = self.http.send(request, stream=True)
            except httpx.HTTPError as exc:
                raise transport.error_for_exception(exc, method) from exc
            hop = transport.redirect(response, method, json_body)
            if hop is None:
                break
            response.close()
            url = self.guard.redirect_target(url, hop.location)
            method, json_body, params = hop.method, hop.json_body, None
        else:
            raise transport.too_many_redirects(url)
        try:
            if response.status_code >= 400:
                raise transport.error_from_response(
                    response.status_code, response.reason_phrase, response.headers, _read_quietly(response)
                )
            if not stream:
                response.read()
        except httpx.HTTPError as exc:
            raise transport.error_for_exception(exc, method) from exc
        finally:
            if not stream or response.status_code >= 400:
                response.close()
        return response


class ChatStream:
    """The items of a streamed chat completion; ``close()`` stops reading and closes the
    connection, so the provider sees the stream abandoned."""

    def __init__(self, response: httpx.Response, model: str) -> None:
        self._response = response
        self._chunks = response.iter_bytes()
        self._decoder = parsing.StreamDecoder(model)
        self._pending: list[Any] = []
        self._finished = False

    def __iter__(self) -> Iterator[StreamPiece | StreamEnd]:
        return self

    def __next__(self) -> StreamPiece | StreamEnd:
        while not self._pending:
            if self._finished:
                self.close()
                raise StopIteration
            self._pending.extend(self._read())
        item = self._pending.pop(0)
        if isinstance(item, ProviderError):
            self.close()
            raise item
        if isinstance(item, StreamEnd):
            self._finished, self._pending = True, []
            self.close()
        return item

    def _read(self) -> list[Any]:
        try:
            return self._decoder.feed(next(self._chunks))
        except StopIteration:
            self._finished = True
            return self._decoder.finish()
        except httpx.HTTPError as exc:
            self.close()
            raise transport.stream_error_for_exception(exc) from exc

    def close(self) -> None:
        """Stop reading and close the connection (safe to call twice)."""
        self._finished = True
        self._response.close()


class _Buffer(bytearray):
    """A growing in-memory download target."""

    def write(self, data: bytes) -> int:
        self.extend(data)
        return len(data)

    def getvalue(self) -> bytes:
        return bytes(self)


def _read_quietly(response: httpx.Response) -> bytes:
    """An error answer's body, or nothing when the connection fails while reading it."""
    try:
        return response.read()
    except httpx.HTTPError:
        return b""


# ---------------------------------------------------------------- settings

_cache: ClientCache[OpenRouterClient] = ClientCache(lambda config: OpenRouterClient(config))


def get_client() -> OpenRouterClient:
    """The process's client, built from ``django.conf.settings``; rebuilt when the
    OPENROUTER_* settings change, e.g. under ``override_settings`` in tests."""
    return _cache.get()
