"""Middleware that works in both modes, so that under ASGI no request is handed to a
thread just to pass through it (a sync-only middleware makes Django run everything
inside it through async_to_sync, holding a thread for the whole view)."""

from __future__ import annotations

from asgiref.sync import iscoroutinefunction, markcoroutinefunction, sync_to_async
from csp import middleware as csp
from csp import utils as csp_utils
from django.conf import settings
from django.contrib.auth import middleware as auth
from django.contrib.messages import middleware as messages
from django.contrib.messages.storage import default_storage
from django.contrib.sessions import middleware as sessions
from django.core import checks
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.middleware import clickjacking, common, csrf, security
from django.utils.functional import SimpleLazyObject, empty
from django.utils.module_loading import import_string
from whitenoise.middleware import WhiteNoiseMiddleware


class StaticFilesMiddleware(WhiteNoiseMiddleware):
    """WhiteNoise's static files, for sync and async requests alike. The lookup is a dict
    read (or, with autorefresh in DEBUG, a finder call); only serving a file, which opens
    it, runs in a thread."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response=None) -> None:
        super().__init__(get_response)
        self.async_mode = iscoroutinefunction(get_response)
        if self.async_mode:
            markcoroutinefunction(self)

    def __call__(self, request):
        if self.async_mode:
            return self._acall(request)
        return super().__call__(request)

    async def _acall(self, request):
        static_file = self.find_file(request.path_info) if self.autorefresh else self.files.get(request.path_info)
        if static_file is not None:
            return await sync_to_async(self.serve)(static_file, request)
        return await self.get_response(request)


# ------------------------------------------------------------------ hooks on the event loop


class HooksOnTheLoop:
    """Under ASGI, Django hands each ``process_request``/``process_response`` of a
    MiddlewareMixin middleware to a thread (two handoffs per middleware per request,
    a dozen for this project's stack). The hooks of the middleware below only read and
    write headers, cookies and lazy objects, so they run on the event loop instead;
    ``needs_thread`` names the cases that may touch the database, which still go to a
    thread. Sync requests (WSGI, the test client) are unchanged."""

    def needs_thread(self, hook: str, request, response=None) -> bool:
        return False

    async def __acall__(self, request):
        response = None
        if hasattr(self, "process_request"):
            response = await self._run("process_request", request)
        response = response or await self.get_response(request)
        if hasattr(self, "process_response"):
            response = await self._run("process_response", request, response)
        return response

    async def _run(self, hook: str, request, *args):
        method = getattr(self, hook)
        if self.needs_thread(hook, request, *args):
            return await sync_to_async(method, thread_sensitive=True)(request, *args)
        return method(request, *args)


class SecurityMiddleware(HooksOnTheLoop, security.SecurityMiddleware):
    pass


class CSPMiddleware(HooksOnTheLoop, csp.CSPMiddleware):
    pass


# The policy of a response that no view changed and that used no nonce depends on the
# settings only: built once (per change of the settings) instead of per response.
_default_policies: dict[bool, str] = {}


def _build_policy(config=None, update=None, replace=None, nonce=None, report_only=False) -> str:
    if config is None and update is None and replace is None and nonce is None:
        policy = _default_policies.get(report_only)
        if policy is None:
            policy = _default_policies[report_only] = csp_utils.build_policy(report_only=report_only)
        return policy
    return csp_utils.build_policy(config=config, update=update, replace=replace, nonce=nonce, report_only=report_only)


# django-csp's middleware looks build_policy up in its module on every response.
csp.build_policy = _build_policy


@receiver(setting_changed)
def _forget_default_policies(*, setting, **kwargs) -> None:
    if setting.startswith("CONTENT_SECURITY_POLICY"):
        _default_policies.clear()


class CommonMiddleware(HooksOnTheLoop, common.CommonMiddleware):
    pass


class XFrameOptionsMiddleware(HooksOnTheLoop, clickjacking.XFrameOptionsMiddleware):
    pass


class AuthenticationMiddleware(HooksOnTheLoop, auth.AuthenticationMiddleware):
    """``request.user`` is lazy: setting it reads nothing."""


class SessionMiddleware(HooksOnTheLoop, sessions.SessionMiddleware):
    """Loading the session is lazy; saving a changed one writes to the database."""

    def needs_thread(self, hook, request, response=None):
        session = getattr(request, "session", None)
        return (
            hook == "process_response"
            and session is not None
            and (session.modified or settings.SESSION_SAVE_EVERY_REQUEST)
        )


class MessageMiddleware(HooksOnTheLoop, messages.MessageMiddleware):
    """Messages that were read or added are stored (in the cookie, or the session). The
    storage is made when a request first reads or adds one (most answers, the API's,
    never do)."""

    def process_request(self, request):
        request._messages = SimpleLazyObject(lambda: default_storage(request))

    def process_response(self, request, response):
        if not _made(getattr(request, "_messages", None)):
            return response
        return super().process_response(request, response)

    def needs_thread(self, hook, request, response=None):
        storage = getattr(request, "_messages", None)
        return hook == "process_response" and _made(storage) and (storage.used or storage.added_new)


def _made(storage) -> bool:
    if isinstance(storage, SimpleLazyObject):
        return storage._wrapped is not empty
    return storage is not None


class CsrfViewMiddleware(HooksOnTheLoop, csrf.CsrfViewMiddleware):
    """The token lives in a cookie (CSRF_USE_SESSIONS is off). Checking an unsafe request
    against a view that is not exempt reads the form and may render the failure page, so
    that part runs in a thread; exempt views (the JSON API) and safe methods do not."""

    def __init__(self, get_response) -> None:
        super().__init__(get_response)
        if self.async_mode:
            # The handler adapts process_view by its kind: give it a coroutine.
            self.process_view = self._process_view_async  # type: ignore[method-assign, assignment]  # async on purpose

    async def _process_view_async(self, request, callback, callback_args, callback_kwargs):
        check = super().process_view
        if getattr(callback, "csrf_exempt", False) or request.method in ("GET", "HEAD", "OPTIONS", "TRACE"):
            return check(request, callback, callback_args, callback_kwargs)
        return await sync_to_async(check, thread_sensitive=True)(request, callback, callback_args, callback_kwargs)


# ------------------------------------------------------------------ deploy checks

# Django's security.W001-W003 look for these dotted names in MIDDLEWARE exactly; the
# project lists the subclasses above, so the same checks run here accepting subclasses
# (the built-in ones are silenced in settings).
REQUIRED_FOR_DEPLOY = {
    "core.W001": (
        security.SecurityMiddleware,
        "SecurityMiddleware is not in MIDDLEWARE: SECURE_HSTS_SECONDS, SECURE_CONTENT_TYPE_NOSNIFF, "
        "SECURE_REFERRER_POLICY, SECURE_CROSS_ORIGIN_OPENER_POLICY and SECURE_SSL_REDIRECT have no effect.",
    ),
    "core.W002": (
        clickjacking.XFrameOptionsMiddleware,
        "XFrameOptionsMiddleware is not in MIDDLEWARE: pages are served without an X-Frame-Options header.",
    ),
    "core.W003": (
        csrf.CsrfViewMiddleware,
        "CsrfViewMiddleware is not in MIDDLEWARE: forms are not protected against cross-site request forgery.",
    ),
}


@checks.register(checks.Tags.security, deploy=True)
def check_security_middleware(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    installed = []
    for path in settings.MIDDLEWARE:
        try:
            installed.append(import_string(path))
        except ImportError:
            continue
    return [
        checks.Warning(message, id=check_id)
        for check_id, (required, message) in REQUIRED_FOR_DEPLOY.items()
        if not any(isinstance(cls, type) and issubclass(cls, required) for cls in installed)
    ]
