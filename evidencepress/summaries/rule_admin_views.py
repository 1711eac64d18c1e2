"""The admin of each topic's safety rules, in the Summary editors' area (issue #15 §2).

Summary editors see every version and edit the draft (or start one from the approved rules);
a clinician reviewer approves a draft (evidence.rulesets checks the permission and that the
approver did not edit it). Every change is audited by the services.
"""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_POST
from django.views.generic import TemplateView
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin

from evidencepress.evidence import rulesets
from evidencepress.evidence.models import SafetyRuleSet, Topic

from .admin_views import summary_editor_required

Status = SafetyRuleSet.Status


class RulesForm(forms.Form):
    rules = forms.CharField(
        label="Rules (JSON)",
        widget=forms.Textarea(attrs={"rows": 30, "spellcheck": "false"}),
        help_text="A list of rules: id, title, when, statements, flag. The format is in "
        "docs/topic-definition.md and docs/summaries.md. Statements are what the draft must "
        "say, word for word: plain words, no doses, nothing the evidence does not support.",
    )
    note = forms.CharField(label="What changed and why", required=False, max_length=1000)

    def clean_rules(self) -> Any:
        text = self.cleaned_data["rules"]
        try:
            return json.loads(text)
        except json.JSONDecodeError as error:
            raise forms.ValidationError(
                f"The rules are not valid JSON (line {error.lineno}, column {error.colno}): "
                f"{error.msg}."
            ) from None


class RulesIndexView(WagtailAdminTemplateMixin, TemplateView):
    template_name = "summaries/admin/rules_index.html"
    page_title = "Safety rules of each topic"
    header_icon = "warning"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        rows = []
        for topic in Topic.objects.order_by("name"):
            sets = {s.status: s for s in topic.safety_rule_sets.exclude(status=Status.RETIRED)}
            rows.append((topic, sets.get(Status.APPROVED), sets.get(Status.DRAFT)))
        context["rows"] = rows
        return context


class TopicRulesView(WagtailAdminTemplateMixin, TemplateView):
    template_name = "summaries/admin/rules_topic.html"
    header_icon = "warning"

    def get_page_title(self) -> str:
        return f"Safety rules: {self.topic.name}"

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        self.topic = get_object_or_404(Topic, slug=kwargs["slug"])
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        versions = list(self.topic.safety_rule_sets.select_related("edited_by", "approved_by"))
        active = next((v for v in versions if v.status == Status.APPROVED), None)
        draft = next((v for v in versions if v.status == Status.DRAFT), None)
        start = draft or active
        initial = json.dumps(start.rules if start else [], indent=2, ensure_ascii=False)
        context.update(
            topic=self.topic,
            versions=versions,
            active=active,
            draft=draft,
            form=kwargs.get("form") or RulesForm(initial={"rules": initial}),
            can_approve=rulesets.can_approve_rules(self.request.user),
            Status=Status,
        )
        return context


rules_index = summary_editor_required(RulesIndexView.as_view())
topic_rules = summary_editor_required(TopicRulesView.as_view())


@summary_editor_required
@require_POST
def save_rules(request: HttpRequest, slug: str) -> HttpResponse:
    topic = get_object_or_404(Topic, slug=slug)
    form = RulesForm(request.POST)
    if not form.is_valid():
        for error in form.errors.get("rules", []):
            messages.error(request, error)
        return redirect("summaries_rules:topic", slug=topic.slug)
    rules, note = form.cleaned_data["rules"], form.cleaned_data["note"]
    draft = topic.safety_rule_sets.filter(status=Status.DRAFT).first()
    try:
        if draft is not None:
            rulesets.safety_rules_edit(
                rule_set=draft, rules=rules, user=request.user, note=note, request=request
            )
            messages.success(request, f"Draft version {draft.version} saved.")
        else:
            made = rulesets.safety_rules_propose(
                topic=topic, rules=rules, user=request.user, note=note, request=request
            )
            if made is None:
                messages.info(request, "Nothing changed: these are the current rules.")
            else:
                messages.success(request, f"Draft version {made.version} saved.")
    except rulesets.SafetyRulesError as error:
        messages.error(request, str(error))
    return redirect("summaries_rules:topic", slug=topic.slug)


@summary_editor_required
@require_POST
def approve_rules(request: HttpRequest, slug: str, version: int) -> HttpResponse:
    rule_set = get_object_or_404(SafetyRuleSet, topic__slug=slug, version=version)
    try:
        rulesets.safety_rules_approve(rule_set=rule_set, user=request.user, request=request)
        messages.success(request, f"Version {version} approved: drafts now use these rules.")
    except (rulesets.SafetyRulesError, PermissionError) as error:
        messages.error(request, str(error))
    return redirect("summaries_rules:topic", slug=slug)


def rule_urls() -> list[Any]:
    from django.urls import path

    return [
        path("", rules_index, name="index"),
        path("<slug:slug>/", topic_rules, name="topic"),
        path("<slug:slug>/save/", save_rules, name="save"),
        path("<slug:slug>/<int:version>/approve/", approve_rules, name="approve"),
    ]
