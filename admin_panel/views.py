"""The admin pages: stats, a searchable users table, promote/demote, delete, pending
accounts to approve, adding a user, the models' switches and every API key (to revoke)."""

from __future__ import annotations

from functools import wraps

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts import api_keys, services
from accounts.models import User
from accounts.selectors import pending_user_list, user_list
from admin_panel.forms import AddUserForm, UserSearchForm
from admin_panel.selectors import admin_stats, stats_for_display
from catalogue import services as catalogue_services
from catalogue.models import ProviderModel
from catalogue.selectors import catalogue_list
from core.errors import DomainError, InvalidInput, NotFound
from core.redirects import safe_next_path

USERS_PER_PAGE = 20
KEYS_PER_PAGE = 50


def admin_required(view):
    """Anonymous visitors go to the login page; signed-in non-admins get a 403 page."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not request.user.is_admin:
            return render(request, "admin_panel/403.html", status=403)
        return view(request, *args, **kwargs)

    return wrapper


def _back(request):
    return redirect(safe_next_path(request) or reverse("admin_panel:index"))


def _index(request, *, add_form=None, status=200):
    search = UserSearchForm(request.GET or None)
    query = search.cleaned_data["q"] if search.is_valid() else ""
    page = Paginator(user_list(search=query), USERS_PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "admin_panel/index.html",
        {
            "stats": stats_for_display(admin_stats()),
            "search": search,
            "query": query,
            "page": page,
            "pending": pending_user_list(),
            "add_form": add_form or AddUserForm(),
            "here": request.get_full_path(),
            "roles": User.Role,
        },
        status=status,
    )


@require_GET
@admin_required
def index(request):
    return _index(request)


@require_POST
@admin_required
def user_add(request):
    """Add an account, active and approved at once (whatever REGISTRATION says)."""
    form = AddUserForm(request.POST)
    if form.is_valid():
        try:
            user = services.user_create(**form.cleaned_data)
        except InvalidInput as exc:
            for field, errors in exc.errors.items():
                for error in errors:
                    form.add_error(field if field in form.fields else None, error)
        else:
            messages.success(request, f"{user.email} has been added as {'an admin' if user.is_admin else 'a user'}.")
            return redirect("admin_panel:index")
    return _index(request, add_form=form, status=400)


@require_POST
@admin_required
def user_approve(request, user_id: int):
    user = get_object_or_404(User, pk=user_id)
    try:
        user = services.user_approve(user=user)
    except DomainError as exc:
        messages.error(request, exc.user_message)
    else:
        messages.success(request, f"{user.email} has been approved and can log in now.")
    return _back(request)


@require_POST
@admin_required
def user_role(request, user_id: int):
    user = get_object_or_404(User, pk=user_id)
    role = request.POST.get("role", "")
    try:
        user = services.user_update(user=user, role=role, by=request.user)
    except DomainError as exc:
        messages.error(request, exc.user_message)
    else:
        messages.success(request, f"{user.email} is now {'an admin' if user.is_admin else 'a user'}.")
        if user.pk == request.user.pk and not user.is_admin:
            return redirect("dashboard")  # the panel is closed to them now
    return _back(request)


@require_http_methods(["GET", "POST"])
@admin_required
def user_delete(request, user_id: int):
    user = get_object_or_404(User, pk=user_id)
    if request.method == "POST":
        email = user.email
        try:
            services.user_delete(user=user, by=request.user)
        except DomainError as exc:
            messages.error(request, exc.user_message)
        else:
            messages.success(request, f"{email} has been deleted.")
        return _back(request)
    return render(
        request,
        "admin_panel/user_confirm_delete.html",
        {
            "target": user,
            "next": safe_next_path(request),
            "back": safe_next_path(request) or reverse("admin_panel:index"),
            "is_self": user.pk == request.user.pk,
        },
    )


@require_GET
@admin_required
def model_list(request):
    """Every available catalogue model with its prices and the two switches."""
    return render(request, "admin_panel/models.html", {"models": catalogue_list(), "here": request.get_full_path()})


SWITCH_VALUES = {"on": True, "off": False}


@require_POST
@admin_required
def model_access(request):
    """One switch of one model: ``model`` and ``enabled`` or ``admins_only`` = on/off."""
    model = get_object_or_404(ProviderModel, pk=request.POST.get("model", ""))
    switches = {
        name: SWITCH_VALUES[request.POST[name]]
        for name in ("enabled", "admins_only")
        if request.POST.get(name) in SWITCH_VALUES
    }
    if not switches:
        messages.error(request, "Nothing to change: send enabled or admins_only as on or off.")
        return redirect("admin_panel:models")
    model = catalogue_services.model_access_update(model=model, **switches)
    state = (
        "disabled" if not model.enabled else "for administrators only" if model.admins_only else "enabled for everyone"
    )
    messages.success(request, f"{model.pk} is now {state}.")
    return redirect(safe_next_path(request) or reverse("admin_panel:models"))


@require_GET
@admin_required
def api_key_list(request):
    """Every user's API keys, newest first, with their state and a Revoke button."""
    page = Paginator(api_keys.api_key_list(), KEYS_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "admin_panel/api_keys.html", {"page": page, "here": request.get_full_path()})


@require_POST
@admin_required
def api_key_revoke(request, key_id: int):
    try:
        key = api_keys.api_key_revoke(key_id=key_id, by=request.user)
    except NotFound:
        raise Http404("API key not found.") from None
    messages.success(request, f"The API key \u201c{key.name}\u201d of {key.user.email} is revoked: it no longer works.")
    return redirect(safe_next_path(request) or reverse("admin_panel:api-keys"))
