"""Admin view: a page's claim-audit findings, and a clinician's override with a written reason."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from wagtail.models import Page

from .claim_review import claim_override_record, open_findings
from .models import ClaimAuditOverride
from .signoff import SignOffStep, SignOffTask


def can_override(user: Any) -> bool:
    """Members of the group that takes Clinical review (superusers too only if members)."""
    tasks = SignOffTask.objects.filter(step=SignOffStep.CLINICAL_REVIEW, active=True)
    return any(task._in_group(user) for task in tasks)


def claim_audit_review(request: HttpRequest, page_id: int) -> HttpResponse:
    page = get_object_or_404(Page, pk=page_id).specific
    if not page.permissions_for_user(request.user).can_edit() and not can_override(request.user):
        raise PermissionDenied
    findings = open_findings(page)
    if request.method == "POST":
        if not can_override(request.user):
            raise PermissionDenied("Only clinician reviewers may override a finding.")
        key = request.POST.get("finding_key", "")
        if key not in {f.key for f in findings}:
            messages.error(request, "That finding is no longer open in the saved text.")
        else:
            try:
                claim_override_record(
                    page=page,
                    finding_key=key,
                    reason=request.POST.get("reason", ""),
                    user=request.user,
                )
            except ValidationError as error:
                messages.error(request, " ".join(error.messages))
            else:
                messages.success(request, "The override and its reason are in the page history.")
        return redirect("claim_audit_review", page_id=page.pk)
    return TemplateResponse(
        request,
        "articles/claim_audit_review.html",
        {
            "page": page,
            "findings": findings,
            "overrides": ClaimAuditOverride.objects.filter(page_id=page.pk),
            "can_override": can_override(request.user),
        },
    )
