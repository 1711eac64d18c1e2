"""Synthesis, certainty, charts, exports, the API, the admin summary and the public pages speak
the topic's vocabulary: a safety-shaped topic invented for these tests has its own outcomes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from evidencepress.evidence.certainty import assess_certainty, summarise_appraisals
from evidencepress.evidence.export import columns_for, value_labels
from evidencepress.evidence.models import ReportedPatient, Topic
from evidencepress.evidence.plots import response_chart_svg, response_rows, swimmer_rows
from evidencepress.evidence.synthesis import CaseData, synthesise
from evidencepress.evidence.topic_definition import parse_definition
from evidencepress.evidence.topic_reports import topic_report
from evidencepress.evidence.topics import apply_definition
from evidencepress.evidence.vocabulary import vocabulary_for
from tests.factories import PublicationFactory

DEMO = Path("evidencepress/demo/data/topics/imiquimod-angiosarcoma.json")
OUTCOMES = [
    {"value": "resolved", "label": "Resolved after stopping"},
    {"value": "resolving", "label": "Resolving"},
    {"value": "persisting", "label": "Persisting"},
    {"value": "unknown", "label": "Not reported"},
]


def safety_data() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(DEMO.read_text(encoding="utf-8"))
    data.update(
        slug="test-reactions",
        name="Skin reactions to a test cream",
        kind="safety",
        condition="Skin reactions",
        questionnaire=[],
    )
    data["vocabulary"]["outcomes"] = OUTCOMES
    data["vocabulary"]["improved"] = ["resolved", "resolving"]
    data["vocabulary"]["field_labels"] = {"response": "Course of the reaction"}
    return data


def vocabulary() -> Any:
    return parse_definition(safety_data()).vocabulary


def cases() -> list[CaseData]:
    return [
        CaseData(publication_id=1, label="A", response="resolved"),
        CaseData(publication_id=1, label="B", response="persisting"),
        CaseData(publication_id=2, label="C", response="resolving"),
    ]


def test_synthesis_counts_the_topics_outcomes_and_improvement() -> None:
    result = synthesise(cases(), vocabulary=vocabulary())
    assert list(result.responses) == ["resolved", "resolving", "persisting", "unknown"]
    assert (result.any_response.count, result.any_response.total) == (2, 3)
    neutral = synthesise(cases())  # the neutral default's outcomes know none of these
    assert neutral.any_response.count == 0 and "resolved" not in neutral.responses


def test_certainty_judges_publication_bias_by_the_topics_improvement() -> None:
    only_improved = [c for c in cases() if c.response != "persisting"]
    synthesis = synthesise(only_improved, vocabulary=vocabulary())
    appraisal = summarise_appraisals([], {1, 2})
    certainty = assess_certainty(synthesis, appraisal, only_improved, vocabulary=vocabulary())
    bias = next(d for d in certainty.domains if d.name == "publication bias")
    assert bias.serious


def test_charts_and_their_tables_use_the_topics_labels() -> None:
    synthesis = synthesise(cases(), vocabulary=vocabulary())
    rows = {
        row["key"]: row["Response"] for row in response_rows(synthesis, vocabulary=vocabulary())
    }
    assert rows["resolved"] == "Resolved after stopping"
    assert rows["any"] == "Any response (resolved after stopping or resolving)"
    svg = response_chart_svg(synthesis, title="Course", vocabulary=vocabulary())
    assert "Resolved after stopping: 1 of 3" in svg
    assert swimmer_rows(cases(), vocabulary=vocabulary())[0]["Best response"] in {
        "Resolved after stopping",
        "Persisting",
        "Resolving",
    }


@pytest.mark.django_db
def test_exports_api_columns_admin_and_pages_use_the_topic(client: Client, django_user_model):
    topic, _ = apply_definition(definition=parse_definition(safety_data()))
    publication = PublicationFactory(title="A test series")
    publication.topics.add(topic)
    for label, response in (("Case 1", "resolved"), ("Case 2", "persisting")):
        case = ReportedPatient(topic=topic, publication=publication, label=label, response=response)
        case.full_clean()
        case.save()
    columns = dict(columns_for(topic))
    assert columns["response"] == "resolved, resolving, persisting, unknown"
    assert value_labels(topic)["response"]["resolved"] == "Resolved after stopping"
    report = topic_report(topic)
    assert report.synthesis.responses["resolved"].count == 1
    assert vocabulary_for(topic).any_response_label().startswith("Any response (resolved")

    editor = django_user_model.objects.create_superuser("ed", "ed@example.org", "a-long-pass-1")
    client.force_login(editor)
    page = client.get(reverse("topic:summary", args=[topic.pk])).content.decode()
    assert "Resolved after stopping" in page and "Persisting" in page
    assert "Complete response" not in page


@pytest.mark.django_db
def test_a_topic_without_a_definition_uses_the_neutral_vocabulary() -> None:
    topic = Topic.objects.create(name="Bare", slug="bare", treatment="T", condition="C")
    assert vocabulary_for(topic).setting_values == ("other", "unknown")


@pytest.mark.django_db
def test_the_public_topic_page_and_the_api_speak_the_topics_words(
    client: Client, wagtail_tree: Any
) -> None:
    from evidencepress.articles.evidence_pins import page_evidence_pin_live
    from evidencepress.articles.models import HomePage, TopicPage
    from evidencepress.demo.loader import ensure_home_page

    topic, _ = apply_definition(definition=parse_definition(safety_data()))
    publication = PublicationFactory(title="A test series", pmid="12345678")
    publication.topics.add(topic)
    for label, response in (("Case 1", "resolved"), ("Case 2", "persisting")):
        ReportedPatient.objects.create(
            topic=topic, publication=publication, label=label, response=response
        )
    ensure_home_page()
    page = TopicPage(title=topic.name, slug=topic.slug, topic=topic)
    HomePage.objects.get().add_child(instance=page)
    page.save_revision().publish()
    page_evidence_pin_live(page=page, reviewer_name="Dr Reviewer")

    html = client.get(page.url).content.decode()
    assert "Resolved after stopping" in html and "Persisting" in html
    assert "Any improvement (resolved after stopping or resolving)" in html
    assert "Complete response" not in html
    listing = json.loads(client.get(f"/api/v1/topics/{topic.slug}/cases/").content)
    assert listing["labels"]["response"]["persisting"] == "Persisting"
    assert listing["columns"]["response"] == "resolved, resolving, persisting, unknown"
    detail = json.loads(client.get(f"/api/v1/topics/{topic.slug}/").content)
    assert set(detail["current_evidence"]["synthesis"]["responses"]) == {
        "resolved",
        "resolving",
        "persisting",
        "unknown",
    }
