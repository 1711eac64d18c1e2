"""The shapes the API answers with, as pydantic models, and the OpenAPI document built from them.

Every view builds its answer through one of these models (`respond` in views.py), so an answer
that does not fit its model fails loudly instead of reaching a client, and the document's
`components.schemas` are the models' own JSON Schemas (`pydantic.json_schema.models_json_schema`,
serialization mode): the document describes exactly what the views send. Models forbid extra
keys, so a field added to a view without a model change fails the tests
(tests/evidence/test_api.py, tests/evidence/test_api_fuzz.py).

Numbers that may have decimals are floats (a whole number is sent as e.g. `12.0`). Dates are
ISO 8601 strings as the views write them. The document is OpenAPI 3.1, whose schemas are JSON
Schema 2020-12, the dialect pydantic writes.
"""

from __future__ import annotations

import functools
import json
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, NonNegativeInt, PositiveInt, create_model
from pydantic.json_schema import models_json_schema

from ..export import COLUMNS

PAGE_SIZE = 50
REF_TEMPLATE = "#/components/schemas/{model}"

# Strings with a JSON Schema format: sent exactly as the views write them.
Uri = Annotated[str, Field(json_schema_extra={"format": "uri"})]
DateTime = Annotated[str, Field(json_schema_extra={"format": "date-time"})]
Ratio = Annotated[float, Field(ge=0, le=1)]


class Shape(BaseModel):
    """Base of every answer's model: no key but those declared; every declared key is sent;
    every value of its declared type."""

    # strict: no value is converted on the way out (text "12" for a number fails, as it would
    # fail a client reading the document).
    model_config = ConfigDict(
        extra="forbid",
        strict=True,
        frozen=True,
        json_schema_serialization_defaults_required=True,
    )


class ErrorDetail(Shape):
    status: int = Field(ge=400, le=599, description="The HTTP status, repeated.")
    message: str = Field(description="What went wrong, in plain words.")


class Error(Shape):
    """Every error: a bad parameter (400), no such topic, page or path (404), a method other than
    GET or HEAD (405), too many requests (429)."""

    error: ErrorDetail


def _absent_or_text(schema: dict[str, Any]) -> None:
    """A key that is left out rather than sent as null: when present, it is text."""
    schema.pop("anyOf", None)
    schema.pop("default", None)
    schema["type"] = "string"


class Notices(Shape):
    """What every answer carries about its data."""

    includes_demonstration_data: bool
    demonstration_notice: str | None = Field(
        default=None,
        exclude_if=lambda value: value is None,
        json_schema_extra=_absent_or_text,
        description="Present only when demonstration (invented) cases are included.",
    )
    notice: str = Field(description="Information, not advice.")


class Paginated(Shape):
    count: NonNegativeInt
    page: PositiveInt
    pages: PositiveInt
    page_size: PositiveInt
    next: Uri | None
    previous: Uri | None


class TopicLinks(Shape):
    self: Uri
    cases: Uri


class TopicSummary(Shape):
    slug: str
    name: str
    treatment: str
    condition: str
    patients: NonNegativeInt
    publications: NonNegativeInt
    demo_patients: NonNegativeInt
    evidence_date: DateTime | None
    links: TopicLinks


class TopicList(Paginated, Notices):
    """Published topics, PAGE_SIZE a page."""

    topics: list[TopicSummary]


class Proportion(Shape):
    """count of total, with the exact (Clopper–Pearson) 95% interval; null when total is 0."""

    count: NonNegativeInt
    total: NonNegativeInt
    proportion: Ratio | None
    ci_low: Ratio | None
    ci_high: Ratio | None


class Distribution(Shape):
    """Median, quartiles and range over the patients who reported the value."""

    reported: NonNegativeInt
    median: float | None
    q1: float | None
    q3: float | None
    min: float | None
    max: float | None


