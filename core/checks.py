"""Deploy checks (`manage.py check --deploy`) that Django's own skip for this project.

Django's security checks of HSTS, the HTTPS redirect, nosniff, the referrer and opener
policies (W004-W008, W021-E024), the CSRF cookie (W016) and X-Frame-Options (W019) run
only when MIDDLEWARE names Django's own classes; the project lists subclasses of them
(core/middleware.py), so Django's checks found nothing to check and said nothing, HSTS 0
and no HTTPS redirect included. These run the same tests, as core.W004 and so on (the
number of Django's check they stand for), whenever Django's would be skipped.
"""

from __future__ import annotations

from django.conf import settings
from django.core import checks
from django.core.checks.security import base, csrf
from django.middleware import clickjacking, security
from django.middleware import csrf as csrf_middleware
from django.utils.module_loading import import_string


def _installed(middleware_class: type) -> tuple[bool, bool]:
    """(whether Django's own check sees it, whether a subclass of it is in MIDDLEWARE)."""
    dotted = f"{middleware_class.__module__}.{middleware_class.__name__}"
    seen_by_django = dotted in settings.MIDDLEWARE
    present = False
    for path in settings.MIDDLEWARE:
        try:
            cls = import_string(path)
        except ImportError:
            continue
        present = present or (isinstance(cls, type) and issubclass(cls, middleware_class))
    return seen_by_django, present


def _ours(django_check: checks.CheckMessage) -> checks.CheckMessage:
    """Django's message, under the project's id (security.W004 -> core.W004)."""
    kind = checks.Error if django_check.level >= checks.ERROR else checks.Warning
    return kind(django_check.msg, hint=django_check.hint, id="core." + (django_check.id or "").split(".")[1])


@checks.register(checks.Tags.security, deploy=True)
def check_security_settings(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    found = []
    django_sees, present = _installed(security.SecurityMiddleware)
    if present and not django_sees:
        if not settings.SECURE_HSTS_SECONDS:
            found.append(_ours(base.W004))
        else:
            if not settings.SECURE_HSTS_INCLUDE_SUBDOMAINS:
                found.append(_ours(base.W005))
            if not settings.SECURE_HSTS_PRELOAD:
                found.append(_ours(base.W021))
        if settings.SECURE_CONTENT_TYPE_NOSNIFF is not True:
            found.append(_ours(base.W006))
        if settings.SECURE_SSL_REDIRECT is not True:
            found.append(_ours(base.W008))
        found.extend(_referrer_and_opener_policies())
    django_sees, present = _installed(csrf_middleware.CsrfViewMiddleware)
    if present and not django_sees and not settings.CSRF_USE_SESSIONS and settings.CSRF_COOKIE_SECURE is not True:
        found.append(_ours(csrf.W016))
    django_sees, present = _installed(clickjacking.XFrameOptionsMiddleware)
    if present and not django_sees and settings.X_FRAME_OPTIONS != "DENY":
        found.append(_ours(base.W019))
    return found


def _referrer_and_opener_policies() -> list[checks.CheckMessage]:
    found = []
    policy = settings.SECURE_REFERRER_POLICY
    if policy is None:
        found.append(_ours(base.W022))
    else:
        values = {v.strip() for v in policy.split(",")} if isinstance(policy, str) else set(policy)
        if not values <= base.REFERRER_POLICY_VALUES:
            found.append(_ours(base.E023))
    opener = settings.SECURE_CROSS_ORIGIN_OPENER_POLICY
    if opener is not None and opener not in base.CROSS_ORIGIN_OPENER_POLICY_VALUES:
        found.append(_ours(base.E024))
    return found
