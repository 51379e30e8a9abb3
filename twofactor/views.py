"""Two-factor pages: the login's second step (a code, or setting up an authenticator the
policy requires), the profile's page to set one up, renew recovery codes or turn it off,
and the admin panel's page (who must use one; resetting a person's)."""

from __future__ import annotations

import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login as session_login
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.models import User
from accounts.throttles import ProfileThrottle
from admin_panel.views import admin_required
from core.errors import Conflict, InvalidInput, NotFound, TooManyRequests
from core.throttles import web_throttle_wait
from twofactor import services
from twofactor.forms import CodeForm, ConfirmIdentityForm, LoginCodeForm, PolicyForm
from twofactor.models import Requirement, TotpDevice
from twofactor.throttles import second_factor_attempt

# The session key of a login whose password was right and whose second step is to come.
PENDING = "two_factor_pending"
DEFAULT_BACKEND = "django.contrib.auth.backends.ModelBackend"


def _with_form_errors(form, exc: InvalidInput) -> None:
    errors = exc.errors.items() if exc.errors else [(None, [exc.message])]
    for field, field_messages in errors:
        form.add_error(field if field in form.fields else None, field_messages)


def _refused(request, template_name: str, context: dict, exc: TooManyRequests) -> HttpResponse:
    context["form"].is_valid()
    context["form"].add_error(None, exc.message)
    response = render(request, template_name, context, status=429)
    response["Retry-After"] = str(exc.retry_after or 1)
    return response


# ------------------------------------------------------------------ the login's second step


def login_or_second_step(request, user: User, *, next_path: str | None, backend: str | None = None) -> HttpResponse:
    """After the right password: sign in, or, for an account with a second factor (or one
    the policy says must have one), keep the login pending in the session (not signed
    in) and go to the second step."""
    if services.is_enrolled(user):
        step = "twofactor:login-code"
    elif services.is_required_for(user):
        step = "twofactor:login-setup"
    else:
        session_login(request, user, backend=backend or getattr(user, "backend", None) or DEFAULT_BACKEND)
        return redirect(next_path or settings.LOGIN_REDIRECT_URL)
    request.session.cycle_key()
    request.session[PENDING] = {
        "user_id": user.pk,
        "auth_hash": user.get_session_auth_hash(),
        "started": time.time(),
        "next": next_path or "",
        "backend": backend or getattr(user, "backend", None) or DEFAULT_BACKEND,
    }
    return redirect(step)


def _pending_user(request) -> User | None:
    """The user of the session's pending login, while it lasts (TWO_FACTOR_CHALLENGE_SECONDS)
    and their password, version and activation are as they were."""
    pending = request.session.get(PENDING)
    if not isinstance(pending, dict):
        return None
    if time.time() - pending.get("started", 0) > settings.TWO_FACTOR_CHALLENGE_SECONDS:
        request.session.pop(PENDING, None)
        return None
    user_id = pending.get("user_id")
    user = User.objects.filter(pk=user_id, is_active=True).first() if isinstance(user_id, int) else None
    if user is None or user.get_session_auth_hash() != pending.get("auth_hash"):
        request.session.pop(PENDING, None)
        return None
    return user


def _finish_login(request, user: User) -> str:
    pending = request.session.pop(PENDING)
    session_login(request, user, backend=pending["backend"])
    return pending["next"] or settings.LOGIN_REDIRECT_URL


def _start_again(request) -> HttpResponse:
    messages.info(request, "Your sign-in has expired; log in again.")
    return redirect("accounts:login")


@sensitive_post_parameters("code")
@never_cache
@require_http_methods(["GET", "POST"])
def login_code_view(request):
    user = _pending_user(request)
    if user is None:
        return _start_again(request)
    form = LoginCodeForm(request.POST or None)
    context = {"form": form}
    if request.method == "POST" and form.is_valid():
        try:
            with second_factor_attempt(request, user):
                used = services.verify(user=user, code=form.cleaned_data["code"])
        except TooManyRequests as exc:
            return _refused(request, "twofactor/login_code.html", context, exc)
        except services.InvalidCode as exc:
            form.add_error("code", exc.message)
        except services.NotEnrolled:  # reset by an administrator meanwhile
            request.session.pop(PENDING, None)
            return _start_again(request)
        else:
            next_path = _finish_login(request, user)
            if used == "recovery":
                left = services.recovery_codes_left(user)
                messages.warning(
                    request,
                    f"You signed in with a recovery code; {left} left. Renew them on your profile "
                    "if you no longer have your authenticator app.",
                )
            return redirect(next_path)
    return render(request, "twofactor/login_code.html", context, status=400 if form.errors else 200)


@sensitive_post_parameters("code")
@never_cache
@require_http_methods(["GET", "POST"])
def login_setup_view(request):
    """An account that must have a second factor and has none sets one up before it is
    signed in; the recovery codes are shown once, signed in."""
    user = _pending_user(request)
    if user is None:
        return _start_again(request)
    if services.is_enrolled(user):
        return redirect("twofactor:login-code")
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            with second_factor_attempt(request, user):
                codes = services.enrolment_confirm(user=user, code=form.cleaned_data["code"])
        except TooManyRequests as exc:
            return _refused(request, "twofactor/login_setup.html", _enrol_context(user, form), exc)
        except InvalidInput as exc:
            _with_form_errors(form, exc)
        else:
            next_path = _finish_login(request, user)
            return render(request, "twofactor/recovery_codes.html", {"codes": codes, "next": next_path})
    return render(request, "twofactor/login_setup.html", _enrol_context(user, form), status=400 if form.errors else 200)


