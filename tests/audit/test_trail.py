"""The audit trail: each audited action is recorded once, with its actor, address and
values; entries cannot be changed or deleted; the page, the API and the CSV."""

import csv
import io

import pytest
from django.db import connection
from django.test import Client
from rest_framework.test import APIClient

from accounts import api_keys, services
from accounts.models import User
from audit import services as audit
from audit.models import AppendOnly, AuditEntry
from tests.factories import AdminFactory, ProviderModelFactory, UserFactory
from tests.support.accounts import bearer_client

pytestmark = pytest.mark.django_db
Action = AuditEntry.Action


@pytest.fixture
def admin():
    return AdminFactory(email="boss@example.com")


@pytest.fixture
def member():
    return UserFactory(email="member@example.com")


def only_entry(action):
    entries = list(AuditEntry.objects.filter(action=action))
    assert len(entries) == 1, entries
    return entries[0]


def test_a_role_change_through_the_api_is_recorded_once_with_actor_address_and_values(admin, member):
    client = bearer_client(admin)
    response = client.put(f"/api/users/{member.pk}/role", {"role": "admin"}, format="json", REMOTE_ADDR="203.0.113.7")
    assert response.status_code == 200
    entry = only_entry(Action.USER_ROLE_CHANGED)
    assert (entry.actor_id, entry.actor_email) == (admin.pk, "boss@example.com")
    assert (entry.target_type, entry.target_id, entry.target_repr) == ("user", str(member.pk), member.email)
    assert entry.before == {"role": "user"} and entry.after == {"role": "admin"}
    assert entry.address == "203.0.113.7"
    assert entry.request_id and entry.request_id == response["X-Request-ID"]
    # Setting the same role again changes nothing and records nothing.
    assert client.put(f"/api/users/{member.pk}/role", {"role": "admin"}, format="json").status_code == 200
    assert AuditEntry.objects.count() == 1


def test_a_refused_change_records_nothing(admin):
    response = bearer_client(admin).put(f"/api/users/{admin.pk}/role", {"role": "user"}, format="json")
    assert response.status_code == 409  # the last admin
    assert not AuditEntry.objects.exists()


def test_a_deactivation_names_the_admin_who_did_it(admin, member):
    services.user_update(user=member, by=admin, is_active=False)
    entry = only_entry(Action.USER_ACTIVE_CHANGED)
    assert entry.actor_id == admin.pk and entry.before == {"is_active": True} and entry.after == {"is_active": False}


def test_a_user_changing_their_own_password_is_not_an_audited_action(member):
    services.user_update(user=member, by=member, password="Lantern-orbit-7-quietly")
    assert not AuditEntry.objects.exists()


def test_a_deletion_keeps_who_was_deleted(admin, member):
    response = bearer_client(admin).delete(f"/api/users/{member.pk}")
    assert response.status_code == 204
    entry = only_entry(Action.USER_DELETED)
    assert entry.actor_id == admin.pk and entry.target_id == str(member.pk)
    assert entry.before == {"email": "member@example.com", "role": "user", "is_active": True}
    assert entry.after is None


def test_an_approval_is_recorded_once(admin):
    pending = UserFactory(is_active=False, approved_at=None)
    client = bearer_client(admin)
    assert client.post(f"/api/users/{pending.pk}/approve").status_code == 200
    assert client.post(f"/api/users/{pending.pk}/approve").status_code == 409
    entry = only_entry(Action.USER_APPROVED)
    assert entry.actor_id == admin.pk and entry.target_id == str(pending.pk)


def test_a_budget_change_records_the_old_and_new_limits(admin, member):
    client = bearer_client(admin)
    body = {"daily_budget_usd": "2.50", "monthly_budget_usd": None}
    assert client.put(f"/api/users/{member.pk}/limits", body, format="json").status_code == 200
    entry = only_entry(Action.BUDGET_CHANGED)
    assert entry.actor_id == admin.pk and entry.target_id == str(member.pk)
    assert entry.before == {"daily_budget_usd": None, "monthly_budget_usd": None}
    assert entry.after == {"daily_budget_usd": "2.50", "monthly_budget_usd": None}
    # The same values again: no change, no entry.
    assert client.put(f"/api/users/{member.pk}/limits", body, format="json").status_code == 200
    assert AuditEntry.objects.filter(action=Action.BUDGET_CHANGED).count() == 1


def test_a_model_switch_records_only_the_switches_that_changed(admin):
    model = ProviderModelFactory(id="vendor/audited-model", enabled=True, admins_only=False)
    client = bearer_client(admin)
    response = client.patch(f"/api/models/{model.pk}", {"enabled": False, "admins_only": False}, format="json")
    assert response.status_code == 200
    entry = only_entry(Action.MODEL_ACCESS_CHANGED)
    assert entry.actor_id == admin.pk and entry.target_id == "vendor/audited-model"
    assert entry.before == {"enabled": True} and entry.after == {"enabled": False}


