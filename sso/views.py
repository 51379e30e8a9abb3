"""Sign in with the identity provider: /sso/login sends the browser there, /sso/callback
takes its answer, checks it and signs the person in to a web session. The API keeps
issuing its own tokens (POST /api/auth/login, personal API keys); nothing here changes them."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import login as session_login
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from accounts import services as accounts
from accounts.forms import LoginForm
from core.errors import DomainError
from core.http import page_error
from core.redirects import safe_next_path
from sso import client, services

NEXT_KEY = "sso_next"


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
    try:
        claims = services.claims_read(client.verified_claims(request))
        user = services.sign_in(claims=claims)
    except DomainError as exc:
        return _login_page_with_error(request, exc, next_path)
    session_login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    return redirect(next_path or settings.LOGIN_REDIRECT_URL)


def _login_page_with_error(request, exc: DomainError, next_path: str):
    """The login page, saying why this sign-in did not work (4xx/5xx as the error's kind)."""
    answer = page_error(exc)
    context = {
        "form": LoginForm(),
        "next": next_path,
        "registration": accounts.registration_mode(),
        "sso_error": answer.message,
    }
    return render(request, "accounts/login.html", context, status=answer.status)
