"""Sign in with the identity provider: /sso/login sends the browser there, /sso/callback
takes its answer, checks it and signs the person in to a web session. The API keeps
issuing its own tokens (POST /api/auth/login, personal API keys); nothing here changes them.
A person with a second factor (or whom the policy requires to set one up) takes that step
after the provider's sign-in, as after a password."""

from __future__ import annotations

from django.conf import settings
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from accounts import services as accounts
from accounts.forms import LoginForm
from accounts.throttles import AuthIpThrottle
from core.errors import DomainError, TooManyRequests
from core.http import page_error
from core.redirects import safe_next_path
from core.throttles import web_throttle_wait
from sso import client, services
from twofactor.views import login_or_second_step

NEXT_KEY = "sso_next"
# The password login's per-address limit: failed sign-ins count, as failed passwords do, and
# an address over it starts no sign-in until it has waited.
THROTTLES = (AuthIpThrottle,)


def _enabled_or_404() -> None:
    if not client.enabled():
        raise Http404("Single sign-on is not configured.")


@never_cache
@require_GET
def sso_login(request):
    _enabled_or_404()
    next_path = safe_next_path(request)
    if request.user.is_authenticated:
        return redirect(next_path or settings.LOGIN_REDIRECT_URL)
    if wait := web_throttle_wait(request, THROTTLES, record=False):
        return _login_page_with_error(request, _too_many(wait), next_path)
    try:
        response = client.authorization_redirect(request, request.build_absolute_uri(reverse("sso:callback")))
    except DomainError as exc:
        return _login_page_with_error(request, exc, next_path)
    request.session[NEXT_KEY] = next_path
    return response


@never_cache
@require_GET
def sso_callback(request):
    _enabled_or_404()
    next_path = request.session.pop(NEXT_KEY, "")
    if wait := web_throttle_wait(request, THROTTLES, record=False):
        return _login_page_with_error(request, _too_many(wait), next_path)
    try:
        claims = services.claims_read(client.verified_claims(request))
        user = services.sign_in(claims=claims)
    except (client.SignInInvalid, services.SignInRefused) as exc:
        web_throttle_wait(request, THROTTLES, record=True)
        return _login_page_with_error(request, exc, next_path)
    except DomainError as exc:  # the provider is down, or the account waits: not a failed attempt
        return _login_page_with_error(request, exc, next_path)
    # Studio's second factor applies after the provider's sign-in as after a password.
    return login_or_second_step(
        request, user, next_path=next_path or None, backend="django.contrib.auth.backends.ModelBackend"
    )


def _too_many(wait: int) -> TooManyRequests:
    return TooManyRequests(f"Too many attempts. Try again in {wait} seconds.", retry_after=wait)


def _login_page_with_error(request, exc: DomainError, next_path: str):
    """The login page, saying why this sign-in did not work (4xx/5xx as the error's kind)."""
    answer = page_error(exc)
    context = {
        "form": LoginForm(),
        "next": next_path,
        "registration": accounts.registration_mode(),
        "sso_error": answer.message,
    }
    response = render(request, "accounts/login.html", context, status=answer.status)
    for name, value in answer.headers.items():
        response[name] = value
    return response