def test_key_revocations_by_an_admin_and_by_the_owner(admin, member):
    first = api_keys.api_key_create(user=member, name="laptop").key
    second = api_keys.api_key_create(user=member, name="phone").key
    assert bearer_client(admin).delete(f"/api/keys/{first.pk}").status_code == 204
    assert bearer_client(member).delete(f"/api/keys/{second.pk}").status_code == 204
    assert bearer_client(admin).delete(f"/api/keys/{first.pk}").status_code == 204  # already revoked
    entries = {e.target_id: e for e in AuditEntry.objects.filter(action=Action.API_KEY_REVOKED)}
    assert set(entries) == {str(first.pk), str(second.pk)}
    assert entries[str(first.pk)].actor_id == admin.pk
    assert entries[str(second.pk)].actor_id == member.pk
    assert entries[str(first.pk)].before == {"revoked_at": None} and entries[str(first.pk)].after["revoked_at"]


def test_the_django_admins_bulk_revoke_records_each_key(admin, member):
    keys = [api_keys.api_key_create(user=member, name=f"k{i}").key for i in range(3)]
    api_keys.api_key_revoke(key_id=keys[0].pk, by=member)
    revoked = api_keys.api_keys_revoke(keys=api_keys.ApiKey.objects.filter(user=member))
    assert revoked == 2
    assert AuditEntry.objects.filter(action=Action.API_KEY_REVOKED).count() == 3


def test_a_system_action_has_no_actor():
    entry = audit.record(Action.BACKUP_CREATED, target_type="backup", target_id="b1", actor=audit.SYSTEM)
    assert entry.actor_id is None and entry.actor_email == "" and entry.address is None


# ------------------------------------------------------------------ append-only


def test_an_entry_cannot_be_changed_or_deleted_through_the_orm(admin):
    entry = audit.record(Action.BACKUP_CREATED, target_type="backup", target_id="b1", actor=admin)
    entry.target_id = "tampered"
    with pytest.raises(AppendOnly):
        entry.save()
    with pytest.raises(AppendOnly):
        entry.delete()
    with pytest.raises(AppendOnly):
        AuditEntry.objects.filter(pk=entry.pk).update(target_id="tampered")
    with pytest.raises(AppendOnly):
        AuditEntry.objects.all().delete()
    assert AuditEntry.objects.get(pk=entry.pk).target_id == "b1"


def test_deleting_the_actor_leaves_their_entries_as_they_were(admin, member):
    other_admin = AdminFactory()
    pk, email = other_admin.pk, other_admin.email
    services.user_update(user=member, by=other_admin, role=User.Role.ADMIN)
    services.user_delete(user=other_admin, by=admin)
    entry = only_entry(Action.USER_ROLE_CHANGED)
    assert entry.actor_id == pk and entry.actor_email == email


@pytest.mark.skipif(connection.vendor != "postgresql", reason="DuckDB has no triggers")
def test_postgresql_refuses_an_update_in_sql(admin):
    from django.db import DatabaseError, transaction

    entry = audit.record(Action.BACKUP_CREATED, target_type="backup", target_id="b1", actor=admin)
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE audit_auditentry SET target_id = 'x' WHERE id = %s", [entry.pk])


# ------------------------------------------------------------------ reading it


@pytest.mark.parametrize("actor, status", [("anonymous", 401), ("user", 403), ("admin", 200)])
def test_the_api_is_for_admins_only(admin, member, actor, status):
    client = {"anonymous": APIClient(), "user": bearer_client(member), "admin": bearer_client(admin)}[actor]
    assert client.get("/api/admin/audit").status_code == status
    assert client.get("/api/admin/audit", {"format": "csv"}).status_code == status


def test_an_api_key_cannot_read_the_trail(admin):
    secret = api_keys.api_key_create(user=admin, name="ci").secret
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert client.get("/api/admin/audit").status_code == 403


def test_the_api_filters_and_pages(admin, member):
    services.user_update(user=member, by=admin, role=User.Role.ADMIN)
    services.user_update(user=member, by=admin, is_active=False)
    audit.record(Action.BACKUP_CREATED, target_type="backup", target_id="b1", actor=audit.SYSTEM)
    client = bearer_client(admin)
    body = client.get("/api/admin/audit").json()
    assert body["count"] == 3 and body["results"][0]["action"] == "backup.created"  # newest first
    assert [e["action"] for e in client.get("/api/admin/audit", {"action": "user.role_changed"}).json()["results"]] == [
        "user.role_changed"
    ]
    assert client.get("/api/admin/audit", {"actor": "system"}).json()["count"] == 1
    assert client.get("/api/admin/audit", {"actor": str(admin.pk)}).json()["count"] == 2
    assert client.get("/api/admin/audit", {"actor": "boss@"}).json()["count"] == 2
    bad = client.get("/api/admin/audit", {"action": "nope"})
    assert bad.status_code == 400 and "action" in bad.json()
    bad = client.get("/api/admin/audit", {"since": "yesterday"})
    assert bad.status_code == 400 and "since" in bad.json()


