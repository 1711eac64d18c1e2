"""Admin views for the evidence base: the per-topic evidence summary editors read.

The view is thin: it reads the optional case filters, asks `topic_reports.topic_report` for every
number, and turns the frozen result into rows for the template. Nothing here computes a
statistic; it only formats what the synthesis returned.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from importlib import import_module
from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe
from django.views.generic import TemplateView
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin
from wagtail.admin.views.generic.permissions import PermissionCheckedMixin

from .forms import SummaryFilterForm
from .models import ReportedPatient, Topic
from .synthesis import Distribution, Proportion
from .topic_reports import CaseFilters, TopicReport, topic_report
from .vocabulary import Vocabulary, vocabulary_for

logger = logging.getLogger(__name__)


def percent(value: float | None) -> str:
    """A proportion as a percentage with one decimal, e.g. 0.1466 -> "14.7%"."""
    return "—" if value is None else f"{value * 100:.1f}%"


def number(value: float | None) -> str:
    """A median or range end without trailing zeros, e.g. 8.0 -> "8", 12.5 -> "12.5"."""
    return "—" if value is None else f"{value:g}"


@dataclass(frozen=True)
class ProportionRow:
    label: str
    count: int
    total: int
    percent: str
    ci: str

    @classmethod
    def from_share(cls, label: str, share: Proportion) -> ProportionRow:
        ci = "—" if share.ci_low is None else f"{percent(share.ci_low)} to {percent(share.ci_high)}"
        return cls(label, share.count, share.total, percent(share.proportion), ci)


@dataclass(frozen=True)
class DistributionRow:
    label: str
    unit: str
    reported: int
    of: int
    median: str
    iqr: str
    range: str

    @classmethod
    def from_values(
        cls, label: str, unit: str, values: Distribution, out_of: int
    ) -> DistributionRow:
        iqr = "—" if values.q1 is None else f"{number(values.q1)} to {number(values.q3)}"
        spread = (
            "—"
            if values.minimum is None
            else f"{number(values.minimum)} to {number(values.maximum)}"
        )
        return cls(label, unit, values.reported, out_of, number(values.median), iqr, spread)


# Case fields whose model verbose name does not carry the unit.
_FIELD_LABELS = {
    "time_to_response_weeks": "Time to response (weeks)",
    "follow_up_months": "Follow-up (months)",
    "status_at_last_follow_up": "Status at last follow-up",
}


def field_label(name: str, vocabulary: Vocabulary | None = None) -> str:
    """The editor-facing name of a case field, as in the patient form (a topic-defined field
    by the topic's own name for it, when it has one)."""
    if vocabulary is not None and name in vocabulary.field_labels:
        return vocabulary.field_labels[name]
    if name in _FIELD_LABELS:
        return _FIELD_LABELS[name]
    try:
        return str(ReportedPatient._meta.get_field(name).verbose_name).capitalize()
    except FieldDoesNotExist:  # a synthesis-only key
        return name.replace("_", " ").capitalize()


def summary_context(report: TopicReport) -> dict[str, Any]:
    """Rows for the summary template, formatted from the report and nothing else."""
    synthesis = report.synthesis
    vocabulary = vocabulary_for(report.topic)
    response_labels = vocabulary.labels_for("response")
    status_labels = vocabulary.labels_for("status_at_last_follow_up")
    severity_labels = vocabulary.labels_for("severity")
    responders = synthesis.any_response.count
    return {
        "responses": [
            ProportionRow.from_share(response_labels.get(name, name), share)
            for name, share in synthesis.responses.items()
        ],
        "any_response": ProportionRow.from_share(
            any_improvement_label(vocabulary), synthesis.any_response
        ),
        "recurrence": ProportionRow.from_share(
            "Recurrence among responders (where reported)", synthesis.recurrence_among_responders
        ),
        "with_adverse_events": ProportionRow.from_share(
            "Patients with at least one adverse event", synthesis.patients_with_adverse_events
        ),
        "distributions": [
            DistributionRow.from_values(
                "Time to response (responders)",
                "weeks",
                synthesis.time_to_response_weeks,
                responders,
            ),
            DistributionRow.from_values(
                "Follow-up", "months", synthesis.follow_up_months, synthesis.patients
            ),
        ],
        "adverse_events": [
            {
                "kind": event.kind.capitalize(),
                "patients": event.patients,
                "events": event.events,
                "severity": "; ".join(
                    f"{severity_labels.get(severity, severity)}: {count}"
                    for severity, count in event.by_severity.items()
                    if count
                ),
                "led_to_stop": event.led_to_stop,
            }
            for event in synthesis.adverse_events
        ],
        "missing": sorted(
            ((field_label(name, vocabulary), count) for name, count in synthesis.missing.items()),
            key=lambda item: (-item[1], item[0]),
        ),
        "cases": [
            {
                "label": case.label,
                "is_demo": case.is_demo,
                "response": response_labels.get(case.response, case.response),
                "duration": number(_float(case.regimen_duration_weeks)),
                "time_to_response": number(_float(case.time_to_response_weeks)),
                "follow_up": number(_float(case.follow_up_months)),
                "recurrence": {True: "Yes", False: "No"}.get(case.recurrence, "Not reported"),
                "status": status_labels.get(case.status_at_last_follow_up, ""),
            }
            for case in report.cases
        ],
    }


def any_improvement_label(vocabulary: Vocabulary) -> str:
    """ "Any response (complete or partial)": the outcomes that count as improvement, in the
    topic's words."""
    return vocabulary.any_response_label()


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


def plot_figures(report: TopicReport) -> dict[str, Any]:
    """The swimmer plot and response chart as SVG, when the plots module is installed.

    `plots` returns sanitised SVG (no scripts, no event handlers), so it is marked safe here.
    Without it, or when drawing fails (logged with its traceback), the page still shows the same
    data as tables, with a note: a broken chart must not hide the numbers from editors.
    """
    try:
        plots = import_module("evidencepress.evidence.plots")
    except ImportError:
        return {"available": False}
    swimmer = getattr(plots, "swimmer_plot_svg", None)
    chart = getattr(plots, "response_chart_svg", None)
    if swimmer is None or chart is None:
        return {"available": False}
    name = report.topic.name
    vocabulary = vocabulary_for(report.topic)
    try:
        return {
            "available": True,
            "swimmer": _svg(
                swimmer(report.cases, title=f"Each patient's course: {name}", vocabulary=vocabulary)
            ),
            "responses": _svg(
                chart(
                    report.synthesis,
                    title=f"Responses with 95% intervals: {name}",
                    vocabulary=vocabulary,
                )
            ),
        }
    except Exception:
        logger.exception("could not draw the plots of topic %s", report.topic.slug)
        return {"available": False, "failed": True}


def _svg(markup: str) -> SafeString:
    # plots.py draws this SVG itself from numbers and escaped labels; it carries no script.
    return mark_safe(markup)  # noqa: S308  # nosemgrep


class TopicSummaryView(PermissionCheckedMixin, WagtailAdminTemplateMixin, TemplateView):
    """Everything computed about one topic's cases, for editors (GET filters narrow the cases)."""

    model = Topic
    any_permission_required = ["add", "change", "delete", "view"]
    template_name = "evidence/admin/topic_summary.html"
    page_title = "Evidence summary"
    header_icon = "table"
    index_url_name: str | None = None
    edit_url_name: str | None = None

    def setup(self, request: Any, *args: Any, **kwargs: Any) -> None:
        super().setup(request, *args, **kwargs)
        self.object = get_object_or_404(Topic, pk=kwargs["pk"])

    def get_page_subtitle(self) -> str:
        return self.object.name

    def get_breadcrumbs_items(self) -> list[dict[str, str]]:
        items = list(self.breadcrumbs_items)
        if self.index_url_name:
            items.append({"url": reverse(self.index_url_name), "label": "Topics"})
        if self.edit_url_name:
            items.append(
                {
                    "url": reverse(self.edit_url_name, args=[self.object.pk]),
                    "label": str(self.object),
                }
            )
        items.append({"url": "", "label": self.page_title, "sublabel": self.object.name})
        return items

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        form = SummaryFilterForm(self.request.GET or None, topic=self.object)
        filters = form.case_filters() if form.is_valid() else CaseFilters()
        report = topic_report(self.object, filters)
        context.update(
            topic=self.object,
            form=form,
            report=report,
            synthesis=report.synthesis,
            certainty=report.certainty,
            appraisal=report.appraisal,
            gaps=report.gaps,
            plots=plot_figures(report),
            **summary_context(report),
        )
        return context


@dataclass(frozen=True)
class HistoryRow:
    """One recorded change, as the history table shows it."""

    when: Any
    who: str
    action: str
    kind: str
    what: str
    changes: list[tuple[str, Any, Any]]
    reason: str


class TopicHistoryView(TopicSummaryView):
    """Every recorded change to a topic's evidence (who, when, from → to, why), newest first,
    with the clinically reviewed evidence and how the current evidence differs from it."""

    template_name = "evidence/admin/topic_history.html"
    page_title = "Evidence history"
    header_icon = "history"
    paginate_by = 50

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        from django.core.paginator import Paginator

        from .history import ACTIONS, topic_history, topic_imports
        from .services import latest_snapshot, snapshot_difference

        # The admin page's own context, without the summary's numbers (TopicSummaryView's).
        context = super(TopicSummaryView, self).get_context_data(**kwargs)
        labels = {action: label for action, label, _ in ACTIONS}
        page = Paginator(topic_history(self.object), self.paginate_by).get_page(
            self.request.GET.get("p")
        )
        rows = []
        for entry in page.object_list:
            data = entry.data or {}
            rows.append(
                HistoryRow(
                    when=entry.timestamp,
                    who=entry.user.get_username() if entry.user_id and entry.user else "System",
                    action=labels.get(entry.action, entry.action),
                    kind=str(entry.content_type.name).capitalize() if entry.content_type else "",
                    what=data.get("object") or entry.label,
                    changes=[
                        (name, values[0], values[1])
                        for name, values in (data.get("changes") or {}).items()
                        if isinstance(values, list) and len(values) == 2
                    ],
                    reason=data.get("reason", ""),
                )
            )
        snapshot = latest_snapshot(self.object)
        context.update(
            topic=self.object,
            rows=rows,
            page_obj=page,
            snapshot=snapshot,
            difference=snapshot_difference(snapshot) if snapshot else None,
            imports=topic_imports(self.object),
            reviews=self.object.snapshots.only(
                "taken_at", "reviewer_name", "evidence_date", "numbers"
            ).order_by("-taken_at", "-pk")[:50],
        )
        return context


class TopicDefinitionView(TopicSummaryView):
    """A topic's definition (vocabulary, questionnaire, wording...) as a file's text, editable
    by those who may change topics, with every version recorded (evidence.topics)."""

    template_name = "evidence/admin/topic_definition.html"
    page_title = "Topic definition"
    header_icon = "code"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        from .forms import TopicDefinitionForm
        from .topics import export_definition

        # The admin page's own context, without the summary's numbers (TopicSummaryView's).
        context = super(TopicSummaryView, self).get_context_data(**kwargs)
        form = kwargs.get("form") or TopicDefinitionForm(
            initial={"definition": export_definition(self.object)}
        )
        context.update(
            topic=self.object,
            form=form,
            problems=kwargs.get("problems", []),
            can_change=self._can_change(),
            versions=self.object.versions.select_related("created_by"),
        )
        return context

    def _can_change(self) -> bool:
        return bool(self.user_has_permission("change"))

    def post(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        from django.contrib import messages
        from django.core.exceptions import PermissionDenied
        from django.shortcuts import redirect

        from .forms import TopicDefinitionForm
        from .topic_definition import TopicDefinitionError
        from .topics import load_definition_text

        if not self._can_change():
            raise PermissionDenied
        form = TopicDefinitionForm(request.POST, request.FILES)
        problems: list[str] = []
        if form.is_valid():
            data = form.cleaned_data
            try:
                _, version = load_definition_text(
                    data["text"],
                    source=data["source"],
                    user=request.user,
                    note=data["note"] or "Edited in the admin",
                    expected_slug=self.object.slug,
                )
            except TopicDefinitionError as error:
                problems = error.problems
                form.add_error(None, f"Not saved, nothing was changed: {len(problems)} problem(s).")
            else:
                if version is None:
                    messages.info(request, "The definition is unchanged: no new version.")
                else:
                    messages.success(request, f"Version {version.number} of the definition saved.")
                return redirect(request.path)
        return self.render_to_response(self.get_context_data(form=form, problems=problems))
