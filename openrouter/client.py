"""The synchronous OpenRouter client, for the Celery worker and management commands:
video jobs (submit, poll, download), the model catalogues and the key's usage.

Text and images are asked for by web requests, through :mod:`openrouter.aclient`. Both
clients are thin layers over the same parts: request bodies (:mod:`.payloads`), answer
parsing (:mod:`.parsing`), retry policy, headers and timeouts (:mod:`.transport`), the
URL guard (:mod:`.urlguard`), download limits (:mod:`.downloads`) and their I/O, whose
sync and async halves stand side by side in :mod:`.exchange`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import IO, Any

import httpx

from . import catalogue as catalogue_parsers
from . import exchange, parsing, payloads, transport
from .config import ClientConfig
from .core import ClientCache, ClientCore
from .downloads import CountingWriter, DownloadMeter
from .types import CatalogueModel, KeyInfo, VideoJobStatus, VideoSubmission
from .urlguard import Target

# The worker's jobs and a command's downloads, a few at once at most.
POOL_LIMITS = httpx.Limits(max_connections=64, max_keepalive_connections=16)


class OpenRouterClient(ClientCore):
    """The worker's and commands' client for the OpenRouter API. Safe to share between
    threads (one pooled ``httpx.Client``). Configuration comes as a :class:`ClientConfig` and/or its field
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
        self.http = http or httpx.Client(limits=POOL_LIMITS)
        self._sleep = sleep
        self._timeout = transport.timeouts(self.config)

    def _build_request(self, method: str, target: Target, json_body: dict | None, params: dict | None) -> httpx.Request:
        """One request to the address the guard checked, with its timeouts (the sync half
        of ``AsyncOpenRouterClient._send``)."""
        url, headers, extensions = self._request_parts(target)
        return self.http.build_request(
            method, url, json=json_body, params=params, headers=headers, extensions=extensions, timeout=self._timeout
        )

    def close(self) -> None:
        """Close the pooled connections."""
        self.http.close()

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
        exchange.download(self, url, counter, meter)
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
        return parsing.json_object(exchange.send(self, "POST", path, json_body=body).content)

    def _get_json(self, path_or_url: str, *, params: dict | None = None, error_means_failure: bool = True) -> dict:
        response = exchange.send(self, "GET", path_or_url, params=params)
        return parsing.json_object(response.content, error_means_failure=error_means_failure)


# ---------------------------------------------------------------- settings

_cache: ClientCache[OpenRouterClient] = ClientCache(lambda config: OpenRouterClient(config))


def get_client() -> OpenRouterClient:
    """The process's client, built from ``django.conf.settings``; rebuilt when the
    OPENROUTER_* settings change, e.g. under ``override_settings`` in tests."""
    return _cache.get()
