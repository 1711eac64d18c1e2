"""Issue #16 "Done when": a topic written only for the tests, end to end, with no code change.

`data/fictolimus-quillon.yaml` defines an invented ointment for an invented skin disease (its
own settings, stages, outcomes, severities, questionnaire, matching and wording). The test loads
it with `load_topic`, imports its publications (RIS) and its cases from CSV and then XLSX (the
columns of `export_cases`), and checks what every way out shows: the public topic page, the
export, the API, the reader's request form, matching and the drafted summary. Nothing may
show another topic's words (the angiosarcoma demo's, or the built-in vocabulary's).
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse

from evidencepress.evidence.models import AdverseEvent, Publication, ReportedPatient, Topic
from evidencepress.evidence.topic_definition import definition_for, read_definition

pytestmark = pytest.mark.django_db

DATA = Path(__file__).parent / "data"
DEFINITION = DATA / "fictolimus-quillon.yaml"
SLUG = "fictolimus-quillon"
# Words of the demo topic and of the built-in vocabulary that a page, export, API answer or draft
# of this topic must never show.
FOREIGN = re.compile(
    r"angiosarcoma|stewart|lymph(o)?edema|imiquimod|paclitaxel|timolol|scalp or face"
    r"|radiation-associated|complete response|partial response|scalp_face|superficial",
    re.I,
)
# The reader: classic form, a raised plaque on the elbow. Cases like theirs are Patients 1, 6
# (same form, stage and place), 2 and 7 (same form and stage): 4 cases, 3 improved.
READER = {
    "setting": "classic",
    "site": "elbow",
    "lesion_depth": "plaque",
    "question": "Will the ointment clear the plaque on my elbow?",
}
LIKE_YOURS = {"Patient 1", "Patient 2", "Patient 6", "Patient 7"}


def _foreign(text: str) -> list[str]:
    return sorted({m.group(0).lower() for m in FOREIGN.finditer(text)})


def _load_topic() -> Topic:
    out = io.StringIO()
    call_command("load_topic", str(DEFINITION), stdout=out)
    return Topic.objects.get(slug=SLUG)


def _import_cases(path: Path, *extra: str) -> str:
    out = io.StringIO()
    call_command("import_cases", str(path), "--topic", SLUG, *extra, stdout=out)
    return out.getvalue()


@pytest.fixture
def topic() -> Topic:
    """The test topic loaded, its publications imported, its cases imported from CSV then XLSX."""
    topic = _load_topic()
    call_command(
        "import_literature", str(DATA / "publications.ris"), "--topic", SLUG, "--no-progress",
        stdout=io.StringIO(), stderr=io.StringIO(),
    )  # fmt: skip
    _import_cases(DATA / "cases.csv")
    _import_cases(DATA / "cases.xlsx")
    return topic


def _published_page(topic: Topic) -> Any:
    """A live topic page with the evidence pinned, as after a clinician's review."""
    from evidencepress.articles.evidence_pins import page_evidence_pin_live
    from evidencepress.articles.models import HomePage, TopicPage
    from evidencepress.demo.loader import ensure_home_page

    from ..conftest import ensure_wagtail_tree

    ensure_wagtail_tree()
    ensure_home_page()
    page = TopicPage(title="Fictolimus for Quillon's disease", slug="fictolimus", topic=topic)
    HomePage.objects.get().add_child(instance=page)
    page.save_revision().publish()
    page_evidence_pin_live(page=page, reviewer_name="Test Reviewer")
    return page


# --- the definition ------------------------------------------------------------------------------


def test_definition_loads_once_and_exports_unchanged(tmp_path: Path) -> None:
    from evidencepress.evidence.models import TopicVersion  # type: ignore[attr-defined]

    topic = _load_topic()
    expected = read_definition(DEFINITION.read_text(encoding="utf-8"), source=str(DEFINITION))
    assert definition_for(topic) == expected
    assert (topic.name, topic.treatment, topic.condition) == (
        expected.name,
        expected.treatment,
        expected.condition,
    )
    assert TopicVersion.objects.filter(topic=topic).count() == 1
    _load_topic()  # idempotent: nothing changed, no new version
    assert TopicVersion.objects.filter(topic=topic).count() == 1
    exported = tmp_path / "exported.json"
    call_command("export_topic", SLUG, "-o", str(exported), stdout=io.StringIO())
    assert read_definition(exported.read_text(encoding="utf-8")) == expected


# --- cases from spreadsheets ---------------------------------------------------------------------


