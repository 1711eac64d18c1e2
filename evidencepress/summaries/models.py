"""A reader's request for a tailored summary. Personal fields are encrypted at rest."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from evidencepress.evidence.models import Topic

from .crypto import EncryptedJSONField, EncryptedTextField
from .querysets import SummaryRequestQuerySet

EDITORS_GROUP = "Summary editors"


class SummaryRequest(models.Model):
    """One request, from submission to sending (or declining) and, later, deletion.

    `situation` holds the form's answers about the reader's illness (setting, site, lesion
    size/number/depth, surgery, treatments, their question): one encrypted JSON value.
    Nothing else about the reader is kept — no IP address, no user agent.
    """

    class Status(models.TextChoices):
        NEW = "new", "New"
        DRAFTED = "drafted", "Drafted"
        IN_REVIEW = "in_review", "In review"
        APPROVED = "approved", "Approved"
        SENT = "sent", "Sent"
        DECLINED = "declined", "Declined"

    class Detail(models.TextChoices):
        SHORT = "short", "Short"
        DETAILED = "detailed", "Detailed"

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    topic = models.ForeignKey(Topic, on_delete=models.PROTECT, related_name="summary_requests")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.NEW)
    detail = models.CharField(max_length=10, choices=Detail.choices, default=Detail.SHORT)

    email = EncryptedTextField()
    situation = EncryptedJSONField(blank=True)

    consent_version = models.CharField(max_length=20)
    consented_at = models.DateTimeField()
    submitted_at = models.DateTimeField()

    drafted_text = EncryptedTextField(blank=True)
    draft_grade = models.FloatField(null=True, blank=True)
    draft_contains_demo = models.BooleanField(default=False)
    draft_matches = EncryptedJSONField(blank=True)
    drafted_at = models.DateTimeField(null=True, blank=True)

    editor_approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    editor_approved_at = models.DateTimeField(null=True, blank=True)
    clinician_approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    clinician_approved_at = models.DateTimeField(null=True, blank=True)

    sent_at = models.DateTimeField(null=True, blank=True)
    # Set by summary_request_send while it talks to the mail server (a claim every worker sees).
    send_claimed_at = models.DateTimeField(null=True, blank=True, editable=False)
    declined_at = models.DateTimeField(null=True, blank=True)
    decline_reason = EncryptedTextField(blank=True)
    # SHA-256 of the withdrawal token mailed to the reader; the token itself is never stored.
    withdraw_token_hash = models.CharField(max_length=64, blank=True, db_index=True)

    objects = SummaryRequestQuerySet.as_manager()

    class Meta:
        ordering = ["-submitted_at", "-pk"]
        permissions = [("approve_clinically", "Can approve a summary as the clinician reviewer")]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="sent") | Q(sent_at__isnull=False),
                name="summary_sent_has_time",
            ),
            models.CheckConstraint(
                condition=~Q(status="declined") | Q(declined_at__isnull=False),
                name="summary_declined_has_time",
            ),
        ]

    def __str__(self) -> str:
        # No personal data: the reference and the status only.
        return f"Request {self.reference} ({self.get_status_display()})"

    @property
    def reference(self) -> str:
        return str(self.public_id)[:8]

    def clean(self) -> None:
        if self.status == self.Status.DECLINED and not (self.decline_reason or "").strip():
            raise ValidationError({"decline_reason": "Give a reason for declining."})
        if self.status == self.Status.SENT and not (
            self.editor_approved_at and self.clinician_approved_at
        ):
            raise ValidationError("A summary is sent only after editor and clinician approval.")
