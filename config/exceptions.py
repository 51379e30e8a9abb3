"""One place where domain and provider errors become HTTP answers (DESIGN.md's table).

Services raise `DomainError` subclasses (their own, small) or `openrouter` errors; API
views let them propagate and this handler answers. Web views show `user_message`.
"""
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler

from openrouter import errors as provider


class DomainError(Exception):
    """A refusal a person can act on. Subclasses set the HTTP status."""

    status_code = status.HTTP_400_BAD_REQUEST
    default_message = "The request cannot be carried out."

    def __init__(self, message: str | None = None, *, field: str | None = None):
        self.message = message or self.default_message
        self.field = field
        super().__init__(self.message)

    @property
    def user_message(self) -> str:
        return self.message


class NotFound(DomainError):
    status_code = status.HTTP_404_NOT_FOUND
    default_message = "Not found."


class Conflict(DomainError):
    status_code = status.HTTP_409_CONFLICT
    default_message = "The request conflicts with the current state."


class TooManyRequests(DomainError):
    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    default_message = "Too many requests; try again later."

    def __init__(self, message=None, *, retry_after: int | None = None, **kwargs):
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


# Provider failures as our users see them: the status we answer and what we tell them.
# Account problems (bad key, no credits) are the operator's, so users get a 503 without details.
PROVIDER_ANSWERS = [
    (provider.ProviderRateLimited, 429, "The AI provider is rate limiting requests; try again shortly."),
    (provider.ProviderAuthError, 503, "The AI provider is unavailable because of a provider account problem; an administrator has to fix it."),
    (provider.ProviderOutOfCredits, 503, "The AI provider is unavailable because of a provider account problem; an administrator has to fix it."),
    (provider.ProviderModerationRefused, 400, "The AI provider refused this prompt under its content policy; change the prompt and try again."),
    (provider.ProviderBadRequest, 400, None),
    (provider.ProviderNotFound, 400, "The AI provider does not know this model (any more); choose another model."),
    (provider.ProviderTimeout, 504, "The AI provider took too long to answer; try again."),
    (provider.ProviderMalformedResponse, 502, "The AI provider sent an answer we could not read; try again."),
    (provider.ProviderUnavailable, 502, "The AI provider is unavailable right now; try again in a minute."),
    (provider.ProviderError, 502, "The AI provider failed; try again."),
]


def provider_error_answer(exc: "provider.ProviderError") -> tuple[int, str]:
    """(HTTP status, message for the user) for a provider error."""
    for cls, status_code, message in PROVIDER_ANSWERS:
        if isinstance(exc, cls):
            return status_code, message or f"The AI provider refused the request: {exc.message}"
    return 502, "The AI provider failed; try again."


def api_exception_handler(exc, context):
    if isinstance(exc, DomainError):
        body = {exc.field: [exc.message]} if exc.field else {"detail": exc.message}
        response = Response(body, status=exc.status_code)
        if getattr(exc, "retry_after", None):
            response["Retry-After"] = str(int(exc.retry_after))
        return response
    if isinstance(exc, provider.ProviderError):
        status_code, message = provider_error_answer(exc)
        response = Response({"detail": message, "provider_error": type(exc).__name__}, status=status_code)
        retry_after = getattr(exc, "retry_after", None)
        if status_code == 429:
            response["Retry-After"] = str(int(retry_after or 30))
        return response
    return exception_handler(exc, context)