def _enrol_context(user: User, form, *, start: bool = True) -> dict:
    enrolment = services.enrolment_pending(user=user)
    if enrolment is None and start:
        enrolment = services.enrolment_start(user=user)
    context: dict = {"form": form, "enrolment": enrolment, "user_email": user.email}
    if enrolment is not None:
        context["qr"] = enrolment.qr_data_uri(email=user.email)
        context["uri"] = enrolment.uri(email=user.email)
    return context


# ------------------------------------------------------------------ the profile's page


def profile_section_context(request) -> dict:
    user = request.user
    return {
        "two_factor_on": services.is_enrolled(user),
        "two_factor_required": services.is_required_for(user),
    }


def _manage_page(request, context: dict, *, status: int = 200) -> HttpResponse:
    user = request.user
    enrolled = services.is_enrolled(user)
    context.setdefault("identity_form", ConfirmIdentityForm())
    context.update(
        enrolled=enrolled,
        required=services.is_required_for(user),
        codes_left=services.recovery_codes_left(user) if enrolled else 0,
    )
    if not enrolled:
        context.update(_enrol_context(user, context.get("form") or CodeForm(), start=False))
    return render(request, "twofactor/manage.html", context, status=status)


def _throttled(request, context: dict) -> HttpResponse | None:
    if wait := web_throttle_wait(request, (ProfileThrottle,)):
        messages.error(request, f"Too many account changes; try again in {wait} seconds.")
        response = _manage_page(request, context, status=429)
        response["Retry-After"] = str(wait)
        return response
    return None


@never_cache
@login_required
@require_GET
def manage_view(request):
    return _manage_page(request, {})


@login_required
@require_POST
def setup_start_view(request):
    try:
        services.enrolment_start(user=request.user)
    except Conflict as exc:
        messages.info(request, exc.message)
    return redirect("twofactor:manage")


@sensitive_post_parameters("code")
@never_cache
@login_required
@require_POST
def setup_confirm_view(request):
    form = CodeForm(request.POST)
    if refused := _throttled(request, {"form": form}):
        return refused
    if form.is_valid():
        try:
            codes = services.enrolment_confirm(user=request.user, code=form.cleaned_data["code"])
        except InvalidInput as exc:
            _with_form_errors(form, exc)
        except Conflict as exc:
            messages.info(request, exc.message)
            return redirect("twofactor:manage")
        else:
            return render(request, "twofactor/recovery_codes.html", {"codes": codes, "next": None})
    return _manage_page(request, {"form": form}, status=400)


def _confirmed_identity(request, action) -> tuple[object, ConfirmIdentityForm | None]:
    form = ConfirmIdentityForm(request.POST)
    if not form.is_valid():
        return None, form
    try:
        return action(user=request.user, password=form.cleaned_data["password"], code=form.cleaned_data["code"]), None
    except InvalidInput as exc:
        _with_form_errors(form, exc)
        return None, form


@sensitive_post_parameters("password", "code")
@never_cache
@login_required
@require_POST
def recovery_codes_view(request):
    if refused := _throttled(request, {}):
        return refused
    try:
        codes, form = _confirmed_identity(request, services.recovery_codes_regenerate)
    except Conflict as exc:
        messages.info(request, exc.message)
        return redirect("twofactor:manage")
    if form is not None:
        return _manage_page(request, {"identity_form": form}, status=400)
    return render(request, "twofactor/recovery_codes.html", {"codes": codes, "next": None, "renewed": True})


@sensitive_post_parameters("password", "code")
@login_required
@require_POST
def disable_view(request):
    if refused := _throttled(request, {}):
        return refused
    try:
        _, form = _confirmed_identity(request, services.disable)
    except Conflict as exc:
        messages.info(request, exc.message)
        return redirect("twofactor:manage")
    if form is not None:
        return _manage_page(request, {"identity_form": form}, status=400)
    messages.success(request, "Two-factor authentication is off: your password alone signs you in.")
    return redirect("twofactor:manage")


# ------------------------------------------------------------------ the admin panel's page


def _admin_page(request, form: PolicyForm | None = None, *, status: int = 200) -> HttpResponse:
    current = services.policy()
    devices = TotpDevice.objects.filter(confirmed_at__isnull=False).select_related("user").order_by("user__email")
    return render(
        request,
        "twofactor/admin.html",
        {
            "form": form or PolicyForm(initial={"required": current}),
            "current": current,
            "choices": Requirement.choices,
            "default": settings.TWO_FACTOR_REQUIRED,
            "devices": devices,
        },
        status=status,
    )


@require_http_methods(["GET", "POST"])
@admin_required
def admin_view(request):
    if request.method == "POST":
        form = PolicyForm(request.POST)
        if not form.is_valid():
            return _admin_page(request, form, status=400)
        required = services.policy_set(required=form.cleaned_data["required"], by=request.user)
        messages.success(
            request, f"Saved: two-factor authentication is now required of: {Requirement(required).label}."
        )
        return redirect("twofactor:admin")
    return _admin_page(request)


@require_POST
@admin_required
def admin_reset_view(request, user_id: int):
    try:
        user = services.reset(user_id=user_id, by=request.user)
    except NotFound:
        raise Http404("No such user.") from None
    except Conflict as exc:
        messages.info(request, exc.message)
    else:
        messages.success(
            request,
            f"The second factor of {user.email} is reset: they sign in with their password and set one up again.",
        )
    return redirect("twofactor:admin")
