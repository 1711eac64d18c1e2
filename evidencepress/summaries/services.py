"""Every change to a summary request: submit, draft, review, approve, send, decline, withdraw,
erase and purge. Each is atomic, checks the current status, and writes one audit event whose
detail holds no personal data (status, topic slug, counts).
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from evidencepress.core import ratelimit
from evidencepress.core.audit import audit_record
from evidencepress.core.erasure import scrub_deleted_rows_on_commit
from evidencepress.evidence.models import Topic

from . import crypto, readability
from .access import can_access_requests, can_approve_clinically
from .delivery import summary_send
from .exceptions import SummaryRequestError
from .models import SummaryRequest
from .safety import missing_statements, reader_answers

Status = SummaryRequest.Status
OBJECT_TYPE = "summary_request"
MAX_DRAFT_CHARS = 20_000
MAX_REASON_CHARS = 1_000
SEND_LOCK_SECONDS = 300


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _audit(
    summary_request: SummaryRequest,
    action: str,
    *,
    user: Any = None,
    request: HttpRequest | None = None,
    **detail: Any,
) -> None:
    audit_record(
        action=f"summary_request.{action}",
        actor=user,
        request=request,
        object_type=OBJECT_TYPE,
        object_id=str(summary_request.public_id),
        detail={"status": summary_request.status, "topic": summary_request.topic.slug, **detail},
    )


def _require_status(summary_request: SummaryRequest, allowed: set[str], doing: str) -> None:
    if summary_request.status not in allowed:
        raise SummaryRequestError(
            f"This request is {summary_request.get_status_display().lower()}: "
            f"it cannot be {doing} now."
        )


def _require_editor(user: Any) -> None:
    if not can_access_requests(user):
        raise PermissionError("Only summary editors can work on summary requests.")


@sensitive_variables("email", "situation")
@transaction.atomic
def summary_request_submit(
    *,
    topic: Topic,
    email: str,
    situation: dict[str, Any],
    detail: str,
    consent_version: str,
) -> SummaryRequest:
    """Store a reader's request (encrypted). Raises EncryptionUnavailable if no key is loaded."""
    crypto.cipher()  # fail closed before anything is written
    now = timezone.now()
    summary_request = SummaryRequest(
        topic=topic,
        email=email,
        situation=situation,
        detail=detail,
        consent_version=consent_version,
        consented_at=now,
        submitted_at=now,
    )
    summary_request.full_clean()
    summary_request.save()
    # The reader's own events are audited without their IP address: the audit outlives the
    # request, and an IP next to a health topic would be personal data kept past the purge.
    _audit(summary_request, "submitted", consent_version=consent_version)
    return summary_request


def reading_grade(text: str) -> float:
    """The stored grade of a summary text, generated or edited alike (`readability.grade`)."""
    return round(readability.grade(text), 1)


def _clear_approvals(summary_request: SummaryRequest) -> None:
    summary_request.editor_approved_by = None
    summary_request.editor_approved_at = None
    summary_request.clinician_approved_by = None
    summary_request.clinician_approved_at = None


@transaction.atomic
def summary_request_draft(
    *,
    summary_request: SummaryRequest,
    user: Any,
    text: str | None = None,
    request: HttpRequest | None = None,
) -> SummaryRequest:
    """(Re)draft from the evidence (text=None) or save an editor's edited text.

    Any change to the text withdraws earlier approvals: what is approved is what is sent.
    """
    from .evidence_inputs import draft_for_topic
    from .selectors import request_situation

    _require_editor(user)
    _require_status(
        summary_request,
        {Status.NEW, Status.DRAFTED, Status.IN_REVIEW, Status.APPROVED},
        "redrafted",
    )
    if text is None:
        try:
            draft = draft_for_topic(
                summary_request.topic,
                request_situation(summary_request),
                reader=reader_answers(summary_request.situation or {}),
            )
        except ValueError as error:
            # An answer that is not a value of the topic's definition (e.g. the definition
            # changed after the reader asked): say which, and change nothing.
            raise SummaryRequestError(
                f"The reader's answers do not fit this topic's definition ({error}). "
                "Write the summary by hand, or ask the reader again."
            ) from error
        summary_request.drafted_text = draft.text
        summary_request.draft_grade = reading_grade(draft.text)
        summary_request.draft_contains_demo = bool(draft.contains_demo)
        summary_request.draft_matches = [
            {
                "label": match.case.label,
                "is_demo": bool(match.case.is_demo),
                "publication_id": match.case.publication_id,
                "score": round(float(match.score), 3),
                "matched": list(match.matched),
            }
            for match in draft.matches
        ]
        action = "drafted"
    else:
        text = text.replace("\r\n", "\n").strip()
        if not text:
            raise SummaryRequestError("The summary is empty. Write the summary or draft it again.")
        if len(text) > MAX_DRAFT_CHARS:
            raise SummaryRequestError(
                f"The summary is longer than {MAX_DRAFT_CHARS:,} characters. Shorten it."
            )
        if text == summary_request.drafted_text:
            return summary_request
        summary_request.drafted_text = text
        summary_request.draft_grade = reading_grade(text)
        action = "edited"
    summary_request.status = Status.DRAFTED
    summary_request.drafted_at = timezone.now()
    _clear_approvals(summary_request)
    summary_request.full_clean()
    summary_request.save()
    _audit(summary_request, action, user=user, request=request, grade=summary_request.draft_grade)
    return summary_request


