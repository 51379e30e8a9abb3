"""Errors of the /v1/ API in OpenAI's shape: ``{"error": {"message", "type", "param", "code"}}``.

The status and the message are the ones the rest of the API gives (core.http: a domain or
provider error through ``error_answer``, DRF's own exceptions through its handler, with
their headers such as Retry-After); only the body is reshaped. Two answers follow OpenAI
rather than the rest of the API: a model that does not exist, or that this person may not
use, is 404 ``model_not_found`` (param "model"; /api/ says 400 on "model"), and a spent
budget is 402 ``insufficient_quota``. The official SDKs choose their exception class by
the status: 400 BadRequestError, 401 AuthenticationError, 403 PermissionDeniedError, 404
NotFoundError, 409 ConflictError, 422, 429 RateLimitError, 5xx InternalServerError (402
is an APIStatusError).
"""

from __future__ import annotations

from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions as drf_exceptions

from catalogue.errors import UnknownModel
from core.errors import DomainError, ErrorKind
from core.http import api_exception_handler, error_answer

TYPE_FOR_CODE = {"model_not_found": "invalid_request_error"}
TYPE_FOR_STATUS = {
    400: "invalid_request_error",
    401: "authentication_error",
    402: "insufficient_quota",
    403: "permission_error",
    404: "not_found_error",
    405: "invalid_request_error",
    406: "invalid_request_error",
    409: "conflict_error",
    413: "invalid_request_error",
    415: "invalid_request_error",
    429: "rate_limit_error",
}


def error_type(status: int) -> str:
    return TYPE_FOR_STATUS.get(status, "api_error" if status >= 500 else "invalid_request_error")


def error_body(status: int, message: str, *, param: str | None = None, code: str | None = None) -> dict:
    kind = TYPE_FOR_CODE.get(code or "") or error_type(status)
    return {"error": {"message": message, "type": kind, "param": param, "code": code}}


# OpenAI's codes where ours differ.
CODE_FOR_KIND = {ErrorKind.BUDGET_EXCEEDED: "insufficient_quota"}
# Every refusal of a named model (not when none was named: that is a bad request).
MODEL_NOT_FOUND_REASONS = frozenset({"unknown", "wrong_kind", "disabled", "admins_only"})


def describe(exc: BaseException) -> tuple[int, str, str | None, str | None] | None:
    """(status, message, param, code) of a domain or provider error; None for anything else."""
    if isinstance(exc, UnknownModel) and exc.reason in MODEL_NOT_FOUND_REASONS:
        listing = f"GET /v1/models?kind={exc.model_kind}" if exc.model_kind else "GET /v1/models"
        return 404, f"{exc.lead}; see {listing}.", "model", "model_not_found"
    answer = error_answer(exc)
    if answer is None:
        return None
    code: str | None
    if isinstance(exc, DomainError):
        code = CODE_FOR_KIND.get(exc.kind, str(exc.kind))
    else:
        code = answer.body.get("provider_error")
    return answer.status, answer.message, answer.field, code


def openai_exception_handler(exc, context):
    """The /v1/ views' exception handler: core.http's answer, reshaped."""
    response = api_exception_handler(exc, context)
    if response is None:
        return None
    described = describe(exc)
    if described is not None:
        response.status_code, message, param, code = described
    else:
        message, param, code = _drf_message(exc, response.data)
    response.data = error_body(response.status_code, message, param=param, code=code)
    return response


def _drf_message(exc, data) -> tuple[str, str | None, str | None]:
    """The message, parameter and code of one of DRF's exceptions (its first field's
    first message for a validation error)."""
    code = None
    if isinstance(exc, drf_exceptions.APIException):
        codes = exc.get_codes()
        code = codes if isinstance(codes, str) else None
    if isinstance(data, dict) and "detail" in data:
        return str(data["detail"]), None, code
    if isinstance(data, dict) and data:
        param, messages = next(iter(data.items()))
        message = _first(messages)
        param = None if param == "non_field_errors" else param
        return (f"{param}: {message}" if param else message), param, "invalid"
    if isinstance(data, list) and data:
        return _first(data), None, "invalid"
    return "The request cannot be carried out.", None, code


def _first(messages) -> str:
    while isinstance(messages, (list, tuple)) and messages:
        messages = messages[0]
    if isinstance(messages, dict) and messages:
        return _first(next(iter(messages.values())))
    return str(messages)


@csrf_exempt
def not_found(request, *args, **kwargs):
    """Any /v1/ path no endpoint took (clients of this API send no CSRF token)."""
    return JsonResponse(
        error_body(404, f"Unknown endpoint: {request.method} {request.path}.", code="unknown_url"), status=404
    )
