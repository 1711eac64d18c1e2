"""Selecting a topic's cases from the database, and `manage.py evidence_summary`."""

from __future__ import annotations

import io
import json
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command

from evidencepress.evidence.models import (
    AdverseEvent,
    Publication,
    ReportedPatient,
    Topic,
    Treatment,
)
from evidencepress.evidence.selection import CaseFilters, select_cases, summarise_topic

pytestmark = pytest.mark.django_db


@pytest.fixture
def topic() -> Topic:
    topic = Topic.objects.create(
        name="Imiquimod for angiosarcoma", slug="ia", treatment="Imiquimod", condition="AS"
    )
    real = Publication.objects.create(title="A real case series", pmid="1")
    demo = Publication.objects.create(title="Demonstration series", is_demo=True)
    timolol = Treatment.objects.create(name="Timolol", slug="timolol", category="beta_blocker")
    for label, response, setting in (
        ("Case 1", "complete", "scalp_face"),
        ("Case 2", "complete", "scalp_face"),
        ("Case 3", "progression", "radiation"),
    ):
        patient = ReportedPatient.objects.create(
            publication=real,
            topic=topic,
            label=label,
            response=response,
            setting=setting,
            follow_up_months=Decimal(12),
        )
        AdverseEvent.objects.create(patient=patient, kind="Local skin reaction", severity="mild")
    demo_case = ReportedPatient.objects.create(
        publication=demo, topic=topic, label="Illustrative case A", response="partial", is_demo=True
    )
    demo_case.concurrent_treatments.add(timolol)
    demo_case.save()  # modelcluster keeps parental many-to-many changes until save()
    return topic


def test_filters_select_the_right_cases(topic: Topic) -> None:
    assert len(select_cases(topic)) == 4
    assert len(select_cases(topic, CaseFilters(include_demo=False))) == 3
    assert len(select_cases(topic, CaseFilters(setting="scalp_face"))) == 2
    assert [c.label for c in select_cases(topic, CaseFilters(concurrent_treatment="timolol"))] == [
        "Illustrative case A"
    ]


def test_summary_query_count_does_not_grow_with_cases(
    topic: Topic, django_assert_max_num_queries: object
) -> None:
    with django_assert_max_num_queries(4):  # type: ignore[operator]
        small = summarise_topic(topic)
    publication = Publication.objects.get(pmid="1")
    for i in range(40):
        patient = ReportedPatient.objects.create(
            publication=publication, topic=topic, label=f"Extra {i}", response="stable"
        )
        AdverseEvent.objects.create(patient=patient, kind="Erosion", severity="moderate")
    with django_assert_max_num_queries(4):  # type: ignore[operator]
        big = summarise_topic(topic)
    assert big.patients == small.patients + 40


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("evidence_summary", *args, stdout=out)
    return out.getvalue()


def test_json_output_has_the_documented_keys_and_labels_demo_data(topic: Topic) -> None:
    data = json.loads(run("--topic", "ia", "--format", "json"))
    assert {
        "publications",
        "patients",
        "responses",
        "any_response",
        "missing",
        "evidence_date",
    } <= set(data)
    assert data["patients"] == 4 and data["publications"] == 2
    assert data["any_response"]["count"] == 3
    assert data["responses"]["complete"]["ci_low"] == pytest.approx(0.0676, abs=5e-4)
    assert "demonstration data" in data["warning"].lower()
    real_only = json.loads(run("--topic", "ia", "--format", "json", "--no-demo"))
    assert real_only["patients"] == 3 and "warning" not in real_only
    assert real_only["any_response"]["count"] == 2


def test_text_output_reads_as_plain_sentences(topic: Topic) -> None:
    text = run("--topic", "ia")
    assert "4 cases in 2 publications" in text
    assert "Any response (complete or partial): 3 of 4" in text
    assert "demonstration data" in text.lower()
    assert "specialist" in text


def test_an_unknown_topic_is_an_error() -> None:
    with pytest.raises(CommandError, match="No topic"):
        run("--topic", "missing")


def export(*args: str) -> str:
    out = io.StringIO()
    call_command("export_cases", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_csv_export_has_one_row_per_case_with_ids_and_the_demo_flag(topic: Topic) -> None:
    import csv

    text = export("--topic", "ia", "--format", "csv")
    assert text.startswith("# Rows with demonstration_data=true are invented")
    rows = list(csv.DictReader(text.splitlines()[1:]))
    assert len(rows) == 4
    real = [r for r in rows if r["demonstration_data"] == "false"]
    assert {r["pmid"] for r in real} == {"1"}
    demo = [r for r in rows if r["demonstration_data"] == "true"]
    assert demo[0]["pmid"] == "" and demo[0]["concurrent_treatments"] == "timolol"
    assert real[0]["adverse_events"] == "Local skin reaction (mild)"
    assert real[0]["surgery_candidate"] == ""  # not reported stays empty


def test_json_export_without_demo_cases(topic: Topic) -> None:
    data = json.loads(export("--topic", "ia", "--format", "json", "--no-demo"))
    assert len(data["cases"]) == 3 and "warning" not in data
    assert data["cases"][0]["follow_up_months"] == 12


def test_every_exported_column_is_documented() -> None:
    from pathlib import Path

    from evidencepress.evidence.export import COLUMNS

    dictionary = (Path(__file__).resolve().parents[2] / "docs" / "data-dictionary.md").read_text()
    for name, _ in COLUMNS:
        assert f"| `{name}` |" in dictionary


def test_topic_report_brings_appraisal_certainty_and_gaps_together(topic: Topic) -> None:
    from evidencepress.evidence.models import Appraisal, ResearchQuestion
    from evidencepress.evidence.selection import topic_report

    Appraisal.objects.create(publication=Publication.objects.get(pmid="1"), demographics="yes")
    ResearchQuestion.objects.create(topic=topic, question="Sun protection?", measure="long_term")
    report = topic_report(topic)
    assert report.synthesis.patients == 4
    assert (report.appraisal.publications, report.appraisal.appraised) == (2, 1)
    assert report.certainty.level == "very low"
    assert report.gaps[-1].question == "Sun protection?"
    # Three cases were followed for exactly 12 months: none beyond.
    assert report.gaps[-1].detail == "follow-up beyond 12 months in 0 of 4 cases"