def test_cases_import_from_csv_then_xlsx_with_the_topics_values() -> None:
    topic = _load_topic()
    call_command(
        "import_literature", str(DATA / "publications.ris"), "--topic", SLUG, "--no-progress",
        stdout=io.StringIO(), stderr=io.StringIO(),
    )  # fmt: skip
    assert "6 new, 0 changed, 0 unchanged" in _import_cases(DATA / "cases.csv")
    # The workbook changes Patient 2's follow-up and adds Patients 6 and 7.
    assert "2 new, 1 changed, 5 unchanged" in _import_cases(DATA / "cases.xlsx")
    assert "0 new, 0 changed, 8 unchanged" in _import_cases(DATA / "cases.xlsx")
    cases = ReportedPatient.objects.filter(topic=topic)
    assert cases.count() == 8 and not cases.filter(is_demo=True).exists()
    assert ReportedPatient.objects.get(topic=topic, label="Patient 2").follow_up_months == 14
    assert set(cases.values_list("setting", flat=True)) == {"classic", "eruptive", "follicular"}
    events = AdverseEvent.objects.filter(patient__topic=topic)
    assert sorted(events.values_list("severity", flat=True)) == [
        "grade_1", "grade_1", "grade_2", "grade_3",
    ]  # fmt: skip
    assert Publication.objects.filter(doi__startswith="10.5555/fictolimus").count() == 2


def test_another_topics_values_are_refused_naming_row_and_column(
    topic: Topic, tmp_path: Path
) -> None:
    text = (DATA / "cases.csv").read_text(encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO(text)))
    rows[0]["setting"] = "scalp_face"  # the angiosarcoma demo's value
    rows[2]["adverse_events"] = "burning (mild)"  # a built-in severity, not this topic's
    rows[3]["lesion_depth"] = "deep"
    bad = tmp_path / "bad.csv"
    with bad.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    before = list(ReportedPatient.objects.filter(topic=topic).values().order_by("pk"))
    with pytest.raises(CommandError) as refused:
        _import_cases(bad)
    message = str(refused.value)
    assert "bad.csv, row 2, column setting: 'scalp_face' is not one of classic," in message
    assert "bad.csv, row 5, column lesion_depth: 'deep'" in message
    assert "bad.csv, row 4, column adverse_events: 'burning (mild)': severity 'mild'" in message
    assert list(ReportedPatient.objects.filter(topic=topic).values().order_by("pk")) == before


# --- what the public, the export and the API see -------------------------------------------------


def test_public_topic_page_counts_and_names_in_the_topics_words(
    topic: Topic, client: Client
) -> None:
    page = _published_page(topic)
    response = client.get(page.url)
    assert response.status_code == 200
    html = response.content.decode()
    assert _foreign(html) == []
    assert "complete or partial" not in html.lower()
    # 5 of the 8 improved (cleared or faded); the topic's outcome labels name the rows.
    assert "5 of 8" in html
    for label in ("Cleared", "Faded", "Unchanged", "Spread"):
        assert f">{label}<" in html, label


