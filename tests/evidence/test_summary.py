"""Selecting a topic's cases from the database, and `manage.py evidence_summary`."""

from __future__ import annotations

import io
import json
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from evidencepress.evidence.models import (
    AdverseEvent,
    Publication,
    ReportedPatient,
    Topic,
    Treatment,
)
from evidencepress.evidence.topic_reports import CaseFilters, select_cases, summarise_topic

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
    assert set(data["responses"]) == {"complete", "partial", "stable", "progression", "unknown"}
    for share in [*data["responses"].values(), data["any_response"]]:
        assert {"count", "proportion", "ci_low", "ci_high"} <= set(share)
    assert data["responses"]["stable"] == {
        "count": 0, "total": 4, "proportion": 0.0, "ci_low": 0.0,
        "ci_high": pytest.approx(0.6024, abs=5e-4),
    }  # fmt: skip
    assert data["missing"]["age"] == 4 and data["missing"]["follow_up_months"] == 1
    assert data["evidence_date"].startswith("20")
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
    from evidencepress.evidence.topic_reports import topic_report

    Appraisal.objects.create(publication=Publication.objects.get(pmid="1"), demographics="yes")
    ResearchQuestion.objects.create(topic=topic, question="Sun protection?", measure="long_term")
    report = topic_report(topic)
    assert report.synthesis.patients == 4
    assert (report.appraisal.publications, report.appraisal.appraised) == (2, 1)
    assert report.certainty.level == "very low"
    assert report.gaps[-1].question == "Sun protection?"
    # Three cases were followed for exactly 12 months: none beyond.
    assert report.gaps[-1].detail == "follow-up beyond 12 months in 0 of 4 cases"


def reference_cases(topic: Topic) -> list[object]:
    """The slow path: model instances turned into CaseData one by one."""
    from evidencepress.evidence.topic_reports import to_case_data

    patients = (
        ReportedPatient.objects.filter(topic=topic)
        .prefetch_related("prior_treatments", "concurrent_treatments", "adverse_events")
        .order_by("publication_id", "label", "pk")
    )
    return [to_case_data(p) for p in patients]


def test_fast_selection_matches_the_model_instances(topic: Topic) -> None:
    timolol = Treatment.objects.get(slug="timolol")
    patient = ReportedPatient.objects.get(label="Case 1")
    patient.prior_treatments.add(timolol)
    patient.biomarkers = "CD31 staining"
    patient.save()
    cases = select_cases(topic)
    assert cases == reference_cases(topic)
    assert cases[0].prior_treatments == ("timolol",) and cases[0].biomarkers == "CD31 staining"
    assert cases[-1].concurrent_categories == ("beta_blocker",)


@pytest.mark.django_db(transaction=True)
def test_cached_rows_follow_every_change_to_the_cases(
    django_assert_num_queries: object,
) -> None:
    """Outside a transaction select_cases reuses rows it has read; no change may be missed."""
    from evidencepress.evidence.topic_reports import _row_cache

    _row_cache.clear()
    topic = Topic.objects.create(name="Cached", slug="cached", treatment="T", condition="C")
    publication = Publication.objects.create(title="A series", pmid="77")
    radiotherapy = Treatment.objects.create(
        name="Radiotherapy", slug="radiotherapy", category="radiotherapy"
    )
    patients = [
        ReportedPatient.objects.create(
            publication=publication, topic=topic, label=f"Case {i}", response="stable"
        )
        for i in range(3)
    ]
    expected = reference_cases(topic)
    # (pk, updated_at), the cases' table version, rows not yet cached, treatments ×2, events.
    with django_assert_num_queries(6):  # type: ignore[operator]
        first = select_cases(topic)
    with django_assert_num_queries(5):  # type: ignore[operator]
        again = select_cases(topic)  # every row from the cache
    assert first == again == expected

    patients[0].response = "complete"
    patients[0].save()
    event = AdverseEvent.objects.create(patient=patients[1], kind="Erosion", severity="mild")
    ReportedPatient.concurrent_treatments.through.objects.create(
        reportedpatient=patients[2], treatment=radiotherapy
    )
    cases = select_cases(topic)
    assert cases == reference_cases(topic)
    assert [c.response for c in cases] == ["complete", "stable", "stable"]
    assert cases[1].adverse_events[0].kind == "Erosion"
    assert cases[2].concurrent_categories == ("radiotherapy",)

    event.severity = "severe"  # edited without saving the patient
    event.save()
    radiotherapy.slug = "radiation"
    radiotherapy.save()
    patients[1].delete()
    ReportedPatient.objects.create(publication=publication, topic=topic, label="Case 9")
    cases = select_cases(topic)
    assert cases == reference_cases(topic)
    assert [c.label for c in cases] == ["Case 0", "Case 2", "Case 9"]
    assert cases[1].concurrent_treatments == ("radiation",)
    assert summarise_topic(topic).patients == 3

    # Whole reports are kept too, and recomputed as soon as any input changes.
    from evidencepress.evidence.models import Appraisal
    from evidencepress.evidence.topic_reports import topic_report

    first = topic_report(topic)
    renamed = Topic.objects.get(pk=topic.pk)
    again = topic_report(renamed)
    assert again.synthesis is first.synthesis and again.topic is renamed
    Appraisal.objects.create(publication=publication, demographics="yes")
    assert topic_report(topic).appraisal.appraised == 1
    assert topic_report(topic).synthesis.adverse_events == ()  # its patient was deleted
    ulcer = AdverseEvent.objects.create(patient=patients[0], kind="Ulcer", severity="moderate")
    assert [e.kind for e in topic_report(topic).synthesis.adverse_events] == ["ulcer"]
    AdverseEvent.objects.filter(pk=ulcer.pk).update(severity="severe")  # no save() at all
    [summary] = topic_report(topic).synthesis.adverse_events
    assert summary.by_severity["severe"] == 1
    ReportedPatient.objects.filter(pk=patients[0].pk).update(
        response="progression", updated_at=timezone.now()
    )
    assert topic_report(topic).synthesis.responses["progression"].count == 1