@transaction.atomic
def summary_request_review(
    *, summary_request: SummaryRequest, user: Any, request: HttpRequest | None = None
) -> SummaryRequest:
    """Send a draft for review (drafted → in review)."""
    _require_editor(user)
    _require_status(summary_request, {Status.DRAFTED}, "sent for review")
    summary_request.status = Status.IN_REVIEW
    summary_request.full_clean()
    summary_request.save()
    _audit(summary_request, "submitted_for_review", user=user, request=request)
    return summary_request


def request_missing_statements(summary_request: SummaryRequest) -> dict[str, tuple[str, ...]]:
    """The fired safety rules whose statements the request's current text leaves out, by title."""
    from .selectors import request_fired_rules

    fired = request_fired_rules(summary_request)
    missing = missing_statements(fired, summary_request.drafted_text or "")
    return {rule.title: missing[rule.id] for rule in fired if rule.id in missing}


@transaction.atomic
def summary_request_approve(
    *,
    summary_request: SummaryRequest,
    user: Any,
    role: str,
    request: HttpRequest | None = None,
) -> SummaryRequest:
    """Record the editor's or the clinician's approval; with both, the request is approved.

    Two different people must approve: the clinician cannot also be the approving editor.
    """
    _require_editor(user)
    _require_status(summary_request, {Status.IN_REVIEW}, "approved")
    missing = request_missing_statements(summary_request)
    if missing:
        raise SummaryRequestError(
            "The summary leaves out what the safety rules require for this reader ("
            + ", ".join(missing)
            + "). Put their statements back, word for word, or draft again from the evidence."
        )
    now = timezone.now()
    if role == "editor":
        if summary_request.clinician_approved_by_id == user.pk:
            raise SummaryRequestError("You approved this as the clinician; another editor must.")
        summary_request.editor_approved_by = user
        summary_request.editor_approved_at = now
    elif role == "clinician":
        if not can_approve_clinically(user):
            raise PermissionError("Only a clinician reviewer can give the clinical approval.")
        if summary_request.editor_approved_by_id == user.pk:
            raise SummaryRequestError("You approved this as the editor; another clinician must.")
        summary_request.clinician_approved_by = user
        summary_request.clinician_approved_at = now
    else:
        raise ValueError(f"Unknown approval role {role!r}: use 'editor' or 'clinician'.")
    if summary_request.editor_approved_at and summary_request.clinician_approved_at:
        summary_request.status = Status.APPROVED
    summary_request.full_clean()
    summary_request.save()
    _audit(summary_request, f"approved_{role}", user=user, request=request)
    return summary_request


def summary_request_send(
    *, summary_request: SummaryRequest, user: Any, request: HttpRequest | None = None
) -> SummaryRequest:
    """Email the approved summary with its PDF and a withdrawal link; then mark it sent.

    If the mail server refuses, the request stays approved, unchanged, and DeliveryFailed is
    raised (the failure is audited).
    """
    _require_editor(user)
    if summary_request.status == Status.IN_REVIEW:
        raise SummaryRequestError("A clinician and an editor must both approve before sending.")
    _require_status(summary_request, {Status.APPROVED}, "sent")
    if not (summary_request.editor_approved_at and summary_request.clinician_approved_at):
        raise SummaryRequestError("A clinician and an editor must both approve before sending.")
    # Two editors pressing "Send" at once (on any worker or server) must not email the reader
    # twice. The database lock is not held while talking to the mail server, so the send is
    # claimed first with one conditional UPDATE: exactly one caller changes the row. A claim
    # left by a crashed worker lapses after SEND_LOCK_SECONDS.
    now = timezone.now()
    claimed = (
        SummaryRequest.objects.filter(pk=summary_request.pk, status=Status.APPROVED)
        .filter(
            Q(send_claimed_at__isnull=True)
            | Q(send_claimed_at__lt=now - timedelta(seconds=SEND_LOCK_SECONDS))
        )
        .update(send_claimed_at=now)
    )
    if not claimed:
        if SummaryRequest.objects.filter(pk=summary_request.pk, status=Status.SENT).exists():
            raise SummaryRequestError("This summary has already been sent.")
        raise SummaryRequestError("This summary is being sent right now. Reload the page.")
    try:
        token = secrets.token_urlsafe(32)
        summary_send(summary_request, token=token)
    except Exception as error:
        SummaryRequest.objects.filter(pk=summary_request.pk).update(send_claimed_at=None)
        _audit(
            summary_request,
            "send_failed",
            user=user,
            request=request,
            error=type(error).__name__,
        )
        raise
    with transaction.atomic():
        summary_request.status = Status.SENT
        summary_request.sent_at = timezone.now()
        summary_request.send_claimed_at = None
        summary_request.withdraw_token_hash = _hash_token(token)
        summary_request.full_clean()
        summary_request.save()
        _audit(summary_request, "sent", user=user, request=request)
    return summary_request


