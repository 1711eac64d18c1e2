"""The review queue in the Wagtail admin. Thin: each POST calls one service.

Every URL here is wrapped by Wagtail's require_admin_access (anonymous → login) and checks
can_access_requests (others → permission denied, audited). Every view, edit, export and action
on a request is audited by the services or here.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST
from django.views.generic import TemplateView
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin

from evidencepress.core.audit import audit_permission_denied, audit_record
from evidencepress.evidence.topic_definition import Question

from . import services
from .access import can_access_requests, can_approve_clinically
from .delivery import DeliveryFailed, summary_pdf
from .forms import SURGERY_CHOICES, questionnaire_for
from .models import SummaryRequest

Status = SummaryRequest.Status


def summary_editor_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not can_access_requests(request.user):
            # Rate-limited per user: refusals cannot flood the audit log (core/audit.py).
            audit_permission_denied(
                action="summary_request.permission_denied",
                request=request,
                what=view.__name__,
                object_type="summary_request",
                object_id=str(kwargs.get("public_id", "")),
            )
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return never_cache(wrapped)


def _get(public_id: Any) -> SummaryRequest:
    return get_object_or_404(SummaryRequest.objects.select_related("topic"), public_id=public_id)


def _answer_label(question: Question, value: Any) -> str:
    """A reader's answer to one of the topic's questions, in the words they chose it by."""
    if value in (None, "", []):
        return "Not given"
    if question.kind == "choice":
        return next((o.label for o in question.options if o.value == value), str(value))
    if question.kind == "yes_no":
        return dict(SURGERY_CHOICES).get(str(value), str(value))
    return str(value)


class DraftForm(forms.Form):
    text = forms.CharField(
        label="Summary text",
        max_length=services.MAX_DRAFT_CHARS,
        widget=forms.Textarea(attrs={"rows": 24}),
        help_text=(
            "Plain text. Separate paragraphs with a blank line; start a heading with “## ”, list "
            "lines with “- ”, numbered lines with “1. ”."
        ),
    )


class DeclineForm(forms.Form):
    reason = forms.CharField(
        label="Reason for declining",
        max_length=services.MAX_REASON_CHARS,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class QueueView(WagtailAdminTemplateMixin, TemplateView):
    template_name = "summaries/admin/index.html"
    page_title = "Summary requests"
    header_icon = "doc-full"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        status = self.request.GET.get("status", "")
        if status not in Status.values:
            status = ""
        # Only unencrypted columns: the listing never decrypts anyone's data.
        requests = (
            SummaryRequest.objects.with_status(status)
            .select_related("topic")
            .only("public_id", "status", "submitted_at", "draft_grade", "topic__name", "detail")
        )
        context.update(
            requests=requests,
            status=status,
            statuses=Status.choices,
        )
        audit_record(
            action="summary_request.listed",
            request=self.request,
            object_type="summary_request",
            detail={"status": status or "all"},
        )
        return context


def safety_checklist(summary_request: SummaryRequest) -> list[dict[str, Any]]:
    """The safety rules this request met, why, and whether the draft says each statement."""
    from .safety import missing_statements
    from .selectors import request_fired_rules

    fired = request_fired_rules(summary_request)
    missing = missing_statements(fired, summary_request.drafted_text or "")
    return [
        {
            "rule": rule,
            "statements": [(s, s not in missing.get(rule.id, ())) for s in rule.statements],
            "complete": rule.id not in missing,
        }
        for rule in fired
    ]


class DetailView(WagtailAdminTemplateMixin, TemplateView):
    template_name = "summaries/admin/detail.html"
    header_icon = "doc-full"

    def get_page_title(self) -> str:
        return f"Summary request {self.object.reference}"

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        self.object = _get(kwargs["public_id"])
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        from .rendering import text_to_html

        context = super().get_context_data(**kwargs)
        summary_request = self.object
        answers = summary_request.situation or {}
        situation = [
            (
                "Who it is for",
                "Someone they care for" if answers.get("for_whom") == "other" else "Themself",
            ),
            *(
                (question.label, _answer_label(question, answers.get(question.key)))
                for question in questionnaire_for(summary_request.topic)
            ),
            (
                "Treatments before",
                ", ".join(answers.get("prior_treatments") or []) or "None ticked",
            ),
            ("Other treatments before", answers.get("prior_treatments_other") or "—"),
            ("Treatments now", ", ".join(answers.get("current_treatments") or []) or "None ticked"),
            ("Other treatments now", answers.get("current_treatments_other") or "—"),
            ("Their question", answers.get("question") or "—"),
            ("Detail wanted", summary_request.get_detail_display()),
        ]
        user = self.request.user
        context.update(
            summary_request=summary_request,
            situation=situation,
            draft_form=DraftForm(initial={"text": summary_request.drafted_text}),
            decline_form=DeclineForm(),
            preview_html=text_to_html(summary_request.drafted_text),
            matches=summary_request.draft_matches or [],
            can_approve_clinically=can_approve_clinically(user),
            safety_checklist=safety_checklist(summary_request),
            Status=Status,
        )
        # A draft from the evidence stores its matches as a list, even an empty one.
        context["drafted_from_evidence"] = isinstance(summary_request.draft_matches, list)
        audit_record(
            action="summary_request.viewed",
            request=self.request,
            object_type="summary_request",
            object_id=str(summary_request.public_id),
            detail={"status": summary_request.status},
        )
        return context


queue = summary_editor_required(QueueView.as_view())
detail = summary_editor_required(DetailView.as_view())

ACTIONS = (
    "draft",
    "save",
    "review",
    "approve_editor",
    "approve_clinician",
    "send",
    "decline",
    "erase",
)


@summary_editor_required
@sensitive_post_parameters("text", "reason")
@require_POST
def action(request: HttpRequest, public_id: Any, name: str) -> HttpResponse:
    summary_request = _get(public_id)
    back = redirect("summaries_admin:detail", public_id=summary_request.public_id)
    user = request.user
    try:
        if name == "draft":
            services.summary_request_draft(
                summary_request=summary_request, user=user, request=request
            )
            messages.success(request, "Drafted from the evidence.")
        elif name == "save":
            form = DraftForm(request.POST)
            if not form.is_valid():
                messages.error(request, "The summary text is empty or too long.")
                return back
            services.summary_request_draft(
                summary_request=summary_request,
                user=user,
                text=form.cleaned_data["text"],
                request=request,
            )
            messages.success(request, "Summary saved. Earlier approvals, if any, were withdrawn.")
        elif name == "review":
            services.summary_request_review(
                summary_request=summary_request, user=user, request=request
            )
            messages.success(request, "Sent for review.")
        elif name in ("approve_editor", "approve_clinician"):
            role = name.removeprefix("approve_")
            services.summary_request_approve(
                summary_request=summary_request, user=user, role=role, request=request
            )
            messages.success(request, f"Your {role} approval is recorded.")
        elif name == "send":
            services.summary_request_send(
                summary_request=summary_request, user=user, request=request
            )
            messages.success(request, "The summary was emailed.")
        elif name == "decline":
            form = DeclineForm(request.POST)
            if not form.is_valid():
                messages.error(request, "Give a reason for declining (up to 1,000 characters).")
                return back
            services.summary_request_decline(
                summary_request=summary_request,
                user=user,
                reason=form.cleaned_data["reason"],
                request=request,
            )
            messages.success(request, "The request was declined.")
        elif name == "erase":
            services.summary_request_erase(
                summary_request=summary_request, user=user, request=request
            )
            messages.success(request, "The request and all its personal data were deleted.")
            return redirect("summaries_admin:index")
        else:
            raise PermissionDenied
    except services.SummaryRequestError as error:
        messages.error(request, str(error))
    except DeliveryFailed:
        messages.error(
            request,
            "The email could not be sent. The request is still approved; nothing was lost. "
            "Try again later.",
        )
    except PermissionError as error:
        messages.error(request, str(error))
    return back


@summary_editor_required
def pdf(request: HttpRequest, public_id: Any) -> HttpResponse:
    summary_request = _get(public_id)
    if not summary_request.drafted_text:
        messages.error(request, "There is no summary to export yet.")
        return redirect("summaries_admin:detail", public_id=summary_request.public_id)
    audit_record(
        action="summary_request.exported",
        request=request,
        object_type="summary_request",
        object_id=str(summary_request.public_id),
        detail={"format": "pdf", "status": summary_request.status},
    )
    response = HttpResponse(summary_pdf(summary_request), content_type="application/pdf")
    response["Content-Disposition"] = (
        f'attachment; filename="summary-{summary_request.reference}.pdf"'
    )
    return response


def admin_urls() -> list[Any]:
    from django.urls import path

    return [
        path("", queue, name="index"),
        path("<uuid:public_id>/", detail, name="detail"),
        path("<uuid:public_id>/pdf/", pdf, name="pdf"),
        path("<uuid:public_id>/<str:name>/", action, name="action"),
    ]


def queue_url() -> str:
    return reverse("summaries_admin:index")
