"""Signing in with the identity provider's verified claims: which account, whether it may
come in (REGISTRATION, approval, deactivation), and its role and groups as the claims say.

Refusals are raised outside atomic blocks (DuckDB has no savepoints)."""

from __future__ import annotations

import logging
import random
import time
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, OperationalError, transaction
from django.utils import timezone

from accounts import services as accounts
from accounts.models import User, normalize_email
from core.db import CONFLICT_PAUSES, is_unique_clash
from core.errors import Conflict, DomainError, ErrorKind, NotFound
from sso.models import Identity
from teams import services as teams
from teams.models import Membership, Team

log = logging.getLogger(__name__)


class SignInRefused(DomainError):
    kind = ErrorKind.FORBIDDEN
    default_message = "This sign-in cannot be used for an account here."


@dataclass(frozen=True)
class ProviderClaims:
    """What Studio reads from a checked ID token."""

    issuer: str
    subject: str
    email: str
    email_verified: bool
    # None: the claims say nothing about it (the claim is not configured); otherwise the
    # group names the provider lists, or whether it marks an administrator.
    groups: tuple[str, ...] | None
    is_admin: bool | None


def _values(claim) -> list[str]:
    """A claim as a list of strings: a list as it is, one string as itself. Keycloak's
    group mapper with "full group path" gives "/parent/name": the last part is the name."""
    if claim is None:
        return []
    items = claim if isinstance(claim, list) else [claim]
    return [str(item) for item in items if isinstance(item, (str, int))]


def claims_read(raw: dict) -> ProviderClaims:
    groups = None
    if settings.OIDC_GROUPS_CLAIM:
        names = (value.rstrip("/").rsplit("/", 1)[-1].strip() for value in _values(raw.get(settings.OIDC_GROUPS_CLAIM)))
        groups = tuple(dict.fromkeys(name for name in names if name))
    is_admin = None
    if settings.OIDC_ADMIN_CLAIM:
        is_admin = settings.OIDC_ADMIN_VALUE in _values(raw.get(settings.OIDC_ADMIN_CLAIM))
    # email_verified is a boolean; some providers send the string "true".
    verified = raw.get("email_verified")
    return ProviderClaims(
        issuer=str(raw.get("iss", "")),
        subject=str(raw.get("sub", "")),
        email=normalize_email(str(raw.get("email") or "")),
        email_verified=verified is True or (isinstance(verified, str) and verified.lower() == "true"),
        groups=groups,
        is_admin=is_admin,
    )


def sign_in(*, claims: ProviderClaims) -> User:
    """The account these claims sign in to, its role and groups brought in line with them.

    The identity (issuer + subject) linked at an earlier sign-in decides first; else an
    account with the same email address, only when the provider says it verified that
    address; else a new account as REGISTRATION allows ("closed": refused; "approval":
    created and held). AwaitingApproval for a held account, SignInRefused otherwise."""
    if not claims.subject:
        raise SignInRefused("The identity provider did not say who signed in.")
    identity = Identity.objects.select_related("user").filter(issuer=claims.issuer, subject=claims.subject).first()
    if identity is None:
        identity = _link(claims)
    user = identity.user
    if user.is_pending:
        raise accounts.AwaitingApproval()
    if not user.is_active:
        raise SignInRefused("This account is deactivated; ask an administrator.")
    _sync_role(identity, claims)
    _sync_groups(identity, claims)
    Identity.objects.filter(pk=identity.pk).update(last_login_at=timezone.now(), email=claims.email or identity.email)
    user.refresh_from_db()
    return user


def _link(claims: ProviderClaims) -> Identity:
    if not claims.email:
        raise SignInRefused("The identity provider gave no email address; Studio accounts need one.")
    if not claims.email_verified:
        # Anyone may type any address at some providers: an unverified one proves nothing.
        raise SignInRefused(
            f"The identity provider has not verified the email address {claims.email}; "
            "verify it there, then sign in again."
        )
    user = User.objects.filter(email=claims.email).first()
    may_create, held = user is None, {}
    if user is None:
        mode = accounts.registration_mode()
        if mode == "closed":
            raise SignInRefused(
                f"There is no account for {claims.email} and registration is closed; ask an administrator to add you."
            )
        held = {"is_active": False, "approved_at": None} if mode == "approval" else {}
    # Another tab finishing the same first sign-in may have linked the identity, or made
    # the account, first. On DuckDB its keys clash with ours before it commits, so what it
    # wrote may not be readable yet: look again after a pause, a few times.
    for pause in (*CONFLICT_PAUSES, None):
        try:
            with transaction.atomic():
                if user is None:
                    # No password: this account signs in through the provider (a reset can add one).
                    user = User.objects.create_user(claims.email, None, **held)
                    log.info("sso: account %s created for %s", user.pk, claims.subject)
                return Identity.objects.create(
                    user=user, issuer=claims.issuer, subject=claims.subject, email=claims.email
                )
        except (IntegrityError, OperationalError) as exc:
            if not is_unique_clash(exc):
                raise
            identity = (
                Identity.objects.select_related("user").filter(issuer=claims.issuer, subject=claims.subject).first()
            )
            if identity is not None:
                return identity
            user = User.objects.filter(email=claims.email).first()
            if pause is None or (user is None and not may_create):
                raise
            time.sleep(pause * (1 + random.random()))
    raise AssertionError("unreachable")


def _sync_role(identity: Identity, claims: ProviderClaims) -> None:
    """The admin claim promotes; losing it demotes only an administrator it promoted."""
    if claims.is_admin is None:
        return
    user = identity.user
    if claims.is_admin and not user.is_admin:
        accounts.user_update(user=user, role=User.Role.ADMIN)
        Identity.objects.filter(pk=identity.pk).update(admin_from_claim=True)
    elif not claims.is_admin and user.is_admin and identity.admin_from_claim:
        try:
            accounts.user_update(user=user, role=User.Role.USER)
        except Conflict as exc:  # the last administrator stays one, and says so in the log
            log.warning("sso: %s keeps the admin role without the claim: %s", user.pk, exc.message)
            return
        Identity.objects.filter(pk=identity.pk).update(admin_from_claim=False)


def _sync_groups(identity: Identity, claims: ProviderClaims) -> None:
    """Put the user in the existing groups the claim names (by name, letter case ignored)
    and out of the groups an earlier sign-in put them in that the claim no longer names.
    Names of no Studio group are left alone: administrators create groups (each has a budget
    and model access), the provider only says who is in them."""
    if claims.groups is None:
        return
    user = identity.user
    wanted_names = {name.lower() for name in claims.groups}
    wanted = {team.pk: team for team in Team.objects.all() if team.name.lower() in wanted_names}
    current = set(Membership.objects.filter(user=user).values_list("team_id", flat=True))
    synced = set(identity.synced_team_ids or [])
    for team_id, team in wanted.items():
        if team_id not in current:
            try:
                teams.member_add(team=team, user=user, by=None)
            except Conflict:  # added at the same moment elsewhere
                pass
            synced.add(team_id)
    for team_id in sorted(synced - set(wanted)):
        gone_from = Team.objects.filter(pk=team_id).first()
        if gone_from is not None and team_id in current:
            try:
                teams.member_remove(team=gone_from, user_id=user.pk, by=None)
            except NotFound:  # taken out at the same moment elsewhere
                pass
        synced.discard(team_id)
    unknown = wanted_names - {named.name.lower() for named in wanted.values()}
    if unknown:
        log.info("sso: groups claim names no Studio group: %s", sorted(unknown))
    Identity.objects.filter(pk=identity.pk).update(synced_team_ids=sorted(synced))
