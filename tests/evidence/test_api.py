"""The read-only JSON API: published topics only, paginated, rate-limited, no private data."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import factory
import pytest
from django.db import connection
from django.test import Client
from django.urls import resolve
from uritemplate import URITemplate
from wagtail.models import Page, PageViewRestriction

from evidencepress.articles.evidence_pins import page_evidence_pin_live
from evidencepress.articles.models import ArticlePage, HomePage, TopicPage
from evidencepress.demo.loader import ensure_home_page
from evidencepress.evidence.export import COLUMNS
from evidencepress.evidence.models import (
    Appraisal,
    Topic,
)
from evidencepress.evidence.published import published_topics
from evidencepress.evidence.topic_reports import summarise_topic

from ..factories import (
    AdverseEventFactory,
    PublicationFactory,
    ReportedPatientFactory,
    TopicFactory,
)

pytestmark = pytest.mark.django_db
SECRET = "CURATOR-ONLY-NOTE"


@pytest.fixture
def home(wagtail_tree: Page) -> HomePage:
    ensure_home_page()
    return HomePage.objects.get()


def make_topic(slug: str, *, cases: int = 3, demo: int = 1) -> Topic:
    topic = TopicFactory(name=f"Topic {slug}", slug=slug, treatment="T", condition="C")
    real = PublicationFactory(
        title=f"Series {slug}", pmid=str(abs(hash(slug)) % 10**8), notes=SECRET
    )
    Appraisal.objects.create(publication=real, demographics="yes", appraiser="Dr Secret Appraiser")
    for patient in ReportedPatientFactory.create_batch(
        cases,
        publication=real,
        topic=topic,
        label=factory.Iterator([f"Case {i + 1:03d}" for i in range(cases)]),
        response=factory.Iterator(["complete", "partial", "progression", "stable"]),
        follow_up_months=Decimal("12.5"),
        curator_notes=SECRET,
    ):
        AdverseEventFactory(patient=patient)
    if demo:
        series = PublicationFactory(title=f"Demonstration series {slug}", is_demo=True)
        ReportedPatientFactory.create_batch(
            demo,
            publication=series,
            topic=topic,
            is_demo=True,
            label=factory.Iterator([f"Illustrative case {i}" for i in range(demo)]),
        )
    return topic


def publish_topic_page(home: HomePage, topic: Topic, *, live: bool = True) -> TopicPage:
    page = TopicPage(title=topic.name, slug=topic.slug, topic=topic)
    home.add_child(instance=page)
    if live:
        page.save_revision().publish()
    else:
        page.live = False
        page.save()
    return page


def get(client: Client, url: str, **extra: Any) -> tuple[int, dict[str, Any]]:
    response = client.get(url, **extra)
    assert response["Content-Type"] == "application/json"
    return response.status_code, json.loads(response.content)


@pytest.fixture
def published(home: HomePage) -> Topic:
    topic = make_topic("imiquimod-as")
    page = publish_topic_page(home, topic)
    page_evidence_pin_live(page=page, reviewer_name="Dr Reviewer")
    return topic


def test_only_topics_with_a_live_public_page_are_published(home: HomePage) -> None:
    listed = make_topic("listed")
    topic_page = publish_topic_page(home, listed)
    make_topic("no-page")
    draft = make_topic("draft-only")
    publish_topic_page(home, draft, live=False)
    private = make_topic("private")
    private_page = publish_topic_page(home, private)
    PageViewRestriction.objects.create(page=private_page, restriction_type="login")
    via_article = make_topic("via-article")
    article = ArticlePage(
        title="An article", slug="an-article", topic=via_article, summary="About it."
    )
    topic_page.add_child(instance=article)
    article.save_revision().publish()

    assert {t.slug for t in published_topics()} == {"listed", "via-article"}
    client = Client()
    status, data = get(client, "/api/v1/topics/")
    assert status == 200
    assert [t["slug"] for t in data["topics"]] == ["listed", "via-article"]
    for slug in ("no-page", "draft-only", "private", "nothing-at-all"):
        status, data = get(client, f"/api/v1/topics/{slug}/")
        assert status == 404 and data["error"]["message"] == f"No published topic {slug!r}."
        assert get(client, f"/api/v1/topics/{slug}/cases/")[0] == 404


def test_topic_detail_is_the_synthesis_with_its_date_and_demo_notice(published: Topic) -> None:
    status, data = get(Client(), "/api/v1/topics/imiquimod-as/")
    assert status == 200
    expected = json.loads(json.dumps(summarise_topic(published).as_dict()))
    for key in ("reviewed_evidence", "current_evidence"):
        evidence = data[key]
        assert evidence["synthesis"] == expected
        assert evidence["synthesis"]["patients"] == 4
        assert evidence["synthesis"]["any_response"]["count"] == 3
        assert evidence["evidence_date"] == expected["evidence_date"] is not None
        assert evidence["certainty"]["level"] == "very low"
        assert evidence["appraisal"]["appraised"] == 1
        assert evidence["research_gaps"][0]["total"] == 4
    assert data["reviewed_evidence"]["label"].startswith("Clinically reviewed evidence")
    assert data["reviewed_evidence"]["reviewed_by"] == "Dr Reviewer"
    assert data["current_evidence"]["label"] == (
        "Current evidence: the same as the clinically reviewed evidence."
    )
    assert data["current_evidence"]["differs_from_reviewed"] is False
    assert data["includes_demonstration_data"] is True
    assert "not medical evidence" in data["demonstration_notice"]
    assert "specialist" in data["notice"]
    assert data["links"]["cases"] == "http://testserver/api/v1/topics/imiquimod-as/cases/"

    status, real = get(Client(), "/api/v1/topics/imiquimod-as/?include_demo=false")
    for key in ("reviewed_evidence", "current_evidence"):
        assert real[key]["synthesis"]["patients"] == 3
        assert real[key]["synthesis"]["any_response"]["count"] == 2
    assert real["includes_demonstration_data"] is False and "demonstration_notice" not in real
    assert get(Client(), "/api/v1/topics/imiquimod-as/?include_demo=maybe")[0] == 400


def test_the_case_table_is_paginated_and_flags_demo_cases(home: HomePage) -> None:
    topic = make_topic("many", cases=120, demo=1)
    publish_topic_page(home, topic)
    client = Client()
    status, first = get(client, "/api/v1/topics/many/cases/")
    assert status == 200
    assert (first["count"], first["pages"], len(first["cases"])) == (121, 3, 50)
    assert first["next"] == "http://testserver/api/v1/topics/many/cases/?page=2"
    assert first["previous"] is None
    assert first["cases"][0]["label"] == "Case 001" and first["cases"][0]["pmid"]
    assert first["cases"][0]["follow_up_months"] == 12.5
    assert first["cases"][0]["adverse_events"] == "Redness (mild)"
    assert first["includes_demonstration_data"] is True
    status, last = get(client, "/api/v1/topics/many/cases/?page=3")
    assert len(last["cases"]) == 21 and last["next"] is None
    demo_rows = [row for row in last["cases"] if row["demonstration_data"]]
    assert len(demo_rows) == 1 and demo_rows[0]["pmid"] == ""
    seen = {row["case_id"] for row in first["cases"] + last["cases"]}
    status, middle = get(client, first["next"])
    assert not seen & {row["case_id"] for row in middle["cases"]}  # no row on two pages
    assert get(client, "/api/v1/topics/many/cases/?page=4")[0] == 404
    status, error = get(client, "/api/v1/topics/many/cases/?page=abc")
    assert status == 400 and "page" in error["error"]["message"]
    status, real = get(client, "/api/v1/topics/many/cases/?include_demo=false&page=3")
    assert real["count"] == 120 and "demonstration_notice" not in real
    assert not any(row["demonstration_data"] for row in real["cases"])


def test_no_curator_notes_or_names_ever_leave_through_the_api(published: Topic) -> None:
    client = Client()
    for url in (
        "/api/v1/topics/",
        "/api/v1/topics/imiquimod-as/",
        "/api/v1/topics/imiquimod-as/cases/",
        "/api/v1/openapi.json",
    ):
        body = client.get(url).content.decode()
        assert SECRET not in body and "Secret Appraiser" not in body
        assert "curator_notes" not in body


def test_clients_are_limited_per_address_with_retry_after(published: Topic, settings: Any) -> None:
    settings.EVIDENCE_API_RATE_LIMIT = (3, 60)
    client = Client()
    for _ in range(3):
        assert client.get("/api/v1/topics/", REMOTE_ADDR="203.0.113.5").status_code == 200
    response = client.get("/api/v1/topics/imiquimod-as/", REMOTE_ADDR="203.0.113.5")
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 60
    assert "Too many requests" in json.loads(response.content)["error"]["message"]
    assert client.get("/api/v1/topics/", REMOTE_ADDR="198.51.100.7").status_code == 200
    # Counted in the shared store, and the address is not stored in clear there.
    with connection.cursor() as cursor:
        cursor.execute("SELECT cache_key, value FROM core_ratelimit_cache")
        rows = cursor.fetchall()
    assert rows and not any("203.0.113.5" in key + value for key, value in rows)


def test_the_api_is_read_only(published: Topic) -> None:
    client = Client(enforce_csrf_checks=False)
    assert client.post("/api/v1/topics/").status_code == 405
    assert client.delete("/api/v1/topics/imiquimod-as/").status_code == 405
    assert client.head("/api/v1/topics/").status_code == 200


# --- the OpenAPI description ------------------------------------------------------------------


def resolve_ref(document: dict[str, Any], ref: str) -> Any:
    assert ref.startswith("#/"), ref
    node: Any = document
    for part in ref[2:].split("/"):
        node = node[part]
    return node


def all_refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if "$ref" in node else []
        return found + [ref for value in node.values() for ref in all_refs(value)]
    if isinstance(node, list):
        return [ref for value in node for ref in all_refs(value)]
    return []


TYPES = {
    "object": dict,
    "array": list,
    "string": str,
    "boolean": bool,
    "null": type(None),
}


def conforms(instance: Any, schema: dict[str, Any], document: dict[str, Any], where: str) -> None:
    """A small JSON Schema check (type, required, properties, items, enum, $ref, oneOf, anyOf,
    additionalProperties); schemathesis checks every answer in full (test_api_fuzz.py)."""
    if "$ref" in schema:
        schema = resolve_ref(document, schema["$ref"])
    if "anyOf" in schema:
        errors = []
        for option in schema["anyOf"]:
            try:
                conforms(instance, option, document, where)
            except AssertionError as error:
                errors.append(str(error))
        assert len(errors) < len(schema["anyOf"]), f"{where}: {errors}"
    if "oneOf" in schema:
        errors = []
        for option in schema["oneOf"]:
            try:
                conforms(instance, option, document, where)
            except AssertionError as error:
                errors.append(str(error))
        assert len(errors) == len(schema["oneOf"]) - 1, f"{where}: {errors}"
        return
    types = schema.get("type")
    if types:
        names = types if isinstance(types, list) else [types]
        ok = any(
            (name == "integer" and isinstance(instance, int) and not isinstance(instance, bool))
            or (
                name == "number"
                and isinstance(instance, int | float)
                and not isinstance(instance, bool)
            )
            or (name in TYPES and isinstance(instance, TYPES[name]))
            for name in names
        )
        assert ok, f"{where}: {instance!r} is not {names}"
    if "enum" in schema:
        assert instance in schema["enum"], where
    if isinstance(instance, dict):
        for key in schema.get("required", []):
            assert key in instance, f"{where}: missing {key}"
        properties = schema.get("properties", {})
        for key, value in instance.items():
            if key in properties:
                conforms(value, properties[key], document, f"{where}.{key}")
            elif isinstance(schema.get("additionalProperties"), dict):
                conforms(value, schema["additionalProperties"], document, f"{where}.{key}")
            else:
                closed = schema.get("additionalProperties") is False or properties
                assert not closed, f"{where}: {key} is not described"
    if isinstance(instance, list) and "items" in schema:
        for index, item in enumerate(instance):
            conforms(item, schema["items"], document, f"{where}[{index}]")


@pytest.fixture
def document(published: Topic) -> dict[str, Any]:
    status, data = get(Client(), "/api/v1/openapi.json")
    assert status == 200
    return data


def test_openapi_document_structure(document: dict[str, Any]) -> None:
    assert document["openapi"] == "3.1.0"
    assert document["info"]["title"] and document["info"]["version"]
    assert document["servers"] == [{"url": "http://testserver/api/v1"}]
    for ref in all_refs(document):
        assert resolve_ref(document, ref) is not None
    operation_views = {
        "listTopics": "topics",
        "getTopic": "topic",
        "listCases": "cases",
        "getOpenApi": "openapi",
    }
    assert len(document["paths"]) == 4
    for template, item in document["paths"].items():
        operation = item["get"]
        parameters = [
            resolve_ref(document, p["$ref"]) if "$ref" in p else p
            for p in operation.get("parameters", [])
        ]
        in_path = {p["name"] for p in parameters if p["in"] == "path"}
        variables = set(URITemplate(template).variable_names)
        assert in_path == variables, template
        url = "/api/v1" + URITemplate(template).expand(dict.fromkeys(variables, "imiquimod-as"))
        match = resolve(url)
        assert match.namespace == "evidence_api"
        assert match.url_name == operation_views[operation["operationId"]]
        assert "200" in operation["responses"] and "429" in operation["responses"]
    case_schema = document["components"]["schemas"]["Case"]
    assert list(case_schema["properties"]) == [name for name, _ in COLUMNS]


def test_real_responses_match_the_openapi_schemas(document: dict[str, Any]) -> None:
    client = Client()
    for url, schema in (
        ("/api/v1/topics/", "TopicList"),
        ("/api/v1/topics/imiquimod-as/", "TopicDetail"),
        ("/api/v1/topics/imiquimod-as/cases/", "CasePage"),
        ("/api/v1/topics/nothing/", "Error"),
        ("/api/v1/topics/imiquimod-as/cases/?page=0", "Error"),
    ):
        _, data = get(client, url)
        conforms(data, {"$ref": f"#/components/schemas/{schema}"}, document, url)
    # The checker itself notices a wrong type.
    _, data = get(client, "/api/v1/topics/imiquimod-as/")
    data["current_evidence"]["synthesis"]["patients"] = "four"
    with pytest.raises(AssertionError, match="patients"):
        conforms(data, {"$ref": "#/components/schemas/TopicDetail"}, document, "changed")


@pytest.mark.parametrize(
    "query",
    ["page=%C2%B2", "page=%D9%A3", "page=0", "page=1.0", "include_demo=TRUE", "include_demo=1"],
    ids=["superscript-two", "arabic-indic-three", "zero", "decimal", "upper-case", "one"],
)
def test_parameters_outside_the_documented_types_get_400(published: Topic, query: str) -> None:
    """A page is ASCII digits (Python's isdigit() also takes "²", which int() refuses: that was a
    500), and include_demo is the document's boolean, true or false as written."""
    status, data = get(Client(), f"/api/v1/topics/imiquimod-as/cases/?{query}")
    assert status == 400 and data["error"]["status"] == 400


