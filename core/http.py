"""The one place where domain and provider errors become HTTP answers.

Used by DRF (`api_exception_handler`, the REST_FRAMEWORK EXCEPTION_HANDLER), by the
streaming endpoints (an `error` event carries the same status and message) and by the
web pages (`page_error`: the status to render with and the message for the form).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import exceptions as drf_exceptions
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import exception_handler

from core import diskfull
from core.errors import DomainError, ErrorKind, describe_failure
from openrouter.errors import ProviderError

STATUS_FOR_KIND: dict[ErrorKind, int] = {
    ErrorKind.INVALID: 400,
    ErrorKind.UNAUTHENTICATED: 401,
    ErrorKind.FORBIDDEN: 403,
    ErrorKind.NOT_FOUND: 404,
    ErrorKind.CONFLICT: 409,
    ErrorKind.RATE_LIMITED: 429,
    ErrorKind.BUDGET_EXCEEDED: 402,
    ErrorKind.UNAVAILABLE: 503,
    ErrorKind.FAILED: 502,
    ErrorKind.PROVIDER_REFUSED: 400,
    ErrorKind.PROVIDER_RATE_LIMITED: 429,
    ErrorKind.PROVIDER_ACCOUNT: 503,
    ErrorKind.PROVIDER_TIMEOUT: 504,
    ErrorKind.PROVIDER_FAILED: 502,
}
# A provider that rate-limits us without saying for how long: try again after this.
DEFAULT_PROVIDER_RETRY_AFTER = 30


@dataclass(frozen=True)
class ErrorAnswer:
    status: int
    message: str
    body: dict
    headers: dict[str, str] = field(default_factory=dict)
    field: str | None = None


def error_answer(exc: BaseException) -> ErrorAnswer | None:
    """The answer for a domain or provider error; None for anything else. A full disk
    behind any failure of ours (a raw OSError, a database error, a vague "try again") is
    answered as StorageFull (503, saying so) and reported to administrators."""
    if _full_disk_behind(exc):
        exc = diskfull.storage_full_error(exc, what=f"a request ({type(exc).__name__})")
    if isinstance(exc, DomainError):
        status = STATUS_FOR_KIND[exc.kind]
        body = dict(exc.errors) if exc.errors else {"detail": exc.message}
        # Figures that come with the message (a budget refusal's budget, spent, reserved...).
        body.update(getattr(exc, "extra", None) or {})
        headers = {}
        retry_after = getattr(exc, "retry_after", None)
        if retry_after:
            headers["Retry-After"] = str(int(retry_after))
        return ErrorAnswer(status, exc.message, body, headers, exc.field)
    if isinstance(exc, ProviderError):
        failure = describe_failure(exc)
        status = STATUS_FOR_KIND[failure.kind]
        headers = {}
        if status == 429:
            headers["Retry-After"] = str(int(getattr(exc, "retry_after", None) or DEFAULT_PROVIDER_RETRY_AFTER))
        body = {"detail": failure.message, "provider_error": type(exc).__name__}
        return ErrorAnswer(status, failure.message, body, headers)
    return None


def _full_disk_behind(exc: BaseException) -> bool:
    if isinstance(exc, diskfull.StorageFull):
        return False
    # A refusal (bad input, a budget...) raised while handling a disk error stays what it is.
    if isinstance(exc, DomainError) and exc.kind not in (ErrorKind.UNAVAILABLE, ErrorKind.FAILED):
        return False
    if isinstance(exc, ProviderError):
        return False
    return diskfull.is_storage_full(exc)


def api_exception_handler(exc, context):
    """DRF's exception handler: ours first, then DRF's own for its exceptions."""
    if isinstance(exc, DjangoValidationError):
        exc = drf_exceptions.ValidationError(serializers.as_serializer_error(exc))
    elif isinstance(exc, DomainError) and exc.kind == ErrorKind.UNAUTHENTICATED:
        exc = _authentication_failed(exc, context)
    answer = error_answer(exc)
    if answer is None:
        return exception_handler(exc, context)
    response = Response(answer.body, status=answer.status)
    for name, value in answer.headers.items():
        response[name] = value
    return response


def _authentication_failed(exc: DomainError, context) -> drf_exceptions.AuthenticationFailed:
    """As DRF answers its own: 401 with the view's WWW-Authenticate header."""
    failed = drf_exceptions.AuthenticationFailed(exc.message, code=getattr(exc, "code", None))
    view, request = context.get("view"), context.get("request")
    header = view.get_authenticate_header(request) if view is not None and request is not None else None
    if header:
        failed.auth_header = header  # type: ignore[attr-defined]  # read by DRF's exception_handler; not in the stubs
    else:
        failed.status_code = 403
    return failed


def page_error(exc: BaseException) -> ErrorAnswer:
    """For web pages: the status to render with and the message to show (a domain or
    provider error; anything else is re-raised by the caller before it gets here)."""
    answer = error_answer(exc)
    if answer is None:
        raise exc
    return answer
