"""The OpenRouter HTTP client: the only code in Studio that talks to the provider.

Built on ``requests`` with pooled sessions (one per thread), connect and read
timeouts, and a retry policy: 408/429/5xx answers and connection failures are
retried with exponential backoff and jitter, honouring ``Retry-After``, as long as
the total time budget allows; 400/401/402/403/404 are never retried. Failures are
raised as the typed errors of :mod:`openrouter.errors`; results are the plain
dataclasses of :mod:`openrouter.types`.

The API key is sent only to the provider's own origin (the base URL's scheme, host
and port), never to third-party hosts serving generated files.
"""

from __future__ import annotations

import base64
import binascii
import email.utils
import io
import json
import random
import threading
import time
from datetime import datetime, timezone
from typing import IO, Any, Callable, Iterator
from urllib.parse import urljoin, urlsplit

import requests
from requests.adapters import HTTPAdapter

from . import catalogue as catalogue_parsers
from .catalogue import image_route_for
from .errors import (
    ProviderError,
    ProviderMalformedResponse,
    ProviderTimeout,
    ProviderUnavailable,
    error_from_payload,
)
from .types import (
    VIDEO_RUNNING,
    VIDEO_TERMINAL,
    CatalogueModel,
    ChatResult,
    GeneratedImage,
    ImageResult,
    ImageRoute,
    StreamEnd,
    StreamPiece,
    Usage,
    VideoJobStatus,
    VideoSubmission,
)

DEFAULT_BASE_URL = "https://openrouter.ai/api/v1"
DEFAULT_VIDEO_MAX_BYTES = 200 * 1024 * 1024
# Generated images are a few MB at most; anything far larger is not an image we asked for.
IMAGE_MAX_BYTES = 64 * 1024 * 1024
_DOWNLOAD_CHUNK = 64 * 1024
USER_AGENT = "studio-openrouter/1.0"


