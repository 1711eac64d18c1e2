"""The second demo topic, "imiquimod-safety", as data only (issue #16 §1).

Its definition file and its cases are checked here without a database: the definition is valid
and of the safety shape, every case value is a word of the topic's vocabulary, real cases carry
only facts with a source span in a publication whose stored copy was read, and invented cases
are labelled the way the demo labels them.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from evidencepress.demo.loader import DATA_DIR
from evidencepress.evidence.topic_definition import (
    TopicDefinition,
    dump_definition,
    read_definition,
)

DEFINITION = DATA_DIR / "topics" / "imiquimod-safety.json"
CASES = DATA_DIR / "safety_cases.json"
INVENTED = "(invented for the demonstration; not a real patient)"
# Words of the other demo topic's condition, which this topic must never use.
OTHER_CONDITION = re.compile(r"angiosarcoma|stewart|lymph(o)?edema|paclitaxel|timolol", re.I)
# Case fields whose value is only a default when the report says nothing.
NOT_FACTS = {"label", "is_demo", "verified", "curator_notes", "adverse_events", "source_spans"}
EMPTY: tuple[Any, ...] = (None, "", [], "unknown")


def _json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def definition() -> TopicDefinition:
    return read_definition(DEFINITION.read_text(encoding="utf-8"), source=str(DEFINITION))


@pytest.fixture(scope="module")
def cases() -> dict[str, Any]:
    data: dict[str, Any] = _json(CASES)
    return data


def _all_cases(cases: dict[str, Any]) -> list[dict[str, Any]]:
    return [c for group in cases["reported"] for c in group["cases"]] + cases["illustrative"]


def test_definition_is_a_valid_safety_topic_that_round_trips(definition: TopicDefinition) -> None:
    text = DEFINITION.read_text(encoding="utf-8")
    assert dump_definition(definition) == text
    assert definition.slug == "imiquimod-safety" and definition.kind == "safety"
    topics = {t["slug"]: t for t in _json(DATA_DIR / "topics.json")}
    assert definition.name == topics["imiquimod-safety"]["name"]
    vocabulary = definition.vocabulary
    # The outcome is the event's course; resolution is what counts as "improved".
    assert set(vocabulary.improved_responses) == {"resolved", "improving"}
    assert {"mild", "moderate", "severe"} <= set(vocabulary.severity_values)
    assert {t.value for t in vocabulary.adverse_event_kinds} >= {
        "local_reaction", "flu_like", "erythema_multiforme", "psoriasis", "vitiligo",
    }  # fmt: skip
    assert definition.safety_rules == ()  # filled by the safety rules work, reviewed by a clinician


def test_definition_never_names_the_other_demo_condition(definition: TopicDefinition) -> None:
    text = DEFINITION.read_text(encoding="utf-8")
    assert not OTHER_CONDITION.search(text), OTHER_CONDITION.search(text)


def test_questionnaire_asks_a_worried_reader_in_the_topics_words(
    definition: TopicDefinition,
) -> None:
    questions = {q.key: q for q in definition.questionnaire}
    assert set(questions) == {"setting", "site", "lesion_depth"}
    setting = questions["setting"]
    assert setting.label == "What was the cream prescribed for?"
    offered = [o.value for o in setting.options]
    known = [v for v in definition.vocabulary.setting_values if v != "unknown"]
    assert offered == [*known, "unsure"]
    reach = questions["lesion_depth"]
    assert [o.value for o in reach.options] == list(definition.vocabulary.depth_values)
    # A reaction beyond the treated skin is what the topic flags in drafts.
    assert set(definition.vocabulary.extensive_depths) == {"beyond_site", "systemic"}
    assert "urgent help" in definition.word("beyond_reach")


def test_every_case_value_is_a_word_of_the_topic(
    definition: TopicDefinition, cases: dict[str, Any]
) -> None:
    vocabulary = definition.vocabulary
    allowed = {
        "setting": vocabulary.setting_values,
        "lesion_depth": vocabulary.depth_values,
        "response": vocabulary.response_values,
        "response_assessment": tuple(t.value for t in vocabulary.assessments),
        "status_at_last_follow_up": tuple(t.value for t in vocabulary.statuses),
    }
    kinds = {t.value for t in vocabulary.adverse_event_kinds}
    treatments = {t["slug"] for t in _json(DATA_DIR / "treatments.json")}
    assert cases["topic"] == definition.slug
    for case in _all_cases(cases):
        for field, values in allowed.items():
            assert case[field] in values, (case["label"], field, case[field])
        for event in case["adverse_events"]:
            assert event["kind"] in kinds, (case["label"], event)
            assert event["severity"] in vocabulary.severity_values, (case["label"], event)
        assert set(case["prior_treatments"]) | set(case["concurrent_treatments"]) <= treatments


def test_real_cases_are_from_read_publications_and_every_fact_has_a_span(
    cases: dict[str, Any],
) -> None:
    publications = {p["key"]: p for p in _json(DATA_DIR / "publications.json")}
    assert len(cases["reported"]) == 3
    for group in cases["reported"]:
        record = publications[group["publication"]]
        assert not record["is_demo"] and record["source_urls"], group["publication"]
        assert "imiquimod-safety" in record["topics"]
        assert len(group["cases"]) == len(record["reported_cases"])
        for case, reported in zip(group["cases"], record["reported_cases"], strict=True):
            assert not case["is_demo"] and not case["label"].startswith("Illustrative")
            assert not case["verified"]  # no second curator has checked them yet
            # The facts the curated record holds agree with the case.
            assert case["age"] == reported["age"]
            assert case["sex"] == (reported["sex"] or "unknown")
            if reported["imiquimod_regimen"]["duration_weeks"] is not None:
                assert (
                    case["regimen_duration_weeks"]
                    == reported["imiquimod_regimen"]["duration_weeks"]
                )
            else:  # never converted from days or months
                assert case["regimen_duration_weeks"] is None
            spans = {span["field"] for span in case["source_spans"]}
            stated = {k for k, v in case.items() if k not in NOT_FACTS and v not in EMPTY}
            if case["adverse_events"]:
                stated.add("adverse_events")
            assert stated <= spans, (group["publication"], case["label"], stated - spans)
            for span in case["source_spans"]:
                assert span["section"].strip() and len(span["section"]) <= 100
                # Where it was read is a stored public copy the shared record names.
                assert (
                    "stored public copy" in span["section"]
                    or "As summarised in" in (span["section"])
                )
                assert span["quote"] == ""  # the authors' sentences are not copied


def test_no_dose_is_invented(cases: dict[str, Any]) -> None:
    for case in _all_cases(cases):
        assert case["regimen_strength"] in ("", "5% cream")
    for case in cases["illustrative"]:
        assert case["regimen_frequency_per_week"] is None
        assert case["regimen_duration_weeks"] is None
    frequencies = {
        c["label"]: c["regimen_frequency_per_week"] for g in cases["reported"] for c in g["cases"]
    }
    # "daily" is 7 a week and "every other night" 3.5: what the reports say, no more.
    assert set(frequencies.values()) <= {7, Decimal("3.5"), 3.5}


def test_illustrative_cases_are_labelled_as_the_demo_labels_them(cases: dict[str, Any]) -> None:
    existing = {c["label"] for c in _json(DATA_DIR / "illustrative_cases.json")["cases"]}
    assert len(cases["illustrative"]) >= 4
    for case in cases["illustrative"]:
        assert re.fullmatch(r"Illustrative case [A-Z]", case["label"])
        assert case["label"] not in existing
        assert case["is_demo"] is True and not case["verified"]
        assert case["source_spans"]
        for span in case["source_spans"]:
            assert span["section"] == "Illustrative case table"
            assert span["quote"].startswith(case["label"] + ": ")
            assert span["quote"].endswith(INVENTED)
    courses = {c["response"] for c in cases["illustrative"]}
    assert {"resolved", "improving", "lasting"} <= courses
