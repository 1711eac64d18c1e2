"""The API's views: parse the query, ask `published` or `topic_reports`, answer through a model.

    GET /api/v1/topics/                      published topics (paginated)
    GET /api/v1/topics/<slug>/               synthesis, certainty, appraisal, research gaps
    GET /api/v1/topics/<slug>/cases/?page=N  the case table, one row per patient (paginated)
    GET /api/v1/openapi.json                 the OpenAPI 3.1 description of all this

Only published topics (`published.published_topics`) are visible; anything else is a 404.
Rows carry the documented export columns (docs/data-dictionary.md): never curator notes,
appraisers' names or anything about readers. Every answer says when demonstration cases are
included. Every answer, errors included, is built by a model of `schema.py`, the models the
OpenAPI document is generated from.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.core.paginator import EmptyPage, Paginator
from django.db.models import Count, Max, Q
from django.http import HttpRequest, HttpResponse, HttpResponsePermanentRedirect
from django.urls import Resolver404, resolve, reverse
from django.views.decorators.csrf import csrf_exempt
from pydantic import BaseModel

from .. import notices
from ..certainty import Certainty
from ..exceptions import ApiError
from ..export import case_queryset, case_row, columns_for, value_labels
from ..models import Topic
from ..published import published_topic, published_topics
from ..services import latest_snapshot, snapshot_difference, snapshot_report
from ..topic_reports import CaseFilters, TopicReport, topic_report
from . import schema, throttling
from .schema import PAGE_SIZE

DEMO_NOTICE = (
    "Includes demonstration data: invented, illustrative cases that are not medical evidence. "
    "Rows and cases with demonstration_data / is_demo true are not real patients."
)
NOT_ADVICE = notices.NOT_ADVICE_FULL
REVIEWED_LABEL = (
    "Clinically reviewed evidence: the topic's evidence as a clinician last approved it in "
    "Clinical review; published pages show reviewed evidence only."
)
CURRENT_CHANGED_LABEL = (
    "Current evidence: includes changes not yet clinically reviewed; the published pages "
    "still show the reviewed evidence."
)
CURRENT_SAME_LABEL = "Current evidence: the same as the clinically reviewed evidence."
CASES_LABEL = (
    "The current case table: it may include new or corrected cases not yet clinically "
    "reviewed (see the topic's reviewed_evidence)."
)
ALLOWED_METHODS = ("GET", "HEAD")

View = Callable[..., HttpResponse]


def _send(body: str | bytes, status: int) -> HttpResponse:
    response = HttpResponse(body, status=status, content_type="application/json")
    response["Cache-Control"] = "public, max-age=60" if status == 200 else "no-store"
    return response


def respond(model: type[BaseModel], data: dict[str, Any], status: int = 200) -> HttpResponse:
    """`data` checked against `model` (extra or missing keys, wrong types: an error, never an
    answer that differs from the document) and sent as its JSON."""
    return _send(model.model_validate(data).model_dump_json(), status)


def _error(status: int, message: str) -> HttpResponse:
    return respond(schema.Error, {"error": {"status": status, "message": message}}, status)


def _not_allowed(request: HttpRequest) -> HttpResponse:
    # Every method the document does not declare (POST, OPTIONS, QUERY, ...): 405, as JSON.
    allowed = ", ".join(ALLOWED_METHODS)
    response = _error(405, f"Method {request.method} is not allowed here; use {allowed}.")
    response["Allow"] = allowed
    return response


def api_view(view: View) -> View:
    """GET/HEAD only, rate-limited per client address (throttling.py), errors as JSON."""

    # csrf_exempt: nothing here changes state, and CSRF's 403 page would otherwise answer an
    # undeclared method (POST, QUERY, ...) before the 405 below could.
    @csrf_exempt  # nosemgrep (read-only API: GET/HEAD only, no cookies acted on)
    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.method not in ALLOWED_METHODS:
            return _not_allowed(request)
        wait = throttling.seconds_to_wait(request)
        if wait is not None:
            response = _error(429, f"Too many requests: try again in {wait} seconds.")
            response["Retry-After"] = str(wait)
            return response
        try:
            return view(request, *args, **kwargs)
        except ApiError as error:
            return _error(error.status, error.message)

    return wrapper


# --- query parameters -----------------------------------------------------------------------


def _page_number(request: HttpRequest) -> int:
    raw = request.GET.get("page", "1")
    if not (raw.isascii() and raw.isdigit()) or int(raw) < 1:
        raise ApiError(400, f"page must be a whole number from 1 (got {raw!r}).")
    return int(raw)


def _include_demo(request: HttpRequest) -> bool:
    raw = request.GET.get("include_demo", "true")
    if raw not in ("true", "false"):
        raise ApiError(400, f"include_demo must be true or false (got {raw!r}).")
    return raw == "true"


def _topic(slug: str) -> Topic:
    topic = published_topic(slug)
    if topic is None:
        raise ApiError(404, f"No published topic {slug!r}.")
    return topic


def _page(request: HttpRequest, items: Any) -> tuple[Any, dict[str, Any]]:
    paginator = Paginator(items, PAGE_SIZE)
    number = _page_number(request)
    try:
        page = paginator.page(number)
    except EmptyPage:
        raise ApiError(
            404, f"There is no page {number}; the last is {paginator.num_pages}."
        ) from None
    base = request.build_absolute_uri(request.path)
    extra = "" if _include_demo(request) else "&include_demo=false"

    def link(n: int) -> str:
        return f"{base}?page={n}{extra}"

    meta = {
        "count": paginator.count,
        "page": page.number,
        "pages": paginator.num_pages,
        "page_size": PAGE_SIZE,
        "next": link(page.next_page_number()) if page.has_next() else None,
        "previous": link(page.previous_page_number()) if page.has_previous() else None,
    }
    return page, meta


def _with_notices(data: dict[str, Any], includes_demo: bool) -> dict[str, Any]:
    data["includes_demonstration_data"] = includes_demo
    if includes_demo:
        data["demonstration_notice"] = DEMO_NOTICE
    data["notice"] = NOT_ADVICE
    return data


# --- views ----------------------------------------------------------------------------------


def _topic_links(request: HttpRequest, topic: Topic) -> dict[str, str]:
    return {
        "self": request.build_absolute_uri(reverse("evidence_api:topic", args=[topic.slug])),
        "cases": request.build_absolute_uri(reverse("evidence_api:cases", args=[topic.slug])),
    }


@api_view
def topic_list(request: HttpRequest) -> HttpResponse:
    """Published topics with their case counts and evidence date."""
    topics = published_topics().annotate(
        patient_count=Count("patients", distinct=True),
        demo_count=Count("patients", filter=Q(patients__is_demo=True), distinct=True),
        publication_count=Count("patients__publication", distinct=True),
        latest=Max("patients__updated_at"),
    )
    page, meta = _page(request, topics)
    rows = [
        {
            "slug": topic.slug,
            "name": topic.name,
            "treatment": topic.treatment,
            "condition": topic.condition,
            "patients": topic.patient_count,
            "publications": topic.publication_count,
            "demo_patients": topic.demo_count,
            "evidence_date": topic.latest.isoformat() if topic.latest else None,
            "links": _topic_links(request, topic),
        }
        for topic in page.object_list
    ]
    data = {**meta, "topics": rows}
    return respond(schema.TopicList, _with_notices(data, any(row["demo_patients"] for row in rows)))


def _certainty(certainty: Certainty) -> dict[str, Any]:
    return {
        "level": certainty.level,
        "wording": certainty.wording,
        "explanation": certainty.explanation,
        "domains": [
            {"name": d.name, "serious": d.serious, "reason": d.reason} for d in certainty.domains
        ],
    }


def _evidence(report: TopicReport) -> dict[str, Any]:
    """The numbers, certainty, appraisal and research gaps of one report."""
    synthesis = report.synthesis
    appraisal = report.appraisal
    return {
        "evidence_date": synthesis.evidence_date.isoformat() if synthesis.evidence_date else None,
        "synthesis": synthesis.as_dict(),
        "certainty": _certainty(report.certainty),
        "appraisal": {
            "publications": appraisal.publications,
            "appraised": appraisal.appraised,
            "meeting_checklist": appraisal.meeting_checklist,
            "items": [
                {
                    "item": i.item,
                    "label": i.label,
                    "yes": i.yes,
                    "no": i.no,
                    "unclear": i.unclear,
                    "not_applicable": i.not_applicable,
                }
                for i in appraisal.items
            ],
        },
        "research_gaps": [
            {
                "key": g.key,
                "question": g.question,
                "informed": g.informed,
                "total": g.total,
                "detail": g.detail,
            }
            for g in report.gaps
        ],
    }


@api_view
def topic_detail(request: HttpRequest, slug: str) -> HttpResponse:
    """A published topic's evidence twice, each labelled: as a clinician last reviewed it (what
    the published pages show) and as it is now (possibly with changes waiting for review)."""
    topic = _topic(slug)
    include_demo = _include_demo(request)
    current = topic_report(topic, CaseFilters(include_demo=include_demo))
    snapshot = latest_snapshot(topic)
    reviewed: dict[str, Any] | None = None
    difference = None
    if snapshot is not None:
        reviewed = {
            "label": REVIEWED_LABEL,
            "reviewed_by": snapshot.reviewer_name,
            "reviewed_at": snapshot.taken_at.isoformat(),
            **_evidence(snapshot_report(snapshot, include_demo=include_demo)),
        }
        difference = snapshot_difference(snapshot)
    differs = difference is None or difference.changed
    data = {
        "topic": {
            "slug": topic.slug,
            "name": topic.name,
            "treatment": topic.treatment,
            "condition": topic.condition,
            "description": topic.description,
        },
        "reviewed_evidence": reviewed,
        "current_evidence": {
            "label": CURRENT_CHANGED_LABEL if differs else CURRENT_SAME_LABEL,
            "differs_from_reviewed": differs,
            "waiting_for_review": (
                difference.plain_words
                if difference is not None
                else "This evidence has not been clinically reviewed yet."
            ),
            "changes": difference.numbers_text if difference is not None else "",
            **_evidence(current),
        },
        "links": _topic_links(request, topic),
    }
    demo = current.synthesis.demo_patients > 0 or bool(
        reviewed and reviewed["synthesis"]["demo_patients"]
    )
    return respond(schema.TopicDetail, _with_notices(data, demo))


@api_view
def case_list(request: HttpRequest, slug: str) -> HttpResponse:
    """The case table of a published topic, one row per patient, PAGE_SIZE rows a page."""
    topic = _topic(slug)
    patients = case_queryset(topic, include_demo=_include_demo(request))
    totals = patients.aggregate(latest=Max("updated_at"), demo=Count("pk", filter=Q(is_demo=True)))
    page, meta = _page(request, patients)
    data = {
        "topic": topic.slug,
        "label": CASES_LABEL,
        "evidence_date": totals["latest"].isoformat() if totals["latest"] else None,
        **meta,
        "columns": dict(columns_for(topic)),
        "labels": value_labels(topic),
        "cases": [case_row(patient) for patient in page.object_list],
    }
    return respond(schema.CasePage, _with_notices(data, totals["demo"] > 0))


@api_view
def openapi(request: HttpRequest) -> HttpResponse:
    """The OpenAPI 3.1 description of this API, generated from the answers' models."""
    document = schema.openapi_document(
        server=request.build_absolute_uri("/api/v1"),
        rate_limit=throttling.rate_limit(),
        notice=NOT_ADVICE,
    )
    return _send(schema.json_text(document), 200)


@csrf_exempt  # nosemgrep (read-only API: answers 404 whatever the method)
def not_found(request: HttpRequest, rest: str = "") -> HttpResponse:
    """Any other path under /api/v1/: the API's JSON 404 (not the site's HTML page).

    A path that names a route but lacks its trailing slash is redirected there, as Django's
    APPEND_SLASH would have done before this catch-all matched everything."""
    path_info = request.path_info
    if not path_info.endswith("/"):
        try:
            match = resolve(path_info + "/")
        except Resolver404:
            match = None
        if match is not None and match.url_name != "not_found":
            query = request.META.get("QUERY_STRING", "")
            target = request.path + "/" + (f"?{query}" if query else "")
            return HttpResponsePermanentRedirect(target)
    return _error(404, "No such API path: see /api/v1/openapi.json for the paths there are.")
