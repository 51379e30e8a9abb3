"""Account reads shared by the API, the pages and the admin stats."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from accounts.models import RefreshToken, User, normalize_email

# Registered, waiting for an administrator's approval (REGISTRATION=approval).
PENDING = Q(is_active=False, approved_at__isnull=True)


def account_stats() -> dict:
    """Counts for the admin stats: users, admins, active users, accounts waiting for
    approval, live refresh tokens."""
    counts = User.objects.aggregate(
        users=Count("id"),
        admins=Count("id", filter=Q(role=User.Role.ADMIN)),
        active_users=Count("id", filter=Q(is_active=True)),
        pending_users=Count("id", filter=PENDING),
    )
    return {
        "users": counts["users"],
        "admins": counts["admins"],
        "active_users": counts["active_users"],
        "pending_users": counts["pending_users"],
        "active_refresh_tokens": RefreshToken.objects.active(now=timezone.now()).count(),
    }


def user_list(*, search: str = "") -> QuerySet[User]:
    """Users by email, optionally those whose email contains `search` (any letter case)."""
    users = User.objects.order_by("email")
    search = (search or "").strip()
    if search:
        users = users.filter(email__icontains=search)
    return users


def pending_user_list() -> QuerySet[User]:
    """Accounts waiting for approval, oldest first."""
    return User.objects.filter(PENDING).order_by("date_joined", "id")


def email_is_taken(*, email: str, exclude: User | None = None) -> bool:
    """Whether another account uses this address (in any letter case)."""
    taken = User.objects.filter(email=normalize_email(email))
    if exclude is not None:
        taken = taken.exclude(pk=exclude.pk)
    return taken.exists()