class OpenRouterClient:
    """A client for the OpenRouter API. Safe to share between threads.

    Every argument is plain data so the client is testable without Django; use
    :func:`get_client` to build one from Django settings. ``sleep``, ``clock`` and
    ``rand`` exist so tests can observe backoff without waiting.
    """

    def __init__(
        self,
        *,
        base_url: str = DEFAULT_BASE_URL,
        api_key: str = "",
        app_url: str = "",
        app_title: str = "",
        connect_timeout: float = 5.0,
        read_timeout: float = 60.0,
        max_retries: int = 3,
        retry_budget: float = 30.0,
        backoff_base: float = 0.5,
        backoff_cap: float = 8.0,
        images_path: str = "/images",
        video_max_bytes: int = DEFAULT_VIDEO_MAX_BYTES,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        rand: Callable[[], float] = random.random,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.app_url = app_url
        self.app_title = app_title
        self.timeout = (connect_timeout, read_timeout)
        self.max_retries = max(0, int(max_retries))
        self.retry_budget = float(retry_budget)
        self.backoff_base = float(backoff_base)
        self.backoff_cap = float(backoff_cap)
        self.images_path = "/" + images_path.strip("/")
        self.video_max_bytes = int(video_max_bytes)
        self._shared_session = session
        self._local = threading.local()
        self._sleep = sleep
        self._clock = clock
        self._rand = rand
        self._origin = _origin(self.base_url)

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
        body = _chat_body(model, messages, max_tokens, temperature)
        payload = self._post_json("/chat/completions", body)
        message, finish_reason = _first_choice(payload)
        return ChatResult(
            id=str(payload.get("id") or ""),
            model=str(payload.get("model") or model),
            text=_message_text(message),
            usage=_usage(payload.get("usage")),
            finish_reason=finish_reason,
        )

    def chat_stream(
        self,
        *,
        model: str,
        messages: list[dict[str, Any]],
        max_tokens: int | None = None,
        temperature: float | None = None,
    ) -> Iterator[StreamPiece | StreamEnd]:
        """Stream a chat completion: :class:`StreamPiece` items, then one :class:`StreamEnd`.

        The request is sent by the call itself, so failures to open the stream raise
        before iteration starts (retried like any request); once text has flowed, a
        dropped connection raises :class:`ProviderUnavailable` (no retry: the pieces
        already given cannot be taken back) and an error event raises its typed error.
        """
        body = _chat_body(model, messages, max_tokens, temperature)
        body["stream"] = True
        response = self._request("POST", "/chat/completions", json_body=body, stream=True)
        return self._stream_events(response, model)

    def _stream_events(self, response: requests.Response, model: str) -> Iterator[StreamPiece | StreamEnd]:
        state = {"id": "", "model": model, "usage": Usage(), "finish_reason": None}
        events = 0
        try:
            for data in _sse_data_lines(response):
                events += 1
                if data == "[DONE]":
                    yield StreamEnd(
                        id=state["id"], model=state["model"], usage=state["usage"],
                        finish_reason=state["finish_reason"],
                    )
                    return
                piece = _apply_stream_chunk(state, _loads(data, "stream event"))
                if piece:
                    yield StreamPiece(piece)
        finally:
            response.close()
        if not events:
            # Not a single event: the answer isn't an event stream at all.
            raise ProviderMalformedResponse("The provider's streamed answer has no events.")
        raise ProviderUnavailable("The stream ended before the provider finished the answer.")

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
    ) -> ImageResult:
        """Generate ``n`` images; ``route`` comes from the catalogue, else name rules.

        The chat route (text+image models) sends ``modalities`` and ``image_config``
        and makes one call per image; the images route sends one request with ``n``.
        Data URLs are decoded and hosted URLs fetched, so the result always holds bytes.
        """
        route = route or image_route_for(model)
        if route == "chat":
            return self._generate_image_chat(model, prompt, n, aspect_ratio, image_size, size)
        return self._generate_image_endpoint(model, prompt, n, size, aspect_ratio, image_size)

    def _generate_image_chat(
        self, model: str, prompt: str, n: int, aspect_ratio: str | None, image_size: str | None, size: str | None
    ) -> ImageResult:
        if size:
            raise ValueError("The chat image route takes aspect_ratio and image_size, not size.")
        body: dict[str, Any] = {
            "model": model,
            "messages": [{"role": "user", "content": prompt}],
            "modalities": ["image", "text"],
        }
        image_config = {k: v for k, v in (("aspect_ratio", aspect_ratio), ("image_size", image_size)) if v}
        if image_config:
            body["image_config"] = image_config
        images: list[GeneratedImage] = []
        usage = Usage()
        texts: list[str] = []
        # Chat completions return one image per answer, so n images take n calls.
        for _ in range(max(1, n)):
            payload = self._post_json("/chat/completions", body)
            message, _finish = _first_choice(payload)
            entries = message.get("images") or []
            if not isinstance(entries, list) or not entries:
                raise ProviderMalformedResponse("The provider answered without an image.")
            images.extend(self._image_from_url(_image_entry_url(entry)) for entry in entries)
            usage = usage + _usage(payload.get("usage"))
            text = _message_text(message)
            if text:
                texts.append(text)
        return ImageResult(model=model, route="chat", images=images, usage=usage, text="\n".join(texts))

    def _generate_image_endpoint(
        self, model: str, prompt: str, n: int, size: str | None, aspect_ratio: str | None, image_size: str | None
    ) -> ImageResult:
        body: dict[str, Any] = {"model": model, "prompt": prompt, "n": n}
        for key, value in (("size", size), ("aspect_ratio", aspect_ratio), ("resolution", image_size)):
            if value:
                body[key] = value
        payload = self._post_json(self.images_path, body)
        data = payload.get("data")
        if not isinstance(data, list) or not data:
            raise ProviderMalformedResponse("The images endpoint answered without images.")
        images = [self._image_from_item(item) for item in data]
        return ImageResult(model=model, route="images", images=images, usage=_usage(payload.get("usage")))

    def _image_from_item(self, item: Any) -> GeneratedImage:
        if not isinstance(item, dict):
            raise ProviderMalformedResponse("An image entry is not an object.")
        if item.get("b64_json"):
            data = _b64decode(item["b64_json"])
            return _generated_image(data, item.get("media_type"))
        if item.get("url"):
            return self._image_from_url(item["url"])
        raise ProviderMalformedResponse("An image entry has neither b64_json nor url.")

    def _image_from_url(self, url: Any) -> GeneratedImage:
        if not isinstance(url, str) or not url:
            raise ProviderMalformedResponse("An image entry has no URL.")
        if url.startswith("data:"):
            media_type, data = _decode_data_url(url)
            return _generated_image(data, media_type)
        if urlsplit(url).scheme not in ("http", "https"):
            raise ProviderMalformedResponse("An image URL is neither a data URL nor http(s).")
        buffer = io.BytesIO()
        media_type = self._download(url, buffer, IMAGE_MAX_BYTES, what="image")
        return _generated_image(buffer.getvalue(), media_type)

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
        body: dict[str, Any] = {"model": model, "prompt": prompt}
        for key, value in (
            ("aspect_ratio", aspect_ratio), ("resolution", resolution), ("size", size), ("duration", duration)
        ):
            if value is not None:
                body[key] = value
        if first_frame_url:
            body["frame_images"] = [
                {"type": "image_url", "frame_type": "first_frame", "image_url": {"url": first_frame_url}}
            ]
        payload = self._post_json("/videos", body)
        job_id = payload.get("id")
        if not isinstance(job_id, str) or not job_id:
            raise ProviderMalformedResponse("The video submission answer has no job id.")
        polling_url = payload.get("polling_url") or f"{self.base_url}/videos/{job_id}"
        return VideoSubmission(id=job_id, polling_url=str(polling_url), status=str(payload.get("status") or "pending"))

    def video_poll(self, *, polling_url: str) -> VideoJobStatus:
        """Poll a video job once.

        A ``completed`` job that carries no content URL is reported as ``failed``
        with an explanatory error: it is a provider fault the job cannot recover from.
        """
        # A failed job's "error" may be an object: it describes the job, not this request.
        payload = self._get_json(polling_url, error_means_failure=False)
        status = payload.get("status")
        if status not in VIDEO_RUNNING | VIDEO_TERMINAL:
            raise ProviderMalformedResponse(f"Unknown video job status {status!r}.")
        urls = [str(url) for url in payload.get("unsigned_urls") or [] if url]
        error = _error_text(payload.get("error"))
        if status == "completed" and not urls:
            status = "failed"
            error = "The provider reported the video as completed but sent no video URL."
        usage = payload.get("usage") if isinstance(payload.get("usage"), dict) else {}
        return VideoJobStatus(
            id=str(payload.get("id") or ""),
            status=status,
            progress=_progress(payload.get("progress")),
            content_urls=urls,
            error=error,
            cost=_float_or_none(usage.get("cost")),
            raw=payload,
        )

    def video_download(self, *, url: str, dest: IO[bytes]) -> int:
        """Stream a video's bytes into ``dest`` (a writable binary file); return the size.

        Raises :class:`ProviderMalformedResponse` when the video exceeds
        ``video_max_bytes`` (checked against Content-Length first, then while reading)
        and :class:`ProviderUnavailable` when the connection drops. After an error
        ``dest`` may hold part of the file: discard it.
        """
        counter = _CountingWriter(dest)
        self._download(url, counter, self.video_max_bytes, what="video")
        return counter.written

    def video_content_url(self, job_id: str, index: int = 0) -> str:
        """The content URL of a job's ``index``-th video on this client's provider."""
        return f"{self.base_url}/videos/{job_id}/content?index={index}"

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

    def key_info(self) -> dict[str, Any]:
        """``GET /key``: the key's usage and limit (for health and admin views)."""
        payload = self._get_json("/key")
        data = payload.get("data")
        return data if isinstance(data, dict) else payload

    # ------------------------------------------------------------- transport

    @property
    def session(self) -> requests.Session:
        """The pooled session for the calling thread (or the one given to the constructor)."""
        if self._shared_session is not None:
            return self._shared_session
        session = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            adapter = HTTPAdapter(pool_connections=4, pool_maxsize=16, max_retries=0)
            session.mount("http://", adapter)
            session.mount("https://", adapter)
            self._local.session = session
        return session

    def _url(self, path_or_url: str) -> str:
        if path_or_url.startswith(("http://", "https://")):
            return path_or_url
        if path_or_url.startswith("/api/"):
            # A server-relative URL from the provider (e.g. a polling URL).
            return urljoin(self._origin + "/", path_or_url)
        return f"{self.base_url}/{path_or_url.lstrip('/')}"

    def _headers_for(self, url: str) -> dict[str, str]:
        headers = {"User-Agent": USER_AGENT}
        if _origin(url) == self._origin:
            if self.api_key:
                headers["Authorization"] = f"Bearer {self.api_key}"
            if self.app_url:
                headers["HTTP-Referer"] = self.app_url
            if self.app_title:
                headers["X-Title"] = self.app_title
        return headers

    def _download(self, url: str, dest: Any, max_bytes: int, *, what: str) -> str:
        """GET ``url`` (retried like any request), stream its body into ``dest`` and
        return its media type. The body is capped at ``max_bytes``."""
        response = self._request("GET", url, stream=True)
        try:
            _download_into(response, dest, max_bytes, what)
            return response.headers.get("Content-Type", "").split(";")[0].strip()
        finally:
            response.close()

    def _post_json(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        response = self._request("POST", path, json_body=body)
        return _json_object(response)

    def _get_json(
        self, path_or_url: str, *, params: dict[str, Any] | None = None, error_means_failure: bool = True
    ) -> dict[str, Any]:
        response = self._request("GET", path_or_url, params=params)
        return _json_object(response, error_means_failure=error_means_failure)

    def _request(
        self,
        method: str,
        path_or_url: str,
        *,
        json_body: dict[str, Any] | None = None,
        params: dict[str, Any] | None = None,
        stream: bool = False,
    ) -> requests.Response:
        """Send one request with the retry policy; return a 2xx response or raise."""
        url = self._url(path_or_url)
        started = self._clock()
        attempt = 0
        while True:
            try:
                return self._send_once(method, url, json_body, params, stream)
            except ProviderError as error:
                error.attempts = attempt + 1
                delay = self._retry_delay(error, attempt, started)
                if delay is None:
                    raise
            self._sleep(delay)
            attempt += 1

    def _send_once(
        self, method: str, url: str, json_body: dict | None, params: dict | None, stream: bool
    ) -> requests.Response:
        try:
            response = self.session.request(
                method, url, json=json_body, params=params, headers=self._headers_for(url),
                timeout=self.timeout, stream=stream,
            )
        except requests.exceptions.ConnectTimeout as exc:
            raise ProviderTimeout("Connecting to the provider timed out.", retryable=True) from exc
        except requests.exceptions.ReadTimeout as exc:
            # A POST may still be running (and billing) at the provider: do not send it twice.
            raise ProviderTimeout("The provider did not answer in time.", retryable=method == "GET") from exc
        except requests.exceptions.RequestException as exc:
            raise ProviderUnavailable(f"Could not reach the provider: {type(exc).__name__}.") from exc
        if response.status_code >= 400:
            raise _error_from_response(response)
        return response

    def _retry_delay(self, error: ProviderError, attempt: int, started: float) -> float | None:
        """Seconds to wait before the next attempt, or None to give up now."""
        if not error.retryable or attempt >= self.max_retries:
            return None
        backoff = min(self.backoff_cap, self.backoff_base * (2 ** attempt))
        # Equal jitter: at least half the backoff, so attempts stay spread out.
        delay = backoff / 2 + self._rand() * backoff / 2
        if error.retry_after is not None:
            delay = max(delay, error.retry_after)
        if self._clock() - started + delay > self.retry_budget:
            return None
        return delay


# ---------------------------------------------------------------- settings


_cached: tuple[tuple, OpenRouterClient] | None = None
_cache_lock = threading.Lock()

# Sent when no key is configured (demo mode): the offline double accepts any
# non-empty bearer token, and the real provider answers 401, which names the problem.
DEMO_API_KEY = "demo-mode-no-key"


def client_settings(settings: Any) -> dict[str, Any]:
    """Constructor arguments read from a settings object, with defaults for missing names."""

    def get(name: str, default: Any) -> Any:
        value = getattr(settings, name, None)
        return default if value is None or value == "" else value

    return {
        "base_url": get("OPENROUTER_BASE_URL", DEFAULT_BASE_URL),
        "api_key": get("OPENROUTER_API_KEY", DEMO_API_KEY),
        "app_url": get("OPENROUTER_APP_URL", ""),
        "app_title": get("OPENROUTER_APP_TITLE", "Studio"),
        "connect_timeout": float(get("OPENROUTER_CONNECT_TIMEOUT", 5.0)),
        "read_timeout": float(get("OPENROUTER_READ_TIMEOUT", 60.0)),
        "max_retries": int(get("OPENROUTER_MAX_RETRIES", 3)),
        "retry_budget": float(get("OPENROUTER_RETRY_BUDGET", 30.0)),
        "images_path": get("OPENROUTER_IMAGES_PATH", "/images"),
        "video_max_bytes": int(get("OPENROUTER_VIDEO_MAX_BYTES", DEFAULT_VIDEO_MAX_BYTES)),
    }


def client_from_settings(settings: Any) -> OpenRouterClient:
    """A new client configured from ``settings`` (any object with OPENROUTER_* attributes)."""
    return OpenRouterClient(**client_settings(settings))


def get_client() -> OpenRouterClient:
    """The process's client, built from ``django.conf.settings``.

    One instance per process (sessions are per thread inside it); rebuilt when the
    OPENROUTER_* settings change, e.g. under ``override_settings`` in tests.
    """
    global _cached
    from django.conf import settings

    config = client_settings(settings)
    key = tuple(sorted(config.items()))
    with _cache_lock:
        if _cached is None or _cached[0] != key:
            _cached = (key, OpenRouterClient(**config))
        return _cached[1]


# ----------------------------------------------------------------- helpers


def _origin(url: str) -> str:
    parts = urlsplit(url)
    port = parts.port or {"http": 80, "https": 443}.get(parts.scheme)
    return f"{parts.scheme}://{(parts.hostname or '').lower()}:{port}"


def _chat_body(
    model: str, messages: list[dict[str, Any]], max_tokens: int | None, temperature: float | None
) -> dict[str, Any]:
    body: dict[str, Any] = {"model": model, "messages": messages}
    if max_tokens is not None:
        body["max_tokens"] = max_tokens
    if temperature is not None:
        body["temperature"] = temperature
    return body


def _error_from_response(response: requests.Response) -> ProviderError:
    try:
        text = response.text
    except requests.exceptions.RequestException:
        text = ""
    finally:
        response.close()
    try:
        payload = json.loads(text) if text else {}
    except ValueError:
        payload = {}
    retry_after = _parse_retry_after(response.headers.get("Retry-After"))
    fallback = f"HTTP {response.status_code} {response.reason or ''}".strip()
    return error_from_payload(response.status_code, payload, fallback_message=fallback, retry_after=retry_after)


def _parse_retry_after(value: str | None) -> float | None:
    """Retry-After as seconds: a number of seconds or an HTTP date."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())


def _json_object(response: requests.Response, *, error_means_failure: bool = True) -> dict[str, Any]:
    try:
        payload = response.json()
    except ValueError as exc:
        raise ProviderMalformedResponse("The provider's answer is not valid JSON.") from exc
    finally:
        response.close()
    if not isinstance(payload, dict):
        raise ProviderMalformedResponse("The provider's answer is not a JSON object.")
    if error_means_failure and isinstance(payload.get("error"), dict) and "choices" not in payload and "data" not in payload:
        # Some failures arrive with HTTP 200 and only an error object.
        raise error_from_payload(None, payload)
    return payload


def _loads(text: str, what: str) -> Any:
    try:
        return json.loads(text)
    except ValueError as exc:
        raise ProviderMalformedResponse(f"The provider sent a {what} that is not valid JSON.") from exc


def _first_choice(payload: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
    choices = payload.get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        raise ProviderMalformedResponse("The provider's answer has no choices.")
    if isinstance(choices[0].get("error"), dict):
        # The provider failed after accepting the request; the choice says why.
        raise error_from_payload(None, {"error": choices[0]["error"]})
    if choices[0].get("finish_reason") == "error":
        raise ProviderUnavailable("The provider failed while generating the answer.", code="error")
    message = choices[0].get("message")
    if not isinstance(message, dict):
        raise ProviderMalformedResponse("The provider's answer has no message.")
    return message, choices[0].get("finish_reason")


def _message_text(message: dict[str, Any]) -> str:
    content = message.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        # Content parts: keep the text ones.
        return "".join(str(part.get("text", "")) for part in content if isinstance(part, dict))
    return ""


def _usage(raw: Any) -> Usage:
    if not isinstance(raw, dict):
        return Usage()
    prompt = _int(raw.get("prompt_tokens"))
    completion = _int(raw.get("completion_tokens"))
    total = _int(raw.get("total_tokens")) or prompt + completion
    return Usage(prompt_tokens=prompt, completion_tokens=completion, total_tokens=total, cost=_float_or_none(raw.get("cost")))


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def _float_or_none(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _progress(value: Any) -> int | None:
    number = _float_or_none(value)
    if number is None:
        return None
    # Some providers report a fraction, others a percentage.
    return int(round(number * 100)) if 0 < number < 1 else int(round(number))


def _error_text(value: Any) -> str | None:
    if not value:
        return None
    if isinstance(value, dict):
        return str(value.get("message") or value.get("code") or json.dumps(value))
    return str(value)


def _sse_data_lines(response: requests.Response) -> Iterator[str]:
    """The ``data:`` payloads of a server-sent event stream; comments are skipped.

    Connection failures while reading become ProviderUnavailable or ProviderTimeout.
    """
    buffer = b""
    try:
        for chunk in response.iter_content(chunk_size=None):
            buffer += chunk
            *lines, buffer = buffer.split(b"\n")
            for line in lines:
                data = _sse_data(line)
                if data is not None:
                    yield data
    except requests.exceptions.ConnectionError as exc:
        if "timed out" in str(exc).lower():
            raise ProviderTimeout("The provider stopped sending the stream.") from exc
        raise ProviderUnavailable("The connection to the provider dropped mid-stream.") from exc
    except requests.exceptions.RequestException as exc:
        raise ProviderUnavailable("The connection to the provider dropped mid-stream.") from exc
    data = _sse_data(buffer)
    if data is not None:
        yield data


def _sse_data(line: bytes) -> str | None:
    text = line.decode("utf-8", errors="replace").rstrip("\r")
    if not text.startswith("data:"):
        return None  # blank separators, ": keep-alive" comments, other fields
    return text[5:].lstrip(" ")


def _apply_stream_chunk(state: dict[str, Any], chunk: Any) -> str:
    """Fold one stream chunk into ``state``; return its text piece (may be empty)."""
    if not isinstance(chunk, dict):
        raise ProviderMalformedResponse("A stream event is not a JSON object.")
    if isinstance(chunk.get("error"), dict):
        raise error_from_payload(None, chunk)
    state["id"] = chunk.get("id") or state["id"]
    state["model"] = chunk.get("model") or state["model"]
    if chunk.get("usage"):
        state["usage"] = _usage(chunk["usage"])
    piece = ""
    for choice in chunk.get("choices") or []:
        if not isinstance(choice, dict):
            continue
        if choice.get("finish_reason") == "error":
            raise error_from_payload(None, {"error": {"code": 502, "message": "The provider failed mid-stream."}})
        if choice.get("finish_reason"):
            state["finish_reason"] = choice["finish_reason"]
        delta = choice.get("delta") or {}
        if isinstance(delta, dict) and isinstance(delta.get("content"), str):
            piece += delta["content"]
    return piece


def _image_entry_url(entry: Any) -> Any:
    if isinstance(entry, dict):
        image_url = entry.get("image_url")
        if isinstance(image_url, dict):
            return image_url.get("url")
        return image_url or entry.get("url")
    return entry


def _decode_data_url(url: str) -> tuple[str, bytes]:
    header, _, data = url.partition(",")
    if ";base64" not in header:
        raise ProviderMalformedResponse("An image data URL is not base64-encoded.")
    media_type = header[5:].split(";")[0] or "application/octet-stream"
    return media_type, _b64decode(data)


def _b64decode(data: str) -> bytes:
    try:
        return base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ProviderMalformedResponse("An image is not valid base64.") from exc


def _generated_image(data: bytes, media_type: str | None) -> GeneratedImage:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as image:
            width, height = image.size
            detected = Image.MIME.get(image.format or "")
    except (UnidentifiedImageError, OSError) as exc:
        raise ProviderMalformedResponse("The provider sent image bytes that are not an image.") from exc
    if not media_type or not media_type.startswith("image/"):
        media_type = detected or "application/octet-stream"
    return GeneratedImage(data=data, media_type=media_type, width=width, height=height)


class _CountingWriter:
    """Wraps a binary file so the download loop can count what it wrote."""

    def __init__(self, dest: IO[bytes]) -> None:
        self.dest = dest
        self.written = 0

    def write(self, data: bytes) -> int:
        self.dest.write(data)
        self.written += len(data)
        return len(data)


def _download_into(response: requests.Response, dest: Any, max_bytes: int, what: str) -> None:
    declared = response.headers.get("Content-Length")
    if declared and declared.isdigit() and int(declared) > max_bytes:
        raise ProviderMalformedResponse(f"The {what} is larger than the {max_bytes}-byte limit.")
    received = 0
    try:
        for chunk in response.iter_content(chunk_size=_DOWNLOAD_CHUNK):
            received += len(chunk)
            if received > max_bytes:
                raise ProviderMalformedResponse(f"The {what} is larger than the {max_bytes}-byte limit.")
            dest.write(chunk)
    except requests.exceptions.RequestException as exc:
        raise ProviderUnavailable(f"The connection dropped while downloading the {what}.") from exc
