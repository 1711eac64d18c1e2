"""Certainty (GRADE style), the JBI appraisal summary and research gaps, on plain data."""

from __future__ import annotations

from decimal import Decimal

import pytest

from evidencepress.evidence.certainty import (
    AppraisalData,
    assess_certainty,
    research_gaps,
    summarise_appraisals,
)
from evidencepress.evidence.synthesis import CaseData, synthesise

ALL_YES = dict.fromkeys(
    (
        "demographics",
        "history",
        "presentation",
        "diagnosis",
        "intervention",
        "post_intervention",
        "adverse_events",
        "takeaway",
    ),
    "yes",
)


def case(pub: int, label: str, response: str, **fields: object) -> CaseData:
    return CaseData(publication_id=pub, label=label, response=response, **fields)  # type: ignore[arg-type]


def test_appraisal_summary_counts_each_item_over_the_topics_publications() -> None:
    weak = {**ALL_YES, "history": "no", "diagnosis": "unclear", "takeaway": "na"}
    summary = summarise_appraisals(
        [AppraisalData(1, ALL_YES), AppraisalData(2, weak), AppraisalData(99, ALL_YES)],
        publication_ids={1, 2, 3},
    )
    assert (summary.publications, summary.appraised, summary.meeting_checklist) == (3, 2, 1)
    items = {item.item: item for item in summary.items}
    assert (items["history"].yes, items["history"].no) == (1, 1)
    assert items["diagnosis"].unclear == 1 and items["takeaway"].not_applicable == 1
    assert items["demographics"].yes == 2


def test_few_small_positive_reports_are_very_low_certainty_for_every_reason() -> None:
    cases = [case(1, "A", "complete"), case(2, "B", "partial")]
    synthesis = synthesise(cases)
    appraisal = summarise_appraisals([AppraisalData(1, ALL_YES)], {1, 2})
    certainty = assess_certainty(synthesis, appraisal, cases)
    assert certainty.level == "very low"
    assert [d.name for d in certainty.lowering] == [
        "risk of bias",
        "imprecision",
        "few publications",
        "publication bias",
    ]
    assert "1 of 2 reports have not been appraised" in certainty.domains[0].reason
    assert certainty.wording == (
        "A few reports suggest the condition improved in 2 of 2 people described; "
        "we cannot be sure it would help others."
    )


def test_a_larger_mixed_well_appraised_body_is_still_very_low_but_for_fewer_reasons() -> None:
    responses = ["complete"] * 20 + ["progression"] * 20
    cases = [case(i % 4, f"C{i}", r) for i, r in enumerate(responses)]
    appraisal = summarise_appraisals([AppraisalData(p, ALL_YES) for p in range(4)], set(range(4)))
    certainty = assess_certainty(synthesise(cases), appraisal, cases)
    assert certainty.level == "very low"  # case reports never start higher
    assert certainty.lowering == ()
    assert certainty.explanation.startswith("Evidence from case reports and case series starts")


def test_no_cases_says_nothing_can_be_said() -> None:
    certainty = assess_certainty(synthesise([]), summarise_appraisals([], set()), [])
    assert "cannot say anything" in certainty.wording
    assert all(d.serious for d in certainty.domains if d.name != "publication bias")


def test_research_gaps_count_the_cases_that_inform_each_question() -> None:
    cases = [
        case(
            1,
            "A",
            "complete",
            follow_up_months=Decimal(24),
            regimen_strength="5% cream",
            regimen_frequency_per_week=Decimal(5),
            response_assessment="histological",
        ),
        case(
            1, "B", "partial", follow_up_months=Decimal(6), concurrent_categories=("radiotherapy",)
        ),
        case(2, "C", "stable", occlusion=True),
    ]
    gaps = {gap.key: gap for gap in research_gaps(cases)}
    assert gaps["long_term"].statement == (
        "Long-term recurrence: follow-up beyond 12 months in 1 of 3 cases"
    )
    assert gaps["biomarkers"].informed == 0
    assert gaps["dose_frequency"].informed == 1
    assert gaps["combination"].informed == 1
    assert gaps["occlusion"].informed == 1
    assert gaps["biopsy"].informed == 1


@pytest.mark.parametrize(("measure", "informed"), [("long_term", 1), ("", 0)])
def test_editors_questions_are_listed_with_their_measure(measure: str, informed: int) -> None:
    cases = [case(1, "A", "complete", follow_up_months=Decimal(30))]
    gaps = research_gaps(cases, extra=[("Does sun exposure matter?", measure)])
    assert gaps[-1].question == "Does sun exposure matter?"
    assert gaps[-1].informed == informed