@transaction.atomic
def summary_request_decline(
    *,
    summary_request: SummaryRequest,
    user: Any,
    reason: str,
    request: HttpRequest | None = None,
) -> SummaryRequest:
    """Decline a request with a reason (kept, encrypted, until the purge)."""
    _require_editor(user)
    _require_status(
        summary_request,
        {Status.NEW, Status.DRAFTED, Status.IN_REVIEW, Status.APPROVED},
        "declined",
    )
    reason = reason.strip()
    if not reason:
        raise SummaryRequestError("Give a reason for declining.")
    if len(reason) > MAX_REASON_CHARS:
        raise SummaryRequestError(f"Keep the reason under {MAX_REASON_CHARS:,} characters.")
    summary_request.status = Status.DECLINED
    summary_request.declined_at = timezone.now()
    summary_request.decline_reason = reason
    summary_request.full_clean()
    summary_request.save()
    _audit(summary_request, "declined", user=user, request=request)
    return summary_request


def summary_request_for_token(token: str) -> SummaryRequest | None:
    """The request a withdrawal token belongs to, or None (compared by hash only)."""
    if not token or len(token) > 100:
        return None
    # Only non-encrypted columns: withdrawing must work even if a key was lost.
    return (
        SummaryRequest.objects.filter(withdraw_token_hash=_hash_token(token))
        .select_related("topic")
        .only("pk", "public_id", "status", "topic__slug")
        .first()
    )


@transaction.atomic
def summary_request_withdraw(*, token: str) -> bool:
    """Delete the request that the reader's withdrawal link names; False if already gone."""
    summary_request = summary_request_for_token(token)
    if summary_request is None:
        return False
    _audit(summary_request, "withdrawn")  # no IP: see summary_request_submit
    summary_request.delete()
    scrub_deleted_rows_on_commit()
    return True


@transaction.atomic
def summary_request_erase(
    *, summary_request: SummaryRequest, user: Any, request: HttpRequest | None = None
) -> None:
    """Delete a request and all its personal data now (a reader's erasure request)."""
    _require_editor(user)
    _audit(summary_request, "erased", user=user, request=request)
    summary_request.delete()
    # Not only from the table: from the SQLite files too, once no reader needs the old pages.
    scrub_deleted_rows_on_commit()


@transaction.atomic
def summary_requests_erase_for_email(*, email: str) -> int:
    """Delete every request made with `email` (an erasure request handled by an operator).

    Returns how many were deleted; each leaves an "erased" audit event without personal data.
    """
    from .selectors import requests_for_email

    found = requests_for_email(email)
    for summary_request in found:
        _audit(summary_request, "erased", via="command")
        summary_request.delete()
    scrub_deleted_rows_on_commit()
    return len(found)


@transaction.atomic
def summary_request_purge(*, now: datetime | None = None, days: int | None = None) -> int:
    """Delete every request sent or declined at least `days` days ago; returns how many.

    Idempotent: a second run finds nothing. Each deletion leaves an audit event with the
    request's reference, its final status and the retention period: no personal data. Works
    without decrypting anything, so a lost key never blocks the deletion.
    """
    now = now or timezone.now()
    days = settings.SUMMARIES_RETENTION_DAYS if days is None else days
    due = list(
        SummaryRequest.objects.closed_before(now - timedelta(days=days)).values_list(
            "pk", "public_id", "status", "topic__slug"
        )
    )
    for _pk, public_id, status, topic_slug in due:
        audit_record(
            action="summary_request.purged",
            object_type=OBJECT_TYPE,
            object_id=str(public_id),
            detail={"status": status, "topic": topic_slug, "retention_days": days},
        )
    SummaryRequest.objects.filter(pk__in=[row[0] for row in due]).delete()
    # Every run, even with nothing due: it also clears what an earlier erasure left behind
    # because a reader held the database then.
    scrub_deleted_rows_on_commit()
    counters = ratelimit.purge_expired()  # rate-limit windows that have ended
    audit_record(
        action="summary_request.purge_run",
        detail={"deleted": len(due), "days": days, "rate_counters_deleted": counters},
    )
    return len(due)