def test_csv_escapes_cells_a_spreadsheet_would_run(admin):
    for name in ("=HYPERLINK(1)", "+1", "-2", "@cmd", "\tx", "\rx", "plain"):
        audit.record(Action.MODEL_ACCESS_CHANGED, target_type="model", target_id="m", target_repr=name, actor=admin)
    response = bearer_client(admin).get("/api/admin/audit", {"format": "csv"})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert sorted(row["target_repr"] for row in rows) == sorted(
        ["'=HYPERLINK(1)", "'+1", "'-2", "'@cmd", "'\tx", "'\rx", "plain"]
    )


@pytest.mark.parametrize("actor, status", [("anonymous", 302), ("user", 403), ("admin", 200)])
def test_the_admin_panel_page(admin, member, actor, status):
    client = Client()
    if actor != "anonymous":
        client.force_login({"user": member, "admin": admin}[actor])
    response = client.get("/admin-panel/audit")
    assert response.status_code == status
    assert client.get("/admin-panel/audit", {"format": "csv"}).status_code == status


def test_the_page_lists_filters_and_exports(admin, member):
    services.user_update(user=member, by=admin, role=User.Role.ADMIN)
    audit.record(Action.BACKUP_CREATED, target_type="backup", target_id="b1", actor=audit.SYSTEM)
    client = Client()
    client.force_login(admin)
    page = client.get("/admin-panel/audit", {"action": "user.role_changed"}).content.decode()
    assert page.count('data-testid="audit-row"') == 1 and "member@example.com" in page
    exported = client.get("/admin-panel/audit", {"action": "backup.created", "format": "csv"}).content.decode()
    assert exported.count("\r\n") == 2 and "backup.created" in exported
    assert client.get("/admin-panel/audit", {"since": "nope"}).status_code == 400
    assert "/admin-panel/audit" in client.get("/admin-panel/").content.decode()


# Transactional: the admin's refusals leave its atomic blocks with an error, which on DuckDB
# (no savepoints) spoils a test transaction around them.
@pytest.mark.django_db(transaction=True)
def test_the_django_admin_shows_entries_read_only(admin):
    entry = audit.record(Action.BACKUP_CREATED, target_type="backup", target_id="b1", actor=admin)
    client = Client()
    client.force_login(admin)
    assert client.get("/admin/audit/auditentry/").status_code == 200
    assert client.get("/admin/audit/auditentry/add/").status_code == 403
    assert client.post(f"/admin/audit/auditentry/{entry.pk}/delete/", {"post": "yes"}).status_code == 403
    client.post(f"/admin/audit/auditentry/{entry.pk}/change/", {"target_id": "x"})
    assert AuditEntry.objects.get(pk=entry.pk).target_id == "b1"


def test_group_changes_and_memberships_are_recorded_once_each_through_the_api(admin, member):
    client = bearer_client(admin)
    created = client.post("/api/groups", {"name": "Research", "daily_budget_usd": "5.00"}, format="json")
    assert created.status_code == 201, created.content
    group_id = created.json()["id"]
    entry = only_entry(Action.GROUP_CHANGED)
    assert (entry.actor_id, entry.target_type, entry.target_id) == (admin.pk, "group", str(group_id))
    assert entry.after["change"] == "created" and entry.after["daily_budget_usd"] == "5.00"

    assert client.post(f"/api/groups/{group_id}/members", {"user_id": member.pk}, format="json").status_code == 201
    added = only_entry(Action.GROUP_MEMBERSHIP_CHANGED)
    assert added.after == {"change": "member added", "user_id": member.pk} and added.actor_id == admin.pk
    # Adding the same person again is refused (409) and records nothing.
    assert client.post(f"/api/groups/{group_id}/members", {"user_id": member.pk}, format="json").status_code == 409
    assert AuditEntry.objects.filter(action=Action.GROUP_MEMBERSHIP_CHANGED).count() == 1

    assert client.delete(f"/api/groups/{group_id}/members/{member.pk}").status_code == 204
    removed = AuditEntry.objects.filter(action=Action.GROUP_MEMBERSHIP_CHANGED).order_by("id").last()
    assert removed.before == {"member": member.pk} and removed.after == {"change": "member removed"}

    assert client.delete(f"/api/groups/{group_id}").status_code == 204
    deleted = AuditEntry.objects.filter(action=Action.GROUP_CHANGED).order_by("id").last()
    assert deleted.after == {"change": "deleted", "name": "Research"} and deleted.target_id == str(group_id)
    assert AuditEntry.objects.filter(action=Action.GROUP_CHANGED).count() == 2