def test_export_documents_and_round_trips_the_topics_values(topic: Topic, tmp_path: Path) -> None:
    target = tmp_path / "export.csv"
    call_command(
        "export_cases", "--topic", SLUG, "--format", "csv", "--output", str(target),
        stderr=io.StringIO(),
    )  # fmt: skip
    text = target.read_text(encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == 8 and _foreign(text) == []
    assert {r["setting"] for r in rows} == {"classic", "eruptive", "follicular"}
    assert "0 new, 0 changed, 8 unchanged" in _import_cases(target)
    json_out = io.StringIO()
    call_command("export_cases", "--topic", SLUG, "--format", "json", stdout=json_out)
    assert _foreign(json_out.getvalue()) == []


def test_api_gives_the_topics_values_and_column_documentation(topic: Topic, client: Client) -> None:
    _published_page(topic)
    detail = client.get(reverse("evidence_api:topic", args=[SLUG]))
    assert detail.status_code == 200, detail.content
    cases = client.get(reverse("evidence_api:cases", args=[SLUG]))
    assert cases.status_code == 200
    data = cases.json()
    assert data["count"] == 8
    assert {row["setting"] for row in data["cases"]} == {"classic", "eruptive", "follicular"}
    assert (
        "classic" in data["columns"]["setting"]
        and "tumour_stage" in data["columns"]["lesion_depth"]
    )
    assert _foreign(json.dumps(data)) == []
    assert _foreign(detail.content.decode()) == []


# --- the reader ----------------------------------------------------------------------------------


def test_request_form_asks_this_topics_questions(topic: Topic, client: Client) -> None:
    _published_page(topic)
    response = client.get(reverse("summaries:request"), {"topic": SLUG})
    assert response.status_code == 200
    html = response.content.decode()
    assert "Which form of Quillon&#x27;s disease is it?" in html or (
        "Which form of Quillon's disease is it?" in html
    )
    assert "Which stage has it reached?" in html and "A thick growth" in html
    assert "Who is this summary for?" in html
    assert _foreign(html) == []


def _situation(detail: str = "detailed") -> Any:
    from evidencepress.summaries.matching import Situation

    return Situation(
        setting=READER["setting"],
        site=READER["site"],
        lesion_size_mm=None,
        lesion_count=None,
        lesion_depth=READER["lesion_depth"],
        surgery_possible=None,
        prior_treatments=(),
        current_treatments=(),
        question=READER["question"],
        detail=detail,
    )


def test_matching_finds_the_readers_cases_by_the_topics_weights(topic: Topic) -> None:
    from evidencepress.evidence.topic_reports import topic_report
    from evidencepress.summaries.matching import match_cases

    matches = match_cases(_situation(), topic_report(topic).cases, definition_for(topic))
    assert {m.case.label for m in matches} == LIKE_YOURS
    # Same form, stage and place first; "knee" is no region of this topic, so only 5 of 6.
    assert [(m.case.label, m.score) for m in matches[:2]] == [("Patient 1", 1), ("Patient 6", 1)]
    assert {round(m.score, 2) for m in matches[2:]} == {0.83}
    assert set(matches[0].matched) == {"setting", "depth", "site"}
    with pytest.raises(ValueError, match="setting: 'scalp_face' is not one of classic"):
        match_cases(
            replace(_situation(), setting="scalp_face"),
            topic_report(topic).cases,
            definition_for(topic),
        )


def test_the_draft_counts_and_words_are_the_topics(topic: Topic) -> None:
    from evidencepress.summaries.evidence_inputs import draft_for_topic

    draft = draft_for_topic(topic, _situation())
    text = draft.text
    assert {m.case.label for m in draft.matches} == LIKE_YOURS
    assert _foreign(text) == [], _foreign(text)
    assert "fictolimus" in text.lower() and "Quillon's disease" in text
    # Of the 4 cases like yours, 3 cleared or faded; of all 8, 5 did.
    assert "3 of 4" in text and "5 of 8" in text, text
    assert "Same form of Quillon's disease" in text
    assert "An ointment alone is unlikely" not in text  # a plaque is within reach
    assert "quillon's" not in text  # a proper noun keeps its capital


def test_a_readers_request_is_submitted_matched_and_drafted(topic: Topic) -> None:
    from evidencepress.summaries.models import SummaryRequest
    from evidencepress.summaries.services import summary_request_draft, summary_request_submit

    from ..summaries.conftest import make_user

    _published_page(topic)
    submitted = summary_request_submit(
        topic=topic,
        email="reader@example.com",
        situation={**READER, "for_whom": "other"},
        detail="short",
        consent_version="test",
    )
    editor = make_user("topic-editor", group=True)
    summary_request_draft(summary_request=submitted, user=editor)
    stored = SummaryRequest.objects.get(pk=submitted.pk)
    assert {m["label"] for m in stored.draft_matches} == LIKE_YOURS
    assert stored.draft_contains_demo is False
    text = stored.drafted_text
    assert _foreign(text) == [], _foreign(text)
    assert "Quillon" in text and "fictolimus" in text.lower()


# --- the test files themselves -------------------------------------------------------------------


def test_the_spreadsheets_have_the_export_columns_and_agree() -> None:
    """The workbook is the CSV with Patient 2's follow-up changed and Patients 6 and 7 added."""
    from evidencepress.evidence.case_import import read_rows
    from evidencepress.evidence.export import COLUMNS

    csv_header, csv_rows = read_rows((DATA / "cases.csv").read_bytes(), "cases.csv")
    xlsx_header, xlsx_rows = read_rows((DATA / "cases.xlsx").read_bytes(), "cases.xlsx")
    assert csv_header == xlsx_header == [name for name, _ in COLUMNS]
    by_label = {row["label"]: row for _, row in xlsx_rows}
    assert set(by_label) == {row["label"] for _, row in csv_rows} | {"Patient 6", "Patient 7"}
    for _, row in csv_rows:
        changed = {k for k in row if row[k] != by_label[row["label"]][k]}
        assert changed == ({"follow_up_months"} if row["label"] == "Patient 2" else set())
    definition = read_definition(DEFINITION.read_text(encoding="utf-8"), source=str(DEFINITION))
    values = definition.vocabulary
    for _, row in xlsx_rows:
        assert row["setting"] in values.setting_values
        assert row["lesion_depth"] in values.depth_values
        assert row["response"] in values.response_values
        assert not row["pmid"] and row["doi"].startswith("10.5555/")  # no real identifier


def test_the_publications_import_as_they_are(db: None) -> None:
    topic = Topic.objects.create(
        slug=SLUG, name="Placeholder", treatment="Fictolimus", condition="Quillon's disease"
    )
    call_command(
        "import_literature", str(DATA / "publications.ris"), "--topic", SLUG, "--no-progress",
        stdout=io.StringIO(), stderr=io.StringIO(),
    )  # fmt: skip
    publications = Publication.objects.filter(topics=topic).order_by("year")
    assert [(p.doi, p.year, p.pmid) for p in publications] == [
        ("10.5555/fictolimus.series", 2031, None),
        ("10.5555/fictolimus.single", 2032, None),
    ]
