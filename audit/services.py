"""Recording the audit trail. Services call ``record()`` where an action happens, inside the
transaction that makes the change where there is one, so an action that rolls back leaves
no entry and one that commits leaves exactly one.

Who and from where come from the request in context (operations.context) unless the caller
names the actor: a web or API request's signed-in user and client address; a task or a
command without a user is the system (actor empty).
"""

from __future__ import annotations

import ipaddress
from typing import Any

from audit.models import AuditEntry
from operations import context

Action = AuditEntry.Action

# Say "the system" explicitly (a scheduled backup inside no request).
SYSTEM = object()
_FROM_CONTEXT = object()


def _actor_of_request():
    request = context.current_request()
    user = getattr(request, "user", None) if request is not None else None
    return user if user is not None and getattr(user, "is_authenticated", False) else None


def _address() -> str | None:
    address = context.current_address()
    try:
        return str(ipaddress.ip_address(address)) if address else None
    except ValueError:
        return None


def record(
    action: str,
    *,
    target_type: str,
    target_id: Any = "",
    target_repr: str = "",
    before: dict | None = None,
    after: dict | None = None,
    actor: Any = _FROM_CONTEXT,
) -> AuditEntry:
    """Add one entry. ``actor``: a user, SYSTEM, or (left out) the request's user. A system
    action has no address, whatever request context the calling thread carries."""
    address = _address()
    if actor is _FROM_CONTEXT:
        actor = _actor_of_request()
    elif actor is SYSTEM:
        actor, address = None, None
    return AuditEntry.objects.create(
        action=action,
        actor_id=getattr(actor, "pk", None),
        actor_email=(getattr(actor, "email", "") or "")[:254],
        target_type=target_type,
        target_id=str(target_id)[:100],
        target_repr=str(target_repr)[:300],
        before=before,
        after=after,
        address=address,
        request_id=context.current_request_id()[:64],
    )


# ------------------------------------------------------------------ the hooks other apps call


def user_changed(*, user, changes: dict, by=_FROM_CONTEXT) -> None:
    """A user's role or activation changed (``changes``: the fields written). Email and
    password changes are the user's own business and not recorded here."""
    if "role" in changes:
        record(
            Action.USER_ROLE_CHANGED,
            target_type="user",
            target_id=user.pk,
            target_repr=user.email,
            before={"role": user.role},
            after={"role": changes["role"]},
            actor=by if by is not None else _FROM_CONTEXT,
        )
    if "is_active" in changes:
        record(
            Action.USER_ACTIVE_CHANGED,
            target_type="user",
            target_id=user.pk,
            target_repr=user.email,
            before={"is_active": user.is_active},
            after={"is_active": changes["is_active"]},
            actor=by if by is not None else _FROM_CONTEXT,
        )


def user_approved(*, user, by=_FROM_CONTEXT) -> None:
    record(
        Action.USER_APPROVED,
        target_type="user",
        target_id=user.pk,
        target_repr=user.email,
        before={"status": "pending"},
        after={"status": "active"},
        actor=by if by is not None else _FROM_CONTEXT,
    )


def user_deleted(*, user, by=_FROM_CONTEXT) -> None:
    record(
        Action.USER_DELETED,
        target_type="user",
        target_id=user.pk,
        target_repr=user.email,
        before={"email": user.email, "role": user.role, "is_active": user.is_active},
        after=None,
        actor=by if by is not None else _FROM_CONTEXT,
    )


def budget_changed(*, user_id: int, email: str, before: dict, after: dict) -> None:
    if before != after:
        record(
            Action.BUDGET_CHANGED,
            target_type="user",
            target_id=user_id,
            target_repr=email,
            before=before,
            after=after,
        )


def model_access_changed(*, model_id: str, before: dict, after: dict) -> None:
    if before != after:
        record(
            Action.MODEL_ACCESS_CHANGED,
            target_type="model",
            target_id=model_id,
            target_repr=model_id,
            before=before,
            after=after,
        )


def api_key_revoked(*, key, by=_FROM_CONTEXT) -> None:
    record(
        Action.API_KEY_REVOKED,
        target_type="api_key",
        target_id=key.pk,
        target_repr=f"{key.name} ({key.prefix}…) of user {key.user_id}",
        before={"revoked_at": None},
        after={"revoked_at": key.revoked_at},
        actor=by if by is not None else _FROM_CONTEXT,
    )


def conversation_share_changed(*, conversation_id: int, title: str, owner_id: int, shared: bool) -> None:
    """A conversation's read-only share link was created (``shared``) or revoked."""
    record(
        Action.CONVERSATION_SHARED,
        target_type="conversation",
        target_id=conversation_id,
        target_repr=f"{title} (of user {owner_id})",
        before={"shared": not shared},
        after={"shared": shared},
    )


def two_factor_changed(action: str, *, user, before: dict | None = None, after: dict | None = None, by=_FROM_CONTEXT):
    """A person's second factor was turned on or off, reset, or a recovery code used."""
    record(
        action,
        target_type="user",
        target_id=user.pk,
        target_repr=user.email,
        before=before,
        after=after,
        actor=by if by is not None else _FROM_CONTEXT,
    )


def two_factor_policy_changed(*, before: str, after: str, by=_FROM_CONTEXT) -> None:
    if before != after:
        record(
            Action.TWO_FACTOR_POLICY_CHANGED,
            target_type="site",
            target_id="two_factor_required",
            target_repr="who must use two-factor authentication",
            before={"required": before},
            after={"required": after},
            actor=by if by is not None else _FROM_CONTEXT,
        )