class AdverseEvents(Shape):
    kind: str
    patients: NonNegativeInt
    events: NonNegativeInt
    by_severity: dict[str, NonNegativeInt]
    led_to_stop: NonNegativeInt


# One entry per response category of the topic's vocabulary (its outcomes), each a Proportion:
# the keys are the topic's own values (evidence.vocabulary.vocabulary_for).
Responses = dict[str, Proportion]


class Synthesis(Shape):
    publications: NonNegativeInt
    patients: NonNegativeInt
    demo_patients: NonNegativeInt
    includes_demonstration_data: bool
    responses: Responses = Field(
        description="One entry per response category of the topic's vocabulary."
    )
    any_response: Proportion
    time_to_response_weeks: Distribution
    follow_up_months: Distribution
    recurrence_among_responders: Proportion
    adverse_events: list[AdverseEvents]
    patients_with_adverse_events: Proportion
    missing: dict[str, NonNegativeInt] = Field(
        description="Per field, the number of patients whose report omits it."
    )
    evidence_date: DateTime | None
    filters: dict[str, str | bool] = Field(description="The case filters the numbers used.")


class CertaintyDomain(Shape):
    name: str
    serious: bool
    reason: str


class Certainty(Shape):
    level: Literal["very low"]  # case reports and series start, and stay, at very low (GRADE)
    wording: str
    explanation: str
    domains: list[CertaintyDomain]


class AppraisalItem(Shape):
    item: str
    label: str
    yes: NonNegativeInt
    no: NonNegativeInt
    unclear: NonNegativeInt
    not_applicable: NonNegativeInt


class Appraisal(Shape):
    publications: NonNegativeInt
    appraised: NonNegativeInt
    meeting_checklist: NonNegativeInt
    items: list[AppraisalItem]


class ResearchGap(Shape):
    key: str
    question: str
    informed: NonNegativeInt
    total: NonNegativeInt
    detail: str


class Evidence(Shape):
    """The numbers, certainty, appraisal and research gaps of one report."""

    evidence_date: DateTime | None
    synthesis: Synthesis
    certainty: Certainty
    appraisal: Appraisal
    research_gaps: list[ResearchGap]


class ReviewedEvidence(Evidence):
    """The evidence as a clinician last reviewed it (what the published pages show)."""

    label: str
    reviewed_by: str
    reviewed_at: DateTime


class CurrentEvidence(Evidence):
    """The evidence as it is now."""

    label: str
    differs_from_reviewed: bool
    waiting_for_review: str
    changes: str


class TopicInfo(Shape):
    slug: str
    name: str
    treatment: str
    condition: str
    description: str


class TopicDetail(Notices):
    """A published topic's evidence twice, each labelled: reviewed and current."""

    topic: TopicInfo
    reviewed_evidence: ReviewedEvidence | None = Field(
        description="What the published pages show; null before any review."
    )
    current_evidence: CurrentEvidence
    links: TopicLinks


# Export columns that are not plain text (docs/data-dictionary.md gives their meaning); every
# other column is a string ("" when not reported).
_COLUMN_TYPES: dict[str, Any] = {
    "case_id": int,
    "demonstration_data": bool,
    "verified": bool,
    "publication_year": int | None,
    "age": NonNegativeInt | None,
    "lesion_size_mm": NonNegativeInt | None,
    "lesion_count": NonNegativeInt | None,
    "surgery_candidate": bool | None,
    "occlusion": bool | None,
    "recurrence": bool | None,
    "treatment_stopped_early": bool | None,
    "regimen_frequency_per_week": float | None,
    "regimen_duration_weeks": float | None,
    "time_to_response_weeks": float | None,
    "follow_up_months": float | None,
    "recurrence_months": float | None,
}

# One reported patient: the export columns (export.COLUMNS), in their order.
Case = create_model(  # type: ignore[call-overload]
    "Case",
    __base__=Shape,
    __doc__="One reported patient; columns as in docs/data-dictionary.md.",
    **{
        name: (_COLUMN_TYPES.get(name, str), Field(description=description))
        for name, description in COLUMNS
    },
)


