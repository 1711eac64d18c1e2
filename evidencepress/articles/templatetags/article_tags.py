"""Template helpers for articles: citation markers, percentages and case-field labels."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import template
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from evidencepress.core.content_version import VersionedMemo, current_version
from evidencepress.evidence.models import ReportedPatient
from evidencepress.evidence.vocabulary import vocabulary_for

register = template.Library()

_SEX_LABELS = dict(ReportedPatient.Sex.choices)
# case_label's kinds -> the topic-defined case field whose vocabulary labels them.
_TOPIC_FIELDS = {
    "setting": "setting",
    "depth": "lesion_depth",
    "response": "response",
    "assessment": "response_assessment",
    "status": "status_at_last_follow_up",
}


def _markers(context: template.Context, ids: Iterable[int]) -> SafeString:
    numbers_by_id: dict[int, int] = getattr(context.get("page"), "citation_numbers", {}) or {}
    numbers = sorted({numbers_by_id[pk] for pk in ids if pk in numbers_by_id})
    if not numbers:
        return SafeString("")
    links = format_html_join(
        ", ", '<a href="#ref-{0}" aria-label="Reference {0}">{0}</a>', ((n,) for n in numbers)
    )
    return format_html('<sup class="cite">[{}]</sup>', links)


@register.simple_tag(takes_context=True)
def cite(context: template.Context, publications: Any) -> SafeString:
    """Superscript reference numbers, e.g. [1, 3], linking to the page's reference list.

    Takes a publication, a list of publications, a primary key or a list of primary keys.
    """
    if publications is None or publications == "":
        return SafeString("")
    items = publications if isinstance(publications, Iterable) else [publications]
    ids = [getattr(item, "pk", item) for item in items if item is not None]
    return _markers(context, [int(pk) for pk in ids if pk is not None])


@register.simple_tag(takes_context=True)
def article_body(context: template.Context) -> SafeString:
    """The page's blocks, each rendered by its own template with this template's context
    (as `{% include_block %}` would), reusing recent HTML only while nothing it shows has
    changed (articles/rendering.py)."""
    from evidencepress.articles.rendering import render_body

    page = context.get("page")
    if page is None or not hasattr(page, "body"):
        return SafeString("")
    return render_body(page, context.flatten())


@register.filter
def percent(value: float | None) -> str:
    """0.4 → '40%'; None → 'not calculable'."""
    if value is None:
        return "not calculable"
    return f"{value:.0%}"


@register.filter
def number(value: float | None) -> str:
    """A computed number without a needless '.0'; None → '—'."""
    if value is None:
        return "—"
    return f"{value:g}" if float(value) != int(value) else str(int(value))


@register.simple_tag(takes_context=True)
def case_label(context: template.Context, value: str, kind: str) -> str:
    """The label of a case value in the topic's own words, e.g. 'complete' → 'Complete response'.

    The topic is the context's `report.topic` (or `topic`); kinds: sex, setting, depth,
    response, assessment, status, adverse_event.
    """
    if kind == "sex":
        return _SEX_LABELS.get(value, value)
    report = context.get("report")
    topic = getattr(report, "topic", None) or context.get("topic")
    if kind == "adverse_event":
        return vocabulary_for(topic).kind_label(value)
    field = _TOPIC_FIELDS.get(kind)
    if field is None:
        return value
    return vocabulary_for(topic).labels_for(field).get(value, value)


@register.simple_tag(takes_context=True)
def field_label(context: template.Context, name: str, default: str) -> str:
    """The topic's own name of a case field ("setting" -> "What the cream was used for")."""
    report = context.get("report")
    topic = getattr(report, "topic", None) or context.get("topic")
    return vocabulary_for(topic).field_label(name, default)


@register.simple_tag(takes_context=True)
def any_improvement_label(context: template.Context) -> str:
    """ "Any improvement (complete or partial)", naming the outcomes the topic counts."""
    from evidencepress.evidence.plots import any_response_label

    report = context.get("report")
    topic = getattr(report, "topic", None) or context.get("topic")
    label = any_response_label(vocabulary_for(topic))
    return label.replace("Any response", "Any improvement", 1)


@register.filter
def yes_no(value: bool | None) -> str:
    return "Not reported" if value is None else ("Yes" if value else "No")


@register.simple_tag
def publication_entry_url(pk: int | str) -> str:
    """The public page of a cited publication."""
    try:
        return reverse("publication_detail", args=[pk])
    except NoReverseMatch:
        return f"/evidence/publications/{pk}/"


_reference_lists = VersionedMemo(size=256)


def _read_by_number(page: Any) -> dict[int, list[Any]]:
    """Reference number -> the passages read in it that the page cites."""
    read = page.read_passages() if hasattr(page, "read_passages") else {}
    return {number: read.get(pk, []) for pk, number in page.citation_numbers.items()}


@register.filter
def read_for(read: dict[int, list[Any]] | None, number: int) -> list[Any]:
    """The passages of reference `number` (includes/references.html)."""
    return (read or {}).get(number, [])


@register.simple_tag(takes_context=True)
def reference_list(context: template.Context, page: Any, id_prefix: str = "ref") -> SafeString:
    """The page's numbered reference list (includes/references.html), rendered once per
    content version (`core.content_version`) and page; a preview is rendered afresh."""
    request = context.get("request")
    version = (
        None
        if getattr(request, "is_preview", False) or page.pk is None
        else current_version(page._state.db or "default")
    )
    html = _reference_lists.get(
        version,
        (page.pk, id_prefix),
        lambda: render_to_string(
            "includes/references.html",
            {
                "page": page,
                "references": page.references(),
                "read": _read_by_number(page),
                "id_prefix": id_prefix,
            },
        ),
    )
    return SafeString(html)
