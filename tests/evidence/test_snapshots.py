"""Pinned evidence as plain data: exact round trips, and differences told in plain words."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest

from evidencepress.evidence.snapshots import (
    case_from_json,
    case_to_json,
    difference,
    fingerprint,
    headline,
)
from evidencepress.evidence.synthesis import AdverseEventData, CaseData, synthesise


def _case(label: str, response: str = "complete", **fields: object) -> CaseData:
    return CaseData(publication_id=1, label=label, response=response, **fields)  # type: ignore[arg-type]


def test_a_case_survives_json_exactly() -> None:
    case = CaseData(
        publication_id=7,
        label="Case 2",
        is_demo=True,
        age=71,
        prior_treatments=("surgery", "radiotherapy"),
        regimen_frequency_per_week=Decimal("5.0"),
        follow_up_months=Decimal("12.5"),
        occlusion=None,
        recurrence=False,
        adverse_events=(AdverseEventData("redness", "mild", False),),
        updated_at=datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.UTC),
        concurrent_categories=("radiotherapy",),
        biomarkers="CD31+",
    )
    assert case_from_json(case_to_json(case)) == case


def _diff(before: list[CaseData], after: list[CaseData]) -> object:
    return difference(
        reviewed_cases=before,
        reviewed_synthesis=synthesise(before),
        reviewed_inputs=((), ()),
        current_cases=after,
        current_synthesis=synthesise(after),
        current_inputs=((), ()),
    )


def test_five_of_ten_to_six_of_eleven_in_numbers_and_words() -> None:
    before = [_case(f"C{n}", "complete" if n < 5 else "progression") for n in range(10)]
    after = [*before, _case("C10", "partial")]
    diff = _diff(before, after)
    assert diff.changed
    assert (diff.new_cases, diff.corrected_cases, diff.removed_cases) == (1, 0, 0)
    assert diff.numbers_text.startswith("patients 10 → 11; any improvement 5 of 10 → 6 of 11")
    assert diff.plain_words == "1 new or corrected case is waiting for clinical review."


def test_corrections_and_removals_are_counted_and_a_resave_is_no_change() -> None:
    before = [_case("A"), _case("B"), _case("C", "progression")]
    resaved = [c._replace(updated_at=datetime.datetime.now(tz=datetime.UTC)) for c in before]
    assert not _diff(before, resaved).changed
    after = [_case("A", age=40), _case("B", "partial")]
    diff = _diff(before, after)
    assert (diff.new_cases, diff.corrected_cases, diff.removed_cases) == (0, 2, 1)
    assert diff.plain_words == (
        "2 new or corrected cases are waiting for clinical review. 1 case was taken out of the "
        "evidence base since the review; the change is waiting for clinical review."
    )


def test_an_appraisal_change_alone_is_a_change_with_a_general_note() -> None:
    cases = [_case("A")]
    diff = difference(
        reviewed_cases=cases,
        reviewed_synthesis=synthesise(cases),
        reviewed_inputs=(((1, "yes"),), ()),
        current_cases=cases,
        current_synthesis=synthesise(cases),
        current_inputs=(((1, "no"),), ()),
    )
    assert diff.changed and not diff.numbers
    assert diff.plain_words == "Changes to the evidence are waiting for clinical review."


def test_headline_and_fingerprint_ignore_saving_time() -> None:
    cases = [_case("A"), _case("B", "progression")]
    assert headline(synthesise(cases))["any improvement"] == "1 of 2"
    later = [c._replace(updated_at=datetime.datetime.now(tz=datetime.UTC)) for c in cases]
    assert fingerprint(cases, (), ()) == fingerprint(later, (), ())
    assert fingerprint(cases, (), ()) != fingerprint(cases[:1], (), ())


def test_headline_responses_are_the_topics_vocabulary(monkeypatch: pytest.MonkeyPatch) -> None:
    """snapshots.py keeps no list of responses: it asks `vocabulary_for(topic)`."""
    from dataclasses import replace

    from evidencepress.evidence import snapshots
    from evidencepress.evidence.topic_definition import default_definition
    from evidencepress.evidence.vocabulary import Term

    cases = [_case("A"), _case("B", "progression"), _case("C", "unknown")]
    builtin = headline(synthesise(cases))
    assert [k for k in builtin if k in {"complete", "partial", "stable", "progressed"}] == [
        "complete",
        "partial",
        "stable",
        "progressed",
    ]
    assert "unknown" not in builtin  # "not reported" is not a headline number

    topic = object()
    asked: list[object] = []
    own = replace(
        default_definition().vocabulary,
        responses=(Term("progression", "Progression"), Term("complete", "Complete response")),
    )

    def vocabulary_for(of: object) -> object:
        asked.append(of)
        return own

    monkeypatch.setattr(snapshots, "vocabulary_for", vocabulary_for)
    numbers = headline(synthesise(cases), topic)
    assert asked == [topic]
    assert [k for k in numbers if k in {"complete", "partial", "stable", "progressed"}] == [
        "progressed",
        "complete",
    ]
    # difference() passes its topic on to both headlines.
    difference(
        reviewed_cases=cases,
        reviewed_synthesis=synthesise(cases),
        reviewed_inputs=((), ()),
        current_cases=cases,
        current_synthesis=synthesise(cases),
        current_inputs=((), ()),
        topic=topic,
    )
    assert asked == [topic, topic, topic]
