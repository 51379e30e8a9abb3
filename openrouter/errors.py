"""Typed errors raised by the OpenRouter client.

Every failure the provider boundary can report is a :class:`ProviderError`. Each
subclass carries the provider's own ``code``, ``message`` and ``metadata`` (for
logs and admins). What our users are told, and with which HTTP status, is decided
in one place outside this package (``config/exceptions.py``).
"""

from __future__ import annotations

from typing import Any

from .numbers import int_or_none


class ProviderError(Exception):
    """Base class: something went wrong talking to the provider."""

    default_message = "The AI provider failed to answer."
    # Whether the client's retry loop may try again after this error.
    retryable = False

    def __init__(
        self,
        message: str = "",
        *,
        status: int | None = None,
        code: Any = None,
        metadata: dict | None = None,
        retryable: bool | None = None,
        retry_after: float | None = None,
    ) -> None:
        self.message = message or self.default_message
        # The provider's Retry-After advice in seconds (429s, sometimes 503s), or None.
        self.retry_after = retry_after
        self.status = status
        self.code = code if code is not None else status
        self.metadata = dict(metadata or {})
        # Attempts made before giving up; set by the client's retry loop.
        self.attempts = 1
        if retryable is not None:
            self.retryable = retryable
        super().__init__(self.message)

    def __str__(self) -> str:
        where = f"HTTP {self.status}" if self.status else "no HTTP status"
        return f"{type(self).__name__} ({where}, code {self.code!r}): {self.message}"


class ProviderBadRequest(ProviderError):
    """400: the provider rejected the request's parameters."""

    default_message = "The AI provider rejected the request."


class ProviderAuthError(ProviderError):
    """401: the API key is missing or wrong. Our configuration, not the user's fault."""

    default_message = "The AI provider rejected our credentials."


class ProviderOutOfCredits(ProviderError):
    """402: the account behind the key has no credits left."""

    default_message = "The provider account is out of credits."


class ProviderModerationRefused(ProviderError):
    """403: the provider's moderation refused the input; ``reasons`` says why."""

    default_message = "The request was refused by content moderation."

    @property
    def reasons(self) -> list[str]:
        """The moderation categories the provider flagged (may be empty)."""
        reasons = self.metadata.get("reasons") or []
        if isinstance(reasons, str):
            return [reasons]
        return [str(reason) for reason in reasons]


class ProviderNotFound(ProviderError):
    """404: unknown model or job at the provider."""

    default_message = "The provider does not know this model or job."


class ProviderRateLimited(ProviderError):
    """429: too many requests; ``retry_after`` is the provider's advice in seconds."""

    default_message = "The provider is rate limiting our requests."
    retryable = True


class ProviderUnavailable(ProviderError):
    """5xx answers and connection failures: the provider could not serve us now."""

    default_message = "The AI provider is unavailable."
    retryable = True


class ProviderTimeout(ProviderError):
    """The provider took longer than our timeouts allow (or answered 408)."""

    default_message = "The AI provider took too long to answer."


class ProviderMalformedResponse(ProviderError):
    """The answer could not be understood (bad JSON, missing fields, oversized content)."""

    default_message = "The AI provider sent an answer we could not understand."


class ProviderImageTooLarge(ProviderMalformedResponse):
    """An image whose header claims more pixels than we take (a decompression bomb, or
    simply too big): refused before any pixel is decoded."""

    default_message = "The AI provider sent an image too large to keep."


class ProviderUnsafeURL(ProviderMalformedResponse):
    """The provider handed us a URL we refuse to fetch (a private address, a redirect
    off https); ``url`` is the refused one."""

    default_message = "The AI provider sent a URL we refuse to fetch."

    def __init__(self, message: str = "", *, url: str = "", **kwargs: Any) -> None:
        self.url = url
        super().__init__(message, **kwargs)


# Provider HTTP status -> error class. 5xx not listed fall back to ProviderUnavailable.
_STATUS_CLASSES: dict[int, type[ProviderError]] = {
    400: ProviderBadRequest,
    401: ProviderAuthError,
    402: ProviderOutOfCredits,
    403: ProviderModerationRefused,
    404: ProviderNotFound,
    408: ProviderTimeout,
    429: ProviderRateLimited,
}


def error_class_for_status(status: int | None) -> type[ProviderError]:
    """The error class for a provider HTTP status (or an error object's numeric code)."""
    if status in _STATUS_CLASSES:
        return _STATUS_CLASSES[status]
    if status is not None and 400 <= status < 500:
        return ProviderBadRequest
    return ProviderUnavailable


def error_from_payload(
    status: int | None,
    payload: Any,
    *,
    fallback_message: str = "",
    retry_after: float | None = None,
) -> ProviderError:
    """Build the typed error for an ``{"error": {"code", "message", "metadata"}}`` payload.

    ``status`` is the HTTP status when there is one; for an error that arrives inside a
    200 answer or mid-stream, the error object's numeric code chooses the class.
    """
    error = payload.get("error") if isinstance(payload, dict) else None
    if not isinstance(error, dict):
        error = {}
    code = error.get("code")
    message = str(error.get("message") or fallback_message or "")
    metadata = error.get("metadata") if isinstance(error.get("metadata"), dict) else {}
    numeric = status
    if numeric is None:
        numeric = code if isinstance(code, int) else int_or_none(code)
    cls = error_class_for_status(numeric)
    kwargs: dict[str, Any] = {
        "status": status,
        "code": code if code is not None else status,
        "metadata": metadata,
        "retry_after": retry_after,
    }
    if status == 408:
        # The provider gave up waiting: safe to ask again (unlike our own read timeouts).
        kwargs["retryable"] = True
    return cls(message, **kwargs)