class CasePage(Paginated, Notices):
    """The case table of a published topic, PAGE_SIZE rows a page."""

    topic: str
    label: str
    evidence_date: DateTime | None
    columns: dict[str, str] = Field(
        description="Each column's meaning; topic-defined columns list the topic's values."
    )
    labels: dict[str, dict[str, str]] = Field(
        description="For each topic-defined column: value -> the topic's label."
    )
    cases: list[Case]  # type: ignore[valid-type]


# The answers of the operations, and the shared error answer: the document's components.
ANSWERS: tuple[type[BaseModel], ...] = (TopicList, TopicDetail, CasePage, Error)


# --- the OpenAPI document ---------------------------------------------------------------------


def _ref(model: type[BaseModel]) -> dict[str, str]:
    return {"$ref": REF_TEMPLATE.format(model=model.__name__)}


def _answer(description: str, model: type[BaseModel]) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _ref(model)}}}


_TOO_MANY: dict[str, Any] = {
    **_answer("Too many requests from this address.", Error),
    "headers": {
        "Retry-After": {
            "description": "Seconds until requests are accepted again.",
            "required": True,
            "schema": {"type": "integer", "minimum": 1},
        }
    },
}
_ERRORS: dict[str, Any] = {
    "400": _answer("A query parameter is not valid.", Error),
    "404": _answer("No such published topic, or no such page.", Error),
    "429": _TOO_MANY,
}
PARAMETERS: dict[str, Any] = {
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
    operation_id: str, summary: str, parameters: list[str], model: type[BaseModel]
) -> dict[str, Any]:
    return {
        "get": {
            "operationId": operation_id,
            "summary": summary,
            "parameters": [{"$ref": f"#/components/parameters/{name}"} for name in parameters],
            "responses": {"200": _answer(summary, model), **_ERRORS},
        }
    }


@functools.cache
def component_schemas() -> dict[str, Any]:
    """The JSON Schemas of every answer and of the models they are made of, by model name."""
    _, top = models_json_schema(
        [(model, "serialization") for model in ANSWERS], ref_template=REF_TEMPLATE
    )
    schemas: dict[str, Any] = top["$defs"]
    return schemas


def openapi_document(*, server: str, rate_limit: tuple[int, int], notice: str) -> dict[str, Any]:
    """The OpenAPI 3.1 description of the API (`server`: the API's base URL)."""
    requests, seconds = rate_limit
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "EvidencePress evidence API",
            "version": "1.0.0",
            "summary": "Read-only numbers and case tables for published topics.",
            "description": (
                "Counts, proportions with exact 95% intervals, certainty and the case table of "
                "each published topic, computed from curated case reports. "
                f"{notice} Cases flagged as demonstration data are invented. "
                f"Each client address may make {requests} requests every {seconds} seconds. "
                "Only GET and HEAD are answered: any other method gets 405 with an Allow "
                "header, and a path not listed here gets 404, both with an Error body."
            ),
            "license": {"name": "AGPL-3.0-or-later", "identifier": "AGPL-3.0-or-later"},
        },
        "servers": [{"url": server}],
        "paths": {
            "/topics/": _operation("listTopics", "Published topics", ["page"], TopicList),
            "/topics/{slug}/": _operation(
                "getTopic",
                "The synthesis of one topic's cases",
                ["slug", "include_demo"],
                TopicDetail,
            ),
            "/topics/{slug}/cases/": _operation(
                "listCases",
                "The topic's case table, one row per patient",
                ["slug", "page", "include_demo"],
                CasePage,
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
                        "429": _TOO_MANY,
                    },
                }
            },
        },
        "components": {"schemas": component_schemas(), "parameters": PARAMETERS},
    }


def json_text(document: dict[str, Any]) -> str:
    """The document as JSON text (UTF-8 characters as they are)."""
    return json.dumps(document, ensure_ascii=False)
