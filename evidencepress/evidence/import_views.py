"""The admin upload of a spreadsheet of cases: upload, preview, confirm (docs/cases-spreadsheet.md).

The preview writes nothing. The uploaded file waits in the session until it is confirmed, and
the confirmation carries the preview's fingerprint: the import is refused unless it would do
exactly what the preview showed (same file, same stored cases).
"""

from __future__ import annotations

import base64
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.generic import TemplateView
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin
from wagtail.admin.views.generic.permissions import PermissionCheckedMixin

from evidencepress.core.audit import audit_permission_denied

from .case_import import MAX_FILE_BYTES, CasePlan, plan_case_import
from .models import ReportedPatient, Topic
from .services import CaseImportRefused, import_cases

SESSION_KEY = "evidence_case_import"
# Importing creates and changes cases: the people who may add and change cases.
REQUIRED_PERMISSIONS = ("add", "change")


class CaseUploadForm(forms.Form):
    topic = forms.ModelChoiceField(
        queryset=Topic.objects.all(), empty_label=None, help_text="The cases' topic."
    )
    file = forms.FileField(
        label="Spreadsheet",
        help_text="A .csv or .xlsx file with the columns of the case export (at most 2 MB).",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx,.txt"}),
    )

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_FILE_BYTES:
            raise forms.ValidationError(
                f"{upload.name} is larger than the {MAX_FILE_BYTES:,} bytes allowed; split it."
            )
        return upload


class CaseImportView(PermissionCheckedMixin, WagtailAdminTemplateMixin, TemplateView):
    """Upload a CSV or XLSX of cases, see what it would change, then confirm."""

    model = ReportedPatient
    template_name = "evidence/admin/case_import.html"
    page_title = "Import cases from a spreadsheet"
    header_icon = "upload"
    index_url_name: str | None = None
    _show_sidebar = False

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not all(self._may(request, action) for action in REQUIRED_PERMISSIONS):
            audit_permission_denied(request=request, what="evidence.case_import")
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def _may(self, request: HttpRequest, action: str) -> bool:
        return bool(self.permission_policy.user_has_permission(request.user, action))

    def get_breadcrumbs_items(self) -> list[dict[str, str]]:
        items = list(self.breadcrumbs_items)
        if self.index_url_name:
            items.append({"url": reverse(self.index_url_name), "label": "Reported patients"})
        items.append({"url": "", "label": self.page_title})
        return items

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        request.session.pop(SESSION_KEY, None)
        return self.render_to_response(self.get_context_data(form=CaseUploadForm()))

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if "confirm" in request.POST:
            return self._confirm(request)
        form = CaseUploadForm(request.POST, request.FILES)
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(form=form))
        topic: Topic = form.cleaned_data["topic"]
        upload = form.cleaned_data["file"]
        data = upload.read()
        plan = plan_case_import(topic=topic, data=data, name=upload.name)
        if not plan.errors:
            request.session[SESSION_KEY] = {
                "topic": topic.pk,
                "name": upload.name,
                "data": base64.b64encode(data).decode("ascii"),
            }
        return self.render_to_response(self.get_context_data(form=form, plan=plan))

    def _confirm(self, request: HttpRequest) -> HttpResponse:
        stored = request.session.get(SESSION_KEY)
        if not stored:
            messages.error(request, "The preview has expired; upload the file again.")
            return redirect(request.path)
        topic = Topic.objects.filter(pk=stored["topic"]).first()
        if topic is None:
            messages.error(request, "The topic no longer exists; nothing was imported.")
            return redirect(request.path)
        data = base64.b64decode(stored["data"])
        try:
            result = import_cases(
                topic=topic,
                data=data,
                name=stored["name"],
                request=request,
                expected_fingerprint=request.POST.get("fingerprint", ""),
            )
        except CaseImportRefused as refused:
            request.session.pop(SESSION_KEY, None)
            messages.error(request, str(refused))
            form = CaseUploadForm(initial={"topic": topic})
            return self.render_to_response(
                self.get_context_data(form=form, plan=refused.plan, refused=True)
            )
        request.session.pop(SESSION_KEY, None)
        messages.success(
            request,
            f"{stored['name']} imported into {topic}: {result.created} new, "
            f"{result.changed} changed, {result.unchanged} unchanged.",
        )
        return redirect(reverse(self.index_url_name) if self.index_url_name else request.path)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        plan: CasePlan | None = kwargs.get("plan")
        if plan is not None:
            context.update(
                counts=plan.counts,
                new_cases=[c for c in plan.cases if c.action == "new"],
                changed_cases=[c for c in plan.cases if c.action == "changed"],
                unchanged_cases=[c for c in plan.cases if c.action == "unchanged"],
                can_confirm=not plan.errors and not kwargs.get("refused"),
            )
        context["max_bytes"] = MAX_FILE_BYTES
        return context
