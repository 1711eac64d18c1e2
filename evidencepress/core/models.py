from __future__ import annotations

from django.db import models
from django.utils import timezone


class TimeStampedModel(models.Model):
    """Adds created/updated timestamps."""

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class AuditEventQuerySet(models.QuerySet["AuditEvent"]):
    """Audit rows are append-only: bulk updates and deletes are refused."""

    def update(self, **kwargs: object) -> int:
        raise PermissionError("Audit events cannot be changed.")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise PermissionError("Audit events cannot be deleted.")

    def for_object(self, object_type: str, object_id: str) -> AuditEventQuerySet:
        return self.filter(object_type=object_type, object_id=str(object_id))


class AuditEvent(models.Model):
    """One security-relevant event: who did what to which object, when, and from where.

    Append-only (an invariant of the model, not business logic): an existing row cannot be saved
    again or deleted. `detail` holds non-personal facts only (status, counts, reasons' codes).
    The actor is copied (id + username), not a foreign key, so deleting a user changes no row.
    """

    occurred_at = models.DateTimeField(default=timezone.now, db_index=True)
    actor_id = models.BigIntegerField(null=True, blank=True)
    actor_username = models.CharField(max_length=150, blank=True)
    action = models.CharField(max_length=64, db_index=True)
    object_type = models.CharField(max_length=64, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    source_ip = models.GenericIPAddressField(null=True, blank=True)
    detail = models.JSONField(default=dict, blank=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-occurred_at", "-pk"]
        indexes = [models.Index(fields=["object_type", "object_id"], name="audit_object_idx")]

    def __str__(self) -> str:
        who = self.actor_username or "anonymous"
        target = f" {self.object_type} {self.object_id}".rstrip()
        return f"{self.occurred_at:%Y-%m-%d %H:%M:%S} {who} {self.action}{target}"

    def save(self, *args: object, **kwargs: object) -> None:
        if not self._state.adding:
            raise PermissionError("Audit events cannot be changed.")
        super().save(*args, **kwargs)  # type: ignore[arg-type]

    def delete(self, *args: object, **kwargs: object) -> tuple[int, dict[str, int]]:
        raise PermissionError("Audit events cannot be deleted.")


class ContentVersion(models.Model):
    """One row per watched table, kept by database triggers: that table's content version.

    Never written by Python code after the migration; see `evidencepress.core.content_version`.
    Unmanaged (its migration creates the table): bookkeeping, not content, so `flush` leaves it
    alone. A flush then only advances the versions of the tables it empties, through their
    triggers, and never locks this table ahead of a request whose trigger needs it (on
    PostgreSQL that ordering deadlocked a test flush against a live-server request).
    """

    table_name = models.CharField(max_length=63, primary_key=True)
    epoch = models.CharField(max_length=32)
    version = models.BigIntegerField()

    class Meta:
        managed = False
        db_table = "core_contentversion"

    def __str__(self) -> str:
        return f"{self.table_name} {self.epoch}:{self.version}"
