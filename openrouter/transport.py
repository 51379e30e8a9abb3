"""What both clients do around each HTTP exchange, as pure functions: the retry policy,
URLs and headers, timeouts, and turning HTTP failures into typed errors.

The clients own the sockets and the sleeping; everything they decide comes from here,
so the sync and async clients behave the same.
"""

from __future__ import annotations

import email.utils
import json
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, NamedTuple, Protocol
from urllib.parse import urljoin, urlsplit

import httpx

from .config import ClientConfig
from .errors import ProviderError, ProviderTimeout, ProviderUnavailable, error_from_payload

USER_AGENT = "studio-openrouter/1.0"
MAX_REDIRECTS = 5
# Generated images are a few MB at most; anything far larger is not an image we asked for.
IMAGE_MAX_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class RetryPolicy:
    """Retry 408/429/5xx and connection failures with capped exponential backoff and
    equal jitter, honouring Retry-After, within a total time budget."""

    max_retries: int
    budget: float
    backoff_base: float
    backoff_cap: float
    clock: Callable[[], float] = field(default=time.monotonic, compare=False)
    rand: Callable[[], float] = field(default=random.random, compare=False)

    @classmethod
    def from_config(cls, config: ClientConfig, **hooks: Any) -> RetryPolicy:
        return cls(config.max_retries, config.retry_budget, config.backoff_base, config.backoff_cap, **hooks)

    def should_retry(self, error: ProviderError, attempt: int, started: float) -> float | None:
        """Seconds to wait before attempt ``attempt + 1`` (0-based ``attempt`` just failed),
        or None to give up now and raise ``error``."""
        if not error.retryable or attempt >= self.max_retries:
            return None
        backoff = min(self.backoff_cap, self.backoff_base * (2**attempt))
        # Equal jitter: at least half the backoff, so attempts stay spread out.
        delay = backoff / 2 + self.rand() * backoff / 2
        if error.retry_after is not None:
            delay = max(delay, error.retry_after)
        if self.clock() - started + delay > self.budget:
            return None
        return delay

    def start(self) -> Tries:
        """The bookkeeping of one request's attempts, starting now."""
        return Tries(self, self.clock())


@dataclass
class Tries:
    """One request's attempts under a :class:`RetryPolicy`."""

    policy: RetryPolicy
    started: float
    failed: int = 0

    def wait_after(self, error: ProviderError) -> float:
        """Seconds to wait before trying again after ``error``; raise ``error`` (its
        ``attempts`` set) when it is not to be tried again."""
        error.attempts = self.failed + 1
        delay = self.policy.should_retry(error, self.failed, self.started)
        if delay is None:
            raise error
        self.failed += 1
        return delay


def timeouts(config: ClientConfig) -> httpx.Timeout:
    """Connect timeout, and the read timeout for every wait on the provider's bytes."""
    return httpx.Timeout(config.read_timeout, connect=config.connect_timeout, pool=config.connect_timeout)


def origin(url: str) -> str:
    """scheme://host:port, with the default port filled in."""
    parts = urlsplit(url)
    port = parts.port or {"http": 80, "https": 443}.get(parts.scheme)
    return f"{parts.scheme}://{(parts.hostname or '').lower()}:{port}"


def resolve_url(config: ClientConfig, path_or_url: str) -> str:
    """An endpoint path under the base URL, a server-relative URL from the provider
    (``/api/v1/videos/...``) against its origin, or an absolute URL as it is."""
    if path_or_url.startswith(("http://", "https://")):
        return path_or_url
    if path_or_url.startswith("/api/"):
        return urljoin(origin(config.base_url) + "/", path_or_url)
    return f"{config.base_url}/{path_or_url.lstrip('/')}"


def headers_for(config: ClientConfig, url: str) -> dict[str, str]:
    """Request headers; the key and app headers go to the provider's own origin only."""
    headers = {"User-Agent": USER_AGENT}
    if origin(url) == origin(config.base_url):
        if config.api_key:
            headers["Authorization"] = f"Bearer {config.api_key}"
        if config.app_url:
            headers["HTTP-Referer"] = config.app_url
        if config.app_title:
            headers["X-Title"] = config.app_title
    return headers


class Answered(Protocol):
    """What these decisions read of an answer: httpx's responses (the sync client) and
    :class:`pools.Answer` (the async client) both have it."""

    @property
    def status_code(self) -> int: ...

    @property
    def headers(self) -> Mapping[str, str]: ...


class Hop(NamedTuple):
    """The next request of a redirect chain."""

    method: str
    location: str
    json_body: dict | None


def redirect(response: Answered, method: str, json_body: dict | None) -> Hop | None:
    """Where a redirect answer sends us (303, and 301/302 after a POST, turn into a GET
    without a body, as browsers do), or None when the answer is not a redirect."""
    location = response.headers.get("Location")
    if response.status_code not in (301, 302, 303, 307, 308) or not location:
        return None
    if response.status_code == 303 or (response.status_code in (301, 302) and method != "GET"):
        return Hop("GET", location, None)
    return Hop(method, location, json_body)


def media_type(response: Answered) -> str:
    """The answer's media type, without parameters ("" when it names none)."""
    return response.headers.get("Content-Type", "").split(";")[0].strip()


def too_many_redirects(url: str) -> ProviderError:
    return ProviderUnavailable(f"The provider redirected more than {MAX_REDIRECTS} times.")


def error_for_exception(exc: httpx.HTTPError, method: str) -> ProviderError:
    """The typed error for a failure to send a request or read its answer."""
    if isinstance(exc, httpx.ConnectTimeout):
        return ProviderTimeout("Connecting to the provider timed out.", retryable=True)
    if isinstance(exc, httpx.TimeoutException):
        # A POST may still be running (and billing) at the provider: do not send it twice.
        return ProviderTimeout("The provider did not answer in time.", retryable=method == "GET")
    return ProviderUnavailable(f"Could not reach the provider: {type(exc).__name__}.")


def stream_error_for_exception(exc: httpx.HTTPError, what: str = "stream") -> ProviderError:
    """The typed error for a connection failing while a streamed body was being read
    (never retried: what was already given cannot be taken back)."""
    if isinstance(exc, httpx.TimeoutException):
        return ProviderTimeout(f"The provider stopped sending the {what}.")
    if what == "stream":
        return ProviderUnavailable("The connection to the provider dropped mid-stream.")
    return ProviderUnavailable(f"The connection dropped while downloading the {what}.")


def error_from_response(status: int, reason: str, headers: Mapping[str, str], content: bytes) -> ProviderError:
    """The typed error for a non-2xx answer, with the provider's Retry-After advice."""
    try:
        payload = json.loads(content) if content else {}
    except ValueError:
        payload = {}
    retry_after = parse_retry_after(headers.get("Retry-After"))
    fallback = f"HTTP {status} {reason or ''}".strip()
    return error_from_payload(status, payload, fallback_message=fallback, retry_after=retry_after)


def parse_retry_after(value: str | None) -> float | None:
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
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())
