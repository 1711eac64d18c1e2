"""Read-only JSON API for published topics: the synthesis and the case table (docs/api.md).

    GET /api/v1/topics/                      published topics (paginated)
    GET /api/v1/topics/<slug>/               synthesis, certainty, appraisal, research gaps
    GET /api/v1/topics/<slug>/cases/?page=N  the case table, one row per patient (paginated)
    GET /api/v1/openapi.json                 the OpenAPI 3.1 description of all this

Only published topics (`published.published_topics`) are visible; anything else is a 404.
Rows carry the documented export columns (docs/data-dictionary.md): never curator notes,
appraisers' names or anything about readers. Every response says when demonstration cases are
included. Each client address may make `EVIDENCE_API_RATE_LIMIT` requests (default 60 a minute,
a fixed window counted by `core.ratelimit` in a store all processes share); past it the
answer is 429 with Retry-After.
The views are thin: they parse the query, call `published` or `topic_reports`, and shape JSON.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.paginator import EmptyPage, Paginator
from django.db.models import Count, Max, Q
from django.http import HttpRequest, HttpResponse, HttpResponsePermanentRedirect, JsonResponse
from django.urls import Resolver404, path, re_path, resolve, reverse
from django.views.decorators.csrf import csrf_exempt

from evidencepress.core import ratelimit
from evidencepress.core.exceptions import RateLimitUnavailable

from . import notices
from .certainty import Certainty
from .exceptions import ApiError
from .export import COLUMNS, case_queryset, case_row
from .models import Topic
from .published import published_topic, published_topics
from .services import latest_snapshot, snapshot_difference, snapshot_report
from .synthesis import RESPONSES as RESPONSE_KEYS
from .topic_reports import CaseFilters, TopicReport, topic_report

app_name = "evidence_api"
logger = logging.getLogger(__name__)

PAGE_SIZE = 50
DEMO_NOTICE = (
    "Includes demonstration data: invented, illustrative cases that are not medical evidence. "
    "Rows and cases with demonstration_data / is_demo true are not real patients."
)
NOT_ADVICE = notices.NOT_ADVICE_FULL
DEFAULT_RATE_LIMIT = (60, 60)  # requests, seconds
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


def _json(data: dict[str, Any], status: int = 200) -> JsonResponse:
    response = JsonResponse(data, status=status, json_dumps_params={"ensure_ascii": False})
    response["Cache-Control"] = "public, max-age=60" if status == 200 else "no-store"
    return response


def _error(status: int, message: str) -> JsonResponse:
    return _json({"error": {"status": status, "message": message}}, status=status)


# --- rate limit -----------------------------------------------------------------------------


def _rate_limit() -> tuple[int, int]:
    count, seconds = getattr(settings, "EVIDENCE_API_RATE_LIMIT", DEFAULT_RATE_LIMIT)
    return int(count), int(seconds)


View = Callable[..., HttpResponse]
ALLOWED_METHODS = ("GET", "HEAD")


def _not_allowed(request: HttpRequest) -> JsonResponse:
    # Every method the document does not declare (POST, OPTIONS, QUERY, ...): 405, as JSON.
    allowed = ", ".join(ALLOWED_METHODS)
    response = _error(405, f"Method {request.method} is not allowed here; use {allowed}.")
    response["Allow"] = allowed
    return response


def api_view(view: View) -> View:
    """GET/HEAD only, rate-limited per client address, errors as JSON."""

    # csrf_exempt: nothing here changes state, and CSRF's 403 page would otherwise answer an
    # undeclared method (POST, QUERY, ...) before the 405 below could.
    @csrf_exempt  # nosemgrep (read-only API: GET/HEAD only, no cookies acted on)
    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.method not in ALLOWED_METHODS:
            return _not_allowed(request)
        limit, seconds = _rate_limit()
        address = request.META.get("REMOTE_ADDR", "") or "unknown"
        try:
            decision = ratelimit.hit("evidence-api", address, limit=limit, seconds=seconds)
        except RateLimitUnavailable as error:
            # Public data only: serve it uncounted rather than fail while the store is down.
            logger.error("API request not counted: %s", error)
            decision = ratelimit.Decision(allowed=True, count=0, retry_after=0)
        if not decision.allowed:
            wait = decision.retry_after
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
    if not raw.isdigit() or int(raw) < 1:
        raise ApiError(400, f"page must be a whole number from 1 (got {raw!r}).")
    return int(raw)


def _include_demo(request: HttpRequest) -> bool:
    raw = request.GET.get("include_demo", "true").lower()
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
    return _json(_with_notices(data, any(row["demo_patients"] for row in rows)))


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
    return _json(_with_notices(data, demo))


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
        "columns": dict(COLUMNS),
        "cases": [case_row(patient) for patient in page.object_list],
    }
    return _json(_with_notices(data, totals["demo"] > 0))


@api_view
def openapi(request: HttpRequest) -> HttpResponse:
    """The OpenAPI 3.1 description of this API."""
    server = request.build_absolute_uri("/api/v1")
    return _json(openapi_document(server=server))


# --- OpenAPI 3.1 ------------------------------------------------------------------------------

_NUMBER_OR_NULL = {"type": ["number", "null"]}
_INTEGER_OR_NULL = {"type": ["integer", "null"]}
_BOOLEAN_OR_NULL = {"type": ["boolean", "null"]}
# Export columns that are not plain strings (docs/data-dictionary.md gives their meaning).
_COLUMN_TYPES: dict[str, dict[str, Any]] = {
    "case_id": {"type": "integer"},
    "demonstration_data": {"type": "boolean"},
    "verified": {"type": "boolean"},
    "publication_year": _INTEGER_OR_NULL,
    "age": _INTEGER_OR_NULL,
    "lesion_size_mm": _INTEGER_OR_NULL,
    "lesion_count": _INTEGER_OR_NULL,
    "surgery_candidate": _BOOLEAN_OR_NULL,
    "occlusion": _BOOLEAN_OR_NULL,
    "recurrence": _BOOLEAN_OR_NULL,
    "treatment_stopped_early": _BOOLEAN_OR_NULL,
    "regimen_frequency_per_week": _NUMBER_OR_NULL,
    "regimen_duration_weeks": _NUMBER_OR_NULL,
    "time_to_response_weeks": _NUMBER_OR_NULL,
    "follow_up_months": _NUMBER_OR_NULL,
    "recurrence_months": _NUMBER_OR_NULL,
}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _object(properties: dict[str, Any], description: str = "") -> dict[str, Any]:
    schema: dict[str, Any] = {
        "type": "object",
        "properties": properties,
        "required": sorted(properties),
    }
    if description:
        schema["description"] = description
    return schema


def _schemas() -> dict[str, Any]:
    integer = {"type": "integer", "minimum": 0}
    notices = {
        "includes_demonstration_data": {"type": "boolean"},
        "notice": {"type": "string", "description": "Information, not advice."},
    }
    demo_notice = {
        "type": "string",
        "description": "Present only when demonstration (invented) cases are included.",
    }
    page = {
        "count": integer,
        "page": {"type": "integer", "minimum": 1},
        "pages": {"type": "integer", "minimum": 1},
        "page_size": {"type": "integer", "minimum": 1},
        "next": {"type": ["string", "null"], "format": "uri"},
        "previous": {"type": ["string", "null"], "format": "uri"},
    }
    links = _object(
        {"self": {"type": "string", "format": "uri"}, "cases": {"type": "string", "format": "uri"}}
    )
    date = {"type": ["string", "null"], "format": "date-time"}

    evidence: dict[str, Any] = {
        "evidence_date": date,
        "synthesis": _ref("Synthesis"),
        "certainty": _object(
            {
                "level": {"type": "string", "enum": ["very low"]},
                "wording": {"type": "string"},
                "explanation": {"type": "string"},
                "domains": {
                    "type": "array",
                    "items": _object(
                        {
                            "name": {"type": "string"},
                            "serious": {"type": "boolean"},
                            "reason": {"type": "string"},
                        }
                    ),
                },
            }
        ),
        "appraisal": _object(
            {
                "publications": integer,
                "appraised": integer,
                "meeting_checklist": integer,
                "items": {
                    "type": "array",
                    "items": _object(
                        {
                            "item": {"type": "string"},
                            "label": {"type": "string"},
                            "yes": integer,
                            "no": integer,
                            "unclear": integer,
                            "not_applicable": integer,
                        }
                    ),
                },
            }
        ),
        "research_gaps": {
            "type": "array",
            "items": _object(
                {
                    "key": {"type": "string"},
                    "question": {"type": "string"},
                    "informed": integer,
                    "total": integer,
                    "detail": {"type": "string"},
                }
            ),
        },
    }

    def with_demo_notice(schema: dict[str, Any]) -> dict[str, Any]:
        schema["properties"]["demonstration_notice"] = demo_notice
        return schema

    return {
        "Proportion": _object(
            {
                "count": integer,
                "total": integer,
                "proportion": _NUMBER_OR_NULL,
                "ci_low": _NUMBER_OR_NULL,
                "ci_high": _NUMBER_OR_NULL,
            },
            "count of total, with the exact (Clopper–Pearson) 95% interval; null when total is 0",
        ),
        "Distribution": _object(
            {
                "reported": integer,
                "median": _NUMBER_OR_NULL,
                "q1": _NUMBER_OR_NULL,
                "q3": _NUMBER_OR_NULL,
                "min": _NUMBER_OR_NULL,
                "max": _NUMBER_OR_NULL,
            },
            "median, quartiles and range over the patients who reported the value",
        ),
        "AdverseEvents": _object(
            {
                "kind": {"type": "string"},
                "patients": integer,
                "events": integer,
                "by_severity": {"type": "object", "additionalProperties": integer},
                "led_to_stop": integer,
            }
        ),
        "Synthesis": _object(
            {
                "publications": integer,
                "patients": integer,
                "demo_patients": integer,
                "includes_demonstration_data": {"type": "boolean"},
                "responses": _object(
                    {name: _ref("Proportion") for name in RESPONSE_KEYS},
                    "one entry per response category",
                ),
                "any_response": _ref("Proportion"),
                "time_to_response_weeks": _ref("Distribution"),
                "follow_up_months": _ref("Distribution"),
                "recurrence_among_responders": _ref("Proportion"),
                "adverse_events": {"type": "array", "items": _ref("AdverseEvents")},
                "patients_with_adverse_events": _ref("Proportion"),
                "missing": {
                    "type": "object",
                    "additionalProperties": integer,
                    "description": "per field, the number of patients whose report omits it",
                },
                "evidence_date": date,
                "filters": {"type": "object"},
            }
        ),
        "TopicSummary": _object(
            {
                "slug": {"type": "string"},
                "name": {"type": "string"},
                "treatment": {"type": "string"},
                "condition": {"type": "string"},
                "patients": integer,
                "publications": integer,
                "demo_patients": integer,
                "evidence_date": date,
                "links": links,
            }
        ),
        "TopicList": with_demo_notice(
            _object({**page, **notices, "topics": {"type": "array", "items": _ref("TopicSummary")}})
        ),
        "TopicDetail": with_demo_notice(
            _object(
                {
                    **notices,
                    "topic": _object(
                        {
                            "slug": {"type": "string"},
                            "name": {"type": "string"},
                            "treatment": {"type": "string"},
                            "condition": {"type": "string"},
                            "description": {"type": "string"},
                        }
                    ),
                    "reviewed_evidence": {
                        "oneOf": [{"type": "null"}, _ref("ReviewedEvidence")],
                        "description": "What the published pages show; null before any review.",
                    },
                    "current_evidence": _ref("CurrentEvidence"),
                    "links": links,
                }
            )
        ),
        "ReviewedEvidence": _object(
            {
                "label": {"type": "string"},
                "reviewed_by": {"type": "string"},
                "reviewed_at": {"type": "string", "format": "date-time"},
                **evidence,
            },
            "the evidence as a clinician last reviewed it",
        ),
        "CurrentEvidence": _object(
            {
                "label": {"type": "string"},
                "differs_from_reviewed": {"type": "boolean"},
                "waiting_for_review": {"type": "string"},
                "changes": {"type": "string"},
                **evidence,
            },
            "the evidence as it is now",
        ),
        "Case": _object(
            {
                name: {**_COLUMN_TYPES.get(name, {"type": "string"}), "description": description}
                for name, description in COLUMNS
            },
            "one reported patient; columns as in docs/data-dictionary.md",
        ),
        "CasePage": with_demo_notice(
            _object(
                {
                    **page,
                    **notices,
                    "topic": {"type": "string"},
                    "label": {"type": "string"},
                    "evidence_date": date,
                    "columns": {"type": "object", "additionalProperties": {"type": "string"}},
                    "cases": {"type": "array", "items": _ref("Case")},
                }
            )
        ),
        "Error": _object(
            {"error": _object({"status": {"type": "integer"}, "message": {"type": "string"}})}
        ),
    }


def _response(description: str, schema: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _ref(schema)}}}


_ERRORS: dict[str, Any] = {
    "400": _response("A query parameter is not valid.", "Error"),
    "404": _response("No such published topic, or no such page.", "Error"),
    "429": {
        **_response("Too many requests from this address.", "Error"),
        "headers": {
            "Retry-After": {
                "description": "Seconds until requests are accepted again.",
                "schema": {"type": "integer", "minimum": 1},
            }
        },
    },
}
_PARAMETERS: dict[str, Any] = {
    "slug": {
        "name": "slug",
        "in": "path",
        "required": True,
        "description": "The topic's slug, as listed by /topics/.",
        "schema": {"type": "string", "pattern": "^[-a-zA-Z0-9_]+$"},
    },
    "page": {
        "name": "page",
        "in": "query",
        "required": False,
        "description": f"Page number, from 1; {PAGE_SIZE} items a page.",
        "schema": {"type": "integer", "minimum": 1, "default": 1},
    },
    "include_demo": {
        "name": "include_demo",
        "in": "query",
        "required": False,
        "description": "false leaves out demonstration (invented) cases.",
        "schema": {"type": "boolean", "default": True},
    },
}


def _operation(
    operation_id: str, summary: str, parameters: list[str], schema: str
) -> dict[str, Any]:
    return {
        "get": {
            "operationId": operation_id,
            "summary": summary,
            "parameters": [{"$ref": f"#/components/parameters/{name}"} for name in parameters],
            "responses": {"200": _response(summary, schema), **_ERRORS},
        }
    }


def openapi_document(*, server: str) -> dict[str, Any]:
    """The OpenAPI 3.1 description of the API, built from the same constants as the views."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "EvidencePress evidence API",
            "version": "1.0.0",
            "summary": "Read-only numbers and case tables for published topics.",
            "description": (
                "Counts, proportions with exact 95% intervals, certainty and the case table of "
                "each published topic, computed from curated case reports. "
                f"{NOT_ADVICE} Cases flagged as demonstration data are invented. "
                f"Each client address may make {_rate_limit()[0]} requests every "
                f"{_rate_limit()[1]} seconds. Only GET and HEAD are answered: any other method "
                "gets 405 with an Allow header, and a path not listed here gets 404, both with "
                "an Error body."
            ),
            "license": {"name": "AGPL-3.0-or-later", "identifier": "AGPL-3.0-or-later"},
        },
        "servers": [{"url": server}],
        "paths": {
            "/topics/": _operation("listTopics", "Published topics", ["page"], "TopicList"),
            "/topics/{slug}/": _operation(
                "getTopic",
                "The synthesis of one topic's cases",
                ["slug", "include_demo"],
                "TopicDetail",
            ),
            "/topics/{slug}/cases/": _operation(
                "listCases",
                "The topic's case table, one row per patient",
                ["slug", "page", "include_demo"],
                "CasePage",
            ),
            "/openapi.json": {
                "get": {
                    "operationId": "getOpenApi",
                    "summary": "This description",
                    "responses": {
                        "200": {
                            "description": "The OpenAPI document.",
                            "content": {"application/json": {"schema": {"type": "object"}}},
                        },
                        "429": _ERRORS["429"],
                    },
                }
            },
        },
        "components": {"schemas": _schemas(), "parameters": _PARAMETERS},
    }


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


urlpatterns = [
    path("topics/", topic_list, name="topics"),
    path("topics/<slug:slug>/", topic_detail, name="topic"),
    path("topics/<slug:slug>/cases/", case_list, name="cases"),
    path("openapi.json", openapi, name="openapi"),
    re_path(r"^(?P<rest>.*)$", not_found, name="not_found"),  # keep last
]
