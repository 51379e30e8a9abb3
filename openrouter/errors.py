"""Typed errors raised by the OpenRouter client.

Every failure the provider boundary can report is a :class:`ProviderError`. Each
subclass carries the provider's own ``code``, ``message`` and ``metadata`` (for
logs and admins) and a ``user_message`` that is safe to show to end users: it
never contains the API key, request headers or raw provider payloads beyond the
provider's short explanation.

``suggested_status`` is the HTTP status our own API should answer with when the
error reaches a view (DESIGN.md's error table); the one exception handler that
maps provider errors may override it.
"""

from __future__ import annotations

from typing import Any

# Longest provider message we repeat to end users; the full text stays in .message.
_USER_TEXT_LIMIT = 300


def _short(text: str) -> str:
    text = " ".join(str(text).split())
    if len(text) > _USER_TEXT_LIMIT:
        return text[: _USER_TEXT_LIMIT - 1] + "…"
    return text


class ProviderError(Exception):
    """Base class: something went wrong talking to the provider."""

    suggested_status = 502
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

    @property
    def user_message(self) -> str:
        """A short, actionable explanation safe to show to the person who asked."""
        return self.default_message

    def __str__(self) -> str:
        where = f"HTTP {self.status}" if self.status else "no HTTP status"
        return f"{type(self).__name__} ({where}, code {self.code!r}): {self.message}"


class ProviderBadRequest(ProviderError):
    """400: the provider rejected the request's parameters."""

    suggested_status = 400
    default_message = "The AI provider rejected the request."

    @property
    def user_message(self) -> str:
        return f"The AI provider rejected the request: {_short(self.message)}"


class ProviderAuthError(ProviderError):
    """401: the API key is missing or wrong. Our configuration, not the user's fault."""

    suggested_status = 502
    default_message = "The AI provider rejected our credentials."

    @property
    def user_message(self) -> str:
        return (
            "The service could not authenticate with the AI provider. "
            "An administrator needs to check the provider API key."
        )


class ProviderOutOfCredits(ProviderError):
    """402: the account behind the key has no credits left."""

    suggested_status = 503
    default_message = "The provider account is out of credits."

    @property
    def user_message(self) -> str:
        return (
            "The service has run out of AI provider credits. "
            "Please try again later or contact an administrator."
        )


class ProviderModerationRefused(ProviderError):
    """403: the provider's moderation refused the input; ``reasons`` says why."""

    suggested_status = 400
    default_message = "The request was refused by content moderation."

    @property
    def reasons(self) -> list[str]:
        """The moderation categories the provider flagged (may be empty)."""
        reasons = self.metadata.get("reasons") or []
        if isinstance(reasons, str):
            return [reasons]
        return [str(reason) for reason in reasons]

    @property
    def user_message(self) -> str:
        text = "The request was refused by the AI provider's content moderation"
        if self.reasons:
            text += f" ({', '.join(self.reasons)})"
        return text + ". Please rephrase your prompt."


class ProviderNotFound(ProviderError):
    """404: unknown model or job at the provider."""

    suggested_status = 404
    default_message = "The provider does not know this model or job."

    @property
    def user_message(self) -> str:
        return "The AI provider does not know this model or job."


class ProviderRateLimited(ProviderError):
    """429: too many requests; ``retry_after`` is the provider's advice in seconds."""

    suggested_status = 429
    default_message = "The provider is rate limiting our requests."
    retryable = True

    @property
    def user_message(self) -> str:
        if self.retry_after:
            seconds = max(1, round(self.retry_after))
            return f"The AI provider is busy. Please try again in {seconds} seconds."
        return "The AI provider is busy. Please try again in a moment."


class ProviderUnavailable(ProviderError):
    """5xx answers and connection failures: the provider could not serve us now."""

    suggested_status = 503
    default_message = "The AI provider is unavailable."
    retryable = True

    @property
    def user_message(self) -> str:
        return "The AI provider is temporarily unavailable. Please try again in a few minutes."


class ProviderTimeout(ProviderError):
    """The provider took longer than our timeouts allow (or answered 408)."""

    suggested_status = 504
    default_message = "The AI provider took too long to answer."

    @property
    def user_message(self) -> str:
        return "The AI provider took too long to answer. Please try again."


class ProviderMalformedResponse(ProviderError):
    """The answer could not be understood (bad JSON, missing fields, oversized content)."""

    suggested_status = 502
    default_message = "The AI provider sent an answer we could not understand."

    @property
    def user_message(self) -> str:
        return "The AI provider sent an unexpected answer. Please try again."


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
        numeric = code if isinstance(code, int) else _int_or_none(code)
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


def _int_or_none(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
