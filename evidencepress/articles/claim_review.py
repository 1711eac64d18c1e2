"""The claim audit in the review workflow.

- When a page is submitted for review, the audit runs on the submitted revision and its result
  is written to the page's history (`evidencepress.claim_audit`).
- Clinical review cannot approve while findings are open (`SignOffTask.on_action` asks
  `open_findings`), unless a clinician overrides a finding with a written reason
  (`claim_override_record`), which is stored and written to the page's history
  (`evidencepress.claim_override`).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.dispatch import receiver
from wagtail.log_actions import log
from wagtail.signals import workflow_submitted

from .claim_audit import Finding
from .claim_sources import audit_page
from .models import ClaimAuditOverride

LOG_AUDIT = "evidencepress.claim_audit"
LOG_OVERRIDE = "evidencepress.claim_override"
LOG_ACTIONS = (
    (LOG_AUDIT, "Claim audit", "Claim audit run"),
    (LOG_OVERRIDE, "Override claim-audit finding", "Claim-audit finding overridden"),
)


def open_findings(page: Any, findings: tuple[Finding, ...] | None = None) -> list[Finding]:
    """The findings on `page` (its latest revision unless given) no clinician has overridden."""
    if findings is None:
        findings = audit_page(page.get_latest_revision_as_object())
    overridden = set(
        ClaimAuditOverride.objects.filter(page_id=page.pk).values_list("finding_key", flat=True)
    )
    return [f for f in findings if f.key not in overridden]


@transaction.atomic
def claim_override_record(*, page: Any, finding_key: str, reason: str, user: Any) -> Any:
    """Record a clinician's written reason to pass one finding, and log it in the history."""
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": "Give the reason for overriding this finding."})
    if not finding_key.strip():
        raise ValidationError({"finding_key": "Name the finding to override."})
    override, _ = ClaimAuditOverride.objects.update_or_create(
        page_id=page.pk, finding_key=finding_key, defaults={"reason": reason, "user": user}
    )
    log(
        instance=page,
        action=LOG_OVERRIDE,
        user=user,
        data={"finding": finding_key, "reason": reason},
    )
    return override


def record_audit_on_submit(*, page: Any, user: Any) -> list[Finding]:
    """Run the audit on a submitted page and write how many findings are open to its history."""
    found = open_findings(page)
    log(
        instance=page,
        action=LOG_AUDIT,
        user=user,
        data={
            "open_findings": len(found),
            "findings": [{"kind": f.kind, "where": f.where, "sentence": f.sentence} for f in found],
        },
    )
    return found


def clinical_approval_refusal(page: Any, revision_object: Any) -> str | None:
    """Why clinical review may not approve this revision now, or None."""
    found = open_findings(page, audit_page(revision_object))
    if not found:
        return None
    first = found[0]
    return (
        f"The claim audit has {len(found)} open finding(s), e.g. {first.kind} at {first.where}: "
        f'"{first.sentence}". Fix them, or override each with a written reason.'
    )


@receiver(workflow_submitted, dispatch_uid="articles_claim_audit_on_submit")
def audit_on_submit(sender: Any, instance: Any, user: Any = None, **kwargs: Any) -> None:
    """A page was submitted for review: run the claim audit and write it to the history."""
    page = getattr(instance, "content_object", None)
    page = getattr(page, "specific", page)  # the workflow state holds the base Page
    from .models import ArchiveIndexPage, ArticlePage, TopicPage

    if isinstance(page, ArticlePage | TopicPage | ArchiveIndexPage):
        record_audit_on_submit(page=page, user=user)
