"""Domain errors: refusals a person can act on, raised by services, free of HTTP.

Each error names its *kind* (what went wrong); `core.http` is the one place that turns a
kind into a status code. Provider failures (`openrouter.errors`) are described here too,
so services can record a failure's kind and message on a history row without knowing
what the web answers.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from openrouter import errors as provider


class ErrorKind(StrEnum):
    """What went wrong, as the person asking sees it (stored on failed history rows)."""

    INVALID = "invalid"  # bad input: a field names what is accepted
    UNAUTHENTICATED = "unauthenticated"  # no or bad credentials
    FORBIDDEN = "forbidden"  # signed in, but not allowed
    NOT_FOUND = "not_found"  # absent, or someone else's
    CONFLICT = "conflict"  # the object's state does not allow it
    RATE_LIMITED = "rate_limited"  # too many requests or too much in flight
    BUDGET_EXCEEDED = "budget_exceeded"  # the request could cost more than the budget has left
    UNAVAILABLE = "unavailable"  # something of ours is down (storage)
    FAILED = "failed"  # an unexpected failure after the provider call
    PROVIDER_REFUSED = "provider_refused"  # the provider refused this request
    PROVIDER_RATE_LIMITED = "provider_rate_limited"
    PROVIDER_ACCOUNT = "provider_account"  # key or credits: the operator's problem
    PROVIDER_TIMEOUT = "provider_timeout"
    PROVIDER_FAILED = "provider_failed"  # unavailable, or an answer we could not read


class DomainError(Exception):
    """A refusal a person can act on. Subclasses choose a kind and a default message.

    ``field`` names the input at fault; ``errors`` carries several fields' messages at
    once (``{"email": [...], "password": [...]}``) for forms and API bodies alike.
    """

    kind = ErrorKind.INVALID
    default_message = "The request cannot be carried out."

    def __init__(
        self, message: str | None = None, *, field: str | None = None, errors: dict[str, list[str]] | None = None
    ):
        if errors and message is None:
            message = next(iter(next(iter(errors.values()))), None)
        self.message = message or self.default_message
        self.field = field
        self.errors = errors or ({field: [self.message]} if field else {})
        super().__init__(self.message)

    @property
    def user_message(self) -> str:
        return self.message


class InvalidInput(DomainError):
    """A value we refuse before doing anything (400 on the named field or fields)."""


class NotFound(DomainError):
    kind = ErrorKind.NOT_FOUND
    default_message = "Not found."


class Conflict(DomainError):
    kind = ErrorKind.CONFLICT
    default_message = "The request conflicts with the current state."


class TooManyRequests(DomainError):
    kind = ErrorKind.RATE_LIMITED
    default_message = "Too many requests; try again later."

    def __init__(self, message: str | None = None, *, retry_after: int | None = None, **kwargs):
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class BudgetExceeded(DomainError):
    """Refused before the provider is called: the request could cost more than the
    person's spending budget has left (402). ``extra`` holds the figures an answer body
    carries besides the message (budget, spent, reserved, resets_at...)."""

    kind = ErrorKind.BUDGET_EXCEEDED
    default_message = "This request could cost more than your budget has left."

    def __init__(self, message: str | None = None, *, extra: dict | None = None, **kwargs):
        super().__init__(message, **kwargs)
        self.extra = dict(extra or {})


class Unavailable(DomainError):
    kind = ErrorKind.UNAVAILABLE
    default_message = "The service is unavailable right now; try again."


class OperationFailed(DomainError):
    """An unexpected failure after the provider answered; the attempt is kept as failed."""

    kind = ErrorKind.FAILED
    default_message = "The request failed; try again."


class ProviderFailed(DomainError):
    """The provider answered something we cannot use (e.g. an empty catalogue)."""

    kind = ErrorKind.PROVIDER_FAILED
    default_message = "The AI provider failed; try again."


@dataclass(frozen=True)
class Failure:
    """A failure as a history row keeps it: its kind and the message for the user."""

    kind: ErrorKind
    message: str


ACCOUNT_PROBLEM = (
    "The AI provider is unavailable because of a provider account problem; an administrator has to fix it."
)

# Provider failures as our users see them, most specific class first.
PROVIDER_FAILURES: list[tuple[type[provider.ProviderError], ErrorKind, str | None]] = [
    (
        provider.ProviderRateLimited,
        ErrorKind.PROVIDER_RATE_LIMITED,
        "The AI provider is rate limiting requests; try again shortly.",
    ),
    (provider.ProviderAuthError, ErrorKind.PROVIDER_ACCOUNT, ACCOUNT_PROBLEM),
    (provider.ProviderOutOfCredits, ErrorKind.PROVIDER_ACCOUNT, ACCOUNT_PROBLEM),
    (
        provider.ProviderModerationRefused,
        ErrorKind.PROVIDER_REFUSED,
        "The AI provider refused this prompt under its content policy; change the prompt and try again.",
    ),
    (provider.ProviderBadRequest, ErrorKind.PROVIDER_REFUSED, None),
    (
        provider.ProviderNotFound,
        ErrorKind.PROVIDER_REFUSED,
        "The AI provider does not know this model (any more); choose another model.",
    ),
    (provider.ProviderTimeout, ErrorKind.PROVIDER_TIMEOUT, "The AI provider took too long to answer; try again."),
    (
        provider.ProviderImageTooLarge,
        ErrorKind.PROVIDER_FAILED,
        "The AI provider sent an image too large to keep; try a smaller size or another model.",
    ),
    (
        provider.ProviderMalformedResponse,
        ErrorKind.PROVIDER_FAILED,
        "The AI provider sent an answer we could not read; try again.",
    ),
    (
        provider.ProviderUnavailable,
        ErrorKind.PROVIDER_FAILED,
        "The AI provider is unavailable right now; try again in a minute.",
    ),
    (provider.ProviderError, ErrorKind.PROVIDER_FAILED, "The AI provider failed; try again."),
]


def describe_failure(exc: BaseException) -> Failure:
    """The kind and user-facing message of any error a service may meet."""
    if isinstance(exc, DomainError):
        return Failure(exc.kind, exc.message)
    if isinstance(exc, provider.ProviderError):
        for cls, kind, message in PROVIDER_FAILURES:
            if isinstance(exc, cls):
                return Failure(kind, message or f"The AI provider refused the request: {exc.message}")
    return Failure(ErrorKind.FAILED, OperationFailed.default_message)