def test_the_document_components_are_the_answer_models_schemas(document: dict[str, Any]) -> None:
    """Generated, not written: each answer's schema is its pydantic model's (serialization)."""
    from pydantic.json_schema import models_json_schema

    from evidencepress.evidence.api import schema

    _, generated = models_json_schema(
        [(model, "serialization") for model in schema.ANSWERS], ref_template=schema.REF_TEMPLATE
    )
    assert document["components"]["schemas"] == generated["$defs"]
    answers = {
        operation["get"]["operationId"]: operation["get"]["responses"]["200"]["content"][
            "application/json"
        ]["schema"]
        for operation in document["paths"].values()
    }
    assert answers["listTopics"] == {"$ref": "#/components/schemas/TopicList"}
    assert answers["getTopic"] == {"$ref": "#/components/schemas/TopicDetail"}
    assert answers["listCases"] == {"$ref": "#/components/schemas/CasePage"}


def test_an_answer_that_does_not_fit_its_model_is_never_sent() -> None:
    from pydantic import ValidationError

    from evidencepress.evidence.api import schema, views

    error = {"error": {"status": 404, "message": "No."}}
    assert views.respond(schema.Error, error, 404).status_code == 404
    for wrong in (
        {**error, "curator_notes": "x"},  # a key the document does not declare
        {"error": {"status": "404", "message": "No."}},  # a number sent as text
        {"error": {"message": "No."}},  # a declared key missing
    ):
        with pytest.raises(ValidationError):
            views.respond(schema.Error, wrong, 404)


