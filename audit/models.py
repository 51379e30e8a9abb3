"""The audit trail: one row per consequential action of an administrator or of the system.

Rows are only ever added. ``save()`` refuses to change a stored row, and neither a row nor a
queryset can be deleted through the ORM; on PostgreSQL a trigger refuses UPDATE and DELETE
too (migration 0002). The actor is kept by id and email, not by a foreign key: deleting a
user must neither cascade into the trail nor rewrite it.
"""

from __future__ import annotations

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone


class AppendOnly(Exception):
    """Someone tried to change or delete an audit entry."""


class AuditQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnly("Audit entries cannot be changed.")

    def delete(self):
        raise AppendOnly("Audit entries cannot be deleted.")

    # QuerySet.bulk_update goes through update(); _raw_delete is what cascades use.
    def _raw_delete(self, using):
        raise AppendOnly("Audit entries cannot be deleted.")


class AuditEntry(models.Model):
    class Action(models.TextChoices):
        USER_ROLE_CHANGED = "user.role_changed", "Role changed"
        USER_ACTIVE_CHANGED = "user.active_changed", "Account activated or deactivated"
        USER_APPROVED = "user.approved", "Account approved"
        USER_DELETED = "user.deleted", "User deleted"
        BUDGET_CHANGED = "budget.changed", "Budget changed"
        MODEL_ACCESS_CHANGED = "model.access_changed", "Model access changed"
        API_KEY_REVOKED = "api_key.revoked", "API key revoked"
        GROUP_CHANGED = "group.changed", "Group created, changed or deleted"
        GROUP_MEMBERSHIP_CHANGED = "group.membership", "Group member added or removed"
        CONVERSATION_SHARED = "conversation.shared", "Conversation share link created or revoked"
        TWO_FACTOR_ENABLED = "two_factor.enabled", "Two-factor authentication turned on"
        TWO_FACTOR_DISABLED = "two_factor.disabled", "Two-factor authentication turned off"
        TWO_FACTOR_RESET = "two_factor.reset", "Two-factor authentication reset by an administrator"
        TWO_FACTOR_RECOVERY_CODE_USED = "two_factor.recovery_code_used", "Recovery code used"
        TWO_FACTOR_RECOVERY_CODES_RENEWED = "two_factor.recovery_codes_renewed", "Recovery codes renewed"
        TWO_FACTOR_POLICY_CHANGED = "two_factor.policy_changed", "Two-factor requirement changed"
        BACKUP_CREATED = "backup.created", "Backup written"
        BACKUP_RESTORED = "backup.restored", "Backup restored"

    at = models.DateTimeField(default=timezone.now, db_index=True)
    # Null: the system (a scheduled task, a management command without a user).
    actor_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    actor_email = models.CharField(max_length=254, blank=True)
    action = models.CharField(max_length=40, choices=Action.choices, db_index=True)
    target_type = models.CharField(max_length=40)
    target_id = models.CharField(max_length=100, blank=True)
    target_repr = models.CharField(max_length=300, blank=True)
    before = models.JSONField(null=True, blank=True, encoder=DjangoJSONEncoder)
    after = models.JSONField(null=True, blank=True, encoder=DjangoJSONEncoder)
    address = models.GenericIPAddressField(null=True, blank=True)
    request_id = models.CharField(max_length=64, blank=True)

    objects = AuditQuerySet.as_manager()

    class Meta:
        ordering = ("-at", "-id")
        verbose_name = "audit entry"
        verbose_name_plural = "audit entries"
        indexes = [models.Index(fields=["target_type", "target_id"], name="audit_target_idx")]

    def __str__(self) -> str:
        who = self.actor_email or "system"
        return f"{self.at:%Y-%m-%d %H:%M:%S} {who} {self.action} {self.target_type} {self.target_id}"

    def save(self, *args, **kwargs):
        if not self._state.adding or kwargs.get("force_update"):
            raise AppendOnly("Audit entries cannot be changed.")
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnly("Audit entries cannot be deleted.")
