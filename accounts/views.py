"""Account web pages (session auth, CSRF on): register, log in/out, dashboard, profile."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout as session_logout
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from accounts import api_keys, services, tokens
from accounts.forms import ApiKeyForm, DefaultSystemForm, LoginForm, ProfileForm, RegisterForm, add_service_errors
from accounts.throttles import LoginRefused, ProfileThrottle, login_attempt, registration_attempt
from core.errors import InvalidInput, NotFound, TooManyRequests
from core.redirects import safe_next_path
from core.sections import render_page_sections
from core.throttles import web_throttle_wait
from twofactor.views import login_or_second_step


def _throttled(request, template_name: str, context: dict, wait: int, message: str = "") -> HttpResponse:
    """The page again, its form saying to wait ``wait`` seconds: a 429 with Retry-After."""
    form = context["form"]
    form.is_valid()
    form.add_error(None, message or f"Too many attempts. Try again in {wait} seconds.")
    response = render(request, template_name, context, status=429)
    response["Retry-After"] = str(wait)
    return response


def _refused(request, template_name: str, context: dict, exc: TooManyRequests) -> HttpResponse:
    return _throttled(request, template_name, context, exc.retry_after or 1, exc.message)


@sensitive_post_parameters("password")
@never_cache
@require_http_methods(["GET", "POST"])
def login_view(request):
    next_path = safe_next_path(request)
    if request.user.is_authenticated:
        return redirect(next_path or settings.LOGIN_REDIRECT_URL)
    form = LoginForm(request.POST or None)
    context = {"form": form, "next": next_path, "registration": services.registration_mode()}
    if request.method == "POST" and form.is_valid():
        # The API's login counts the same attempts (accounts.throttles), the admin's is this one.
        email, password = form.cleaned_data["username"], form.cleaned_data["password"]
        try:
            with login_attempt(request, email):
                user = services.user_authenticate(email=email, password=password)
        except TooManyRequests as exc:
            return _refused(request, "accounts/login.html", context, exc)
        except services.InvalidCredentials as exc:
            form.add_error(None, exc.message)
        except services.AwaitingApproval as exc:
            # Only the right password gets here; it is not a failed attempt.
            form.add_error(None, exc.message)
        else:
            # Signed in now, or after a second factor's code (twofactor/).
            return login_or_second_step(request, user, next_path=next_path)
    return render(request, "accounts/login.html", context)


@never_cache
def admin_login_view(request, extra_context=None):
    """The Django admin's login (installed as `admin.site.login` in accounts/admin.py): the
    site's login page, so that one form with one set of failed-attempt limits checks every
    password. Nothing posted here is checked."""
    from django.contrib import admin

    next_path = safe_next_path(request) or reverse("admin:index")
    if request.user.is_authenticated:
        if admin.site.has_permission(request):
            return redirect(next_path)
        # The site's login would send a signed-in visitor straight back here: say why instead.
        messages.error(request, "Your account has no access to the administration.")
        return redirect(settings.LOGIN_REDIRECT_URL)
    return redirect(f"{reverse('accounts:login')}?{urlencode({'next': next_path})}")


@sensitive_post_parameters("password", "password_confirm")
@never_cache
@require_http_methods(["GET", "POST"])
def register_view(request):
    if request.user.is_authenticated:
        return redirect(settings.LOGIN_REDIRECT_URL)
    mode = services.registration_mode()
    if mode == "closed":
        # Nothing posted here is looked at; administrators add accounts.
        return render(
            request,
            "accounts/register.html",
            {"closed": services.RegistrationClosed.default_message},
            status=403 if request.method == "POST" else 200,
        )
    form = RegisterForm(request.POST or None)
    if request.method == "POST":
        try:  # every attempt counts, before anything is hashed
            registration_attempt(request, form.data.get("email") or "")
        except LoginRefused as exc:
            return _refused(request, "accounts/register.html", {"form": form}, exc)
        if form.is_valid():
            try:
                user = services.user_register(email=form.cleaned_data["email"], password=form.cleaned_data["password"])
            except InvalidInput as exc:
                add_service_errors(form, exc)
            except TooManyRequests as exc:  # every password-hashing slot busy
                return _refused(request, "accounts/register.html", {"form": form}, exc)
            else:
                if user.is_pending:
                    messages.info(
                        request,
                        f"Your account {user.email} has been created and is waiting for "
                        "approval by an administrator. You can log in once it is approved.",
                    )
                    return redirect("accounts:login")
                if not user.is_active:  # nothing to sign in to yet
                    messages.success(request, f"Your account {user.email} has been created. Log in to start.")
                    return redirect("accounts:login")
                # Where everyone must use a second factor, it is set up before the sign-in.
                response = login_or_second_step(request, user, next_path=None)
                if request.user.is_authenticated:
                    messages.success(request, f"Your account {user.email} has been created; you are signed in.")
                else:
                    messages.info(
                        request,
                        f"Your account {user.email} has been created; set up two-factor authentication to sign in.",
                    )
                return response
    return render(request, "accounts/register.html", {"form": form, "approval": mode == "approval"})


@require_POST
def logout_view(request):
    was_signed_in = request.user.is_authenticated
    session_logout(request)
    if was_signed_in:
        messages.info(request, "You have logged out.")
    return redirect(settings.LOGOUT_REDIRECT_URL)


@sensitive_post_parameters("current_password", "new_password", "new_password_confirm")
@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def profile_view(request):
    user = request.user
    form = ProfileForm(request.POST or None, initial={"email": user.email})
    context = {"form": form}
    if request.method == "POST" and (wait := web_throttle_wait(request, (ProfileThrottle,))):
        # Each change checks the current password: the API's per-user rate applies.
        return _throttled(request, "accounts/profile.html", context, wait)
    if request.method == "POST" and form.is_valid():
        old_email, new_password = user.email, form.cleaned_data["new_password"] or None
        try:
            user = services.user_update_profile(
                user=user,
                current_password=form.cleaned_data["current_password"],
                email=form.cleaned_data["email"],
                password=new_password,
            )
        except InvalidInput as exc:
            add_service_errors(form, exc, {"password": "new_password"})
        except TooManyRequests as exc:  # every password-hashing slot busy
            return _refused(request, "accounts/profile.html", context, exc)
        else:
            changes = []
            if user.email != old_email:
                changes.append(f"your email is now {user.email}")
            if new_password:
                # Keep this session signed in; every other session ends with the old hash.
                update_session_auth_hash(request, user)
                changes.append("your password has been changed")
            if changes:
                messages.success(request, "Saved: " + " and ".join(changes) + ".")
            else:
                messages.info(request, "Nothing to change.")
            return redirect("accounts:profile")
    return _profile_page(request, context)


def _profile_page(request, context: dict, *, status: int = 200) -> HttpResponse:
    context.setdefault("form", ProfileForm(initial={"email": request.user.email}))
    context.setdefault("api_key_form", ApiKeyForm())
    context.setdefault("system_form", DefaultSystemForm(initial={"default_system": request.user.default_system}))
    context["api_keys"] = api_keys.user_api_keys(user=request.user)
    context["profile_sections"] = render_page_sections("profile", request, context)
    return render(request, "accounts/profile.html", context, status=status)


@login_required
@require_POST
@never_cache
def api_key_create_view(request):
    """Make a personal API key; the page shows its secret this once (never stored, so it
    is rendered into this answer only, not redirected to)."""
    form = ApiKeyForm(request.POST)
    if form.is_valid():
        try:
            created = api_keys.api_key_create(
                user=request.user,
                name=form.cleaned_data["name"],
                expires_at=form.cleaned_data["expires_at"],
                expires_in_days=form.cleaned_data["expires_in_days"],
            )
        except InvalidInput as exc:
            add_service_errors(form, exc)
        else:
            return _profile_page(request, {"new_api_key": created})
    return _profile_page(request, {"api_key_form": form}, status=400)


@login_required
@require_POST
def api_key_revoke_view(request, pk: int):
    try:
        key = api_keys.api_key_revoke(key_id=pk, by=request.user)
    except NotFound:
        raise Http404("API key not found.") from None
    messages.info(request, f"The API key \u201c{key.name}\u201d is revoked: it no longer works.")
    return redirect("accounts:profile")


@login_required
@require_POST
def default_system_view(request):
    """Save the instructions new conversations start with."""
    form = DefaultSystemForm(request.POST)
    if form.is_valid():
        try:
            services.user_set_default_system(user=request.user, text=form.cleaned_data["default_system"])
        except InvalidInput as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "Saved: new conversations start with these instructions.")
            return redirect("accounts:profile")
    return _profile_page(request, {"system_form": form}, status=400)


@login_required
@require_POST
def logout_all_view(request):
    """Log out everywhere: every web session (this one too) and every API token ends."""
    tokens.user_sessions_end(user=request.user)
    session_logout(request)
    messages.info(request, "You have been logged out everywhere: on every device and in every app.")
    return redirect(settings.LOGOUT_REDIRECT_URL)


@login_required
def dashboard(request):
    return render(
        request,
        "accounts/dashboard.html",
        {
            "dashboard_sections": render_page_sections("dashboard", request),
        },
    )