@pytest.mark.parametrize("method", ["QUERY", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"])
@pytest.mark.parametrize("url", ["/api/v1/topics/", "/api/v1/topics/imiquimod-as/cases/"])
def test_undeclared_methods_get_405_with_allow_as_json(
    published: Topic, document: dict[str, Any], method: str, url: str
) -> None:
    # As a real client: CSRF checks on, so a 403 from them would show here.
    response = Client(enforce_csrf_checks=True).generic(method, url)
    assert response.status_code == 405
    assert response["Allow"] == "GET, HEAD"
    assert response["Content-Type"].startswith("application/json")
    data = json.loads(response.content)
    assert data["error"]["status"] == 405 and method in data["error"]["message"]
    conforms(data, {"$ref": "#/components/schemas/Error"}, document, url)
    assert method.lower() not in document["paths"]["/topics/"]


def test_head_is_still_answered(published: Topic) -> None:
    response = Client().head("/api/v1/topics/")
    assert response.status_code == 200 and response["Content-Type"] == "application/json"


@pytest.mark.parametrize(
    "url",
    ["/api/v1/", "/api/v1/nope/", "/api/v1/topics/imiquimod-as/extra/", "/api/v1/openapi.yaml"],
)
def test_unmatched_api_paths_get_the_json_404(
    published: Topic, document: dict[str, Any], url: str
) -> None:
    for method in ("GET", "POST"):
        response = Client(enforce_csrf_checks=True).generic(method, url)
        assert response.status_code == 404, (method, url)
        assert response["Content-Type"].startswith("application/json")
        data = json.loads(response.content)
        assert data["error"]["status"] == 404
        conforms(data, {"$ref": "#/components/schemas/Error"}, document, url)


def test_a_route_without_its_slash_is_still_redirected(published: Topic) -> None:
    response = Client().get("/api/v1/topics/imiquimod-as?page=2")
    assert response.status_code == 301
    assert response["Location"] == "/api/v1/topics/imiquimod-as/?page=2"
    assert Client().get("/api/v1/nowhere").status_code == 404
