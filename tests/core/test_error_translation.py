"""core.http is the one place where errors become status codes: every domain error class
of every app and every provider error class goes through it, and gets a status."""

import importlib
import inspect
import pkgutil

import pytest
from django.apps import apps

from core.errors import DomainError, ErrorKind, describe_failure
from core.http import STATUS_FOR_KIND, error_answer
from openrouter import errors as provider

PROJECT_APPS = [
    config.name
    for config in apps.get_app_configs()
    if not config.name.startswith(("django.", "rest_framework", "drf_spectacular", "csp", "whitenoise"))
]


def _subclasses(base):
    found, pending = set(), [base]
    while pending:
        cls = pending.pop()
        for sub in cls.__subclasses__():
            if sub not in found:
                found.add(sub)
                pending.append(sub)
    return found


def _import_every_module():
    """Import each project module, so every error class defined anywhere exists."""
    for name in PROJECT_APPS:
        package = importlib.import_module(name)
        for info in pkgutil.walk_packages(getattr(package, "__path__", []), prefix=f"{name}."):
            if ".migrations" in info.name or ".management.commands" in info.name:
                continue
            importlib.import_module(info.name)


def _instance(cls):
    signature = inspect.signature(cls.__init__)
    if "retry_after" in signature.parameters:
        return cls("refused", retry_after=7)
    # Errors that carry figures (a quota's use, say) take them as required keyword arguments.
    figures = {
        name: 1
        for name, parameter in signature.parameters.items()
        if parameter.kind is parameter.KEYWORD_ONLY and parameter.default is parameter.empty
    }
    if figures:
        return cls("refused", **figures)
    try:
        return cls("refused")
    except TypeError:
        return cls()


def test_every_kind_has_a_status():
    assert set(STATUS_FOR_KIND) == set(ErrorKind)


def test_every_domain_error_class_becomes_an_answer():
    _import_every_module()
    classes = _subclasses(DomainError) | {DomainError}
    assert len(classes) > 15  # the apps' own errors were found, not just core's
    for cls in classes:
        answer = error_answer(_instance(cls))
        assert answer is not None, cls
        assert answer.status == STATUS_FOR_KIND[cls.kind], cls
        assert 400 <= answer.status < 600 and answer.message, cls


def test_every_provider_error_class_becomes_an_answer_with_a_message():
    classes = _subclasses(provider.ProviderError) | {provider.ProviderError}
    assert len(classes) > 8
    for cls in classes:
        exc = cls.__new__(cls)
        Exception.__init__(exc, "upstream said no")
        exc.message, exc.retry_after = "upstream said no", None
        answer = error_answer(exc)
        assert answer is not None and answer.status >= 400 and answer.message, cls
        assert answer.body["provider_error"] == cls.__name__
        assert describe_failure(exc).kind in STATUS_FOR_KIND


@pytest.mark.parametrize(
    "cls, status",
    [
        (provider.ProviderRateLimited, 429),
        (provider.ProviderAuthError, 503),
        (provider.ProviderTimeout, 504),
        (provider.ProviderUnavailable, 502),
        (provider.ProviderNotFound, 400),
        (provider.ProviderModerationRefused, 400),
    ],
)
def test_provider_errors_map_to_the_documented_statuses(cls, status):
    exc = cls.__new__(cls)
    Exception.__init__(exc, "x")
    exc.message, exc.retry_after = "x", None
    answer = error_answer(exc)
    assert answer.status == status
    if status == 429:
        assert int(answer.headers["Retry-After"]) > 0


def test_anything_else_is_not_translated():
    assert error_answer(ValueError("a bug")) is None
