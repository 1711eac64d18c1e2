"""Five readers, as tests: what each draft must say and must never say.

The drafts are written from the demo topic (loaded with `load_demo`: illustrative cases, real
side-effect facts) and, where noted, from synthetic real (non-demo) cases.
"""

from __future__ import annotations

import re
from dataclasses import replace
from decimal import Decimal

import pytest

from evidencepress.demo.loader import DEMO_TOPIC_SLUG, load_demo
from evidencepress.evidence.certainty import assess_certainty, research_gaps, summarise_appraisals
from evidencepress.evidence.models import ReportedPatient, Topic
from evidencepress.evidence.synthesis import CaseData, synthesise
from evidencepress.summaries.drafting import (
    DEMO_LABEL,
    NOT_ADVICE,
    SPECIALIST,
    Draft,
    DraftInputs,
    Reference,
    draft_summary,
)
from evidencepress.summaries.evidence_inputs import draft_for_topic
from evidencepress.summaries.matching import Situation, match_cases

from .definitions import DEMO

TOPICAL_NOT_ENOUGH = DEMO.word("beyond_reach")

NUMBER = re.compile(r"\d+(?:\.\d+)?")
DETAILS = ("short", "detailed")

PERSONAS: dict[str, Situation] = {
    "small_scalp_no_surgery": Situation(
        setting="scalp_face",
        site="scalp",
        lesion_size_mm=12,
        lesion_count=1,
        lesion_depth="superficial",
        surgery_possible=False,
        prior_treatments=(),
        current_treatments=(),
        question="I have a small flat patch on my scalp and cannot have surgery. Could the "
        "cream work?",
        detail="short",
    ),
    "extensive": Situation(
        setting="scalp_face",
        site="scalp and forehead",
        lesion_size_mm=90,
        lesion_count=4,
        lesion_depth="widespread",
        surgery_possible=False,
        prior_treatments=(),
        current_treatments=(),
        question="It has spread over a large area. Is a cream enough?",
        detail="short",
    ),
    "breast_after_radiotherapy": Situation(
        setting="radiation",
        site="breast",
        lesion_size_mm=30,
        lesion_count=2,
        lesion_depth="superficial",
        surgery_possible=None,
        prior_treatments=("surgery", "radiotherapy"),
        current_treatments=(),
        question="I had breast cancer, surgery and radiotherapy. Now I have angiosarcoma on the "
        "same breast.",
        detail="short",
    ),
    "on_paclitaxel": Situation(
        setting="scalp_face",
        site="scalp",
        lesion_size_mm=40,
        lesion_count=1,
        lesion_depth="nodular",
        surgery_possible=False,
        prior_treatments=(),
        current_treatments=("paclitaxel",),
        question="I am having paclitaxel. Can I add the cream?",
        detail="short",
    ),
    "asks_dose": Situation(
        setting="unsure",
        site="face",
        lesion_size_mm=None,
        lesion_count=None,
        lesion_depth="unknown",
        surgery_possible=None,
        prior_treatments=(),
        current_treatments=(),
        question="What dose should I use, and how many times a week should I apply it?",
        detail="short",
    ),
}


@pytest.fixture
def demo_topic(db: None) -> Topic:
    load_demo()
    return Topic.objects.get(slug=DEMO_TOPIC_SLUG)


def drafts_for(topic: Topic, persona: str) -> dict[str, Draft]:
    """The short and detailed drafts for a persona, checked for what every draft must say."""
    drafts = {
        detail: draft_for_topic(topic, replace(PERSONAS[persona], detail=detail))
        for detail in DETAILS
    }
    check_every_draft(persona, drafts)
    return drafts


def without_question(draft: Draft) -> str:
    """The draft minus the line that repeats the reader's own words."""
    return "\n".join(line for line in draft.text.splitlines() if not line.startswith("You asked"))


def demo_frequencies() -> set[str]:
    values = ReportedPatient.objects.filter(regimen_frequency_per_week__isnull=False)
    return {
        f"{v.normalize():f}" for v in values.values_list("regimen_frequency_per_week", flat=True)
    }


# --- what every draft must and must not say -------------------------------------------------


def check_every_draft(persona: str, drafts: dict[str, Draft]) -> None:
    """Safe, readable and sourced: asserted for every persona by drafts_for."""
    assert drafts["short"].text != drafts["detailed"].text
    frequencies = demo_frequencies()
    for detail, draft in drafts.items():
        text = without_question(draft)
        assert draft.grade <= 8, (persona, detail, draft.grade)
        # Demonstration cases are named as such, first.
        assert draft.contains_demo
        assert text.index(DEMO_LABEL) < text.index("About this summary")
        assert "not real patients" in text
        # Information, not advice; the specialist decides; urgent help; sources.
        assert NOT_ADVICE in text
        assert "When to get help straight away" in text
        assert "\n## Sources\n" in text
        # Never a dose of its own.
        assert not re.search(r"\bmg\b|milligram", text, re.IGNORECASE)
        assert not re.search(r"\bapply\b", text, re.IGNORECASE)
        for times in re.findall(r"(\d+(?:\.\d+)?) times a (?:week|day)", text):
            assert times in frequencies, (persona, times)
        assert "times a day" not in text
        # Every number traces to the evidence, the facts, the sources or the reader's words.
        sourced = {n.value for n in draft.numbers if n.source}
        assert [t for t in NUMBER.findall(draft.text) if t not in sourced] == []


# --- each persona -------------------------------------------------------------------------


def test_small_superficial_scalp_lesion_without_surgery(demo_topic: Topic) -> None:
    drafts = drafts_for(demo_topic, "small_scalp_no_surgery")
    draft = drafts["short"]
    assert draft.matches, "the demo holds small superficial scalp cases"
    assert draft.matches[0].case.label == "Illustrative case A"
    assert {m.case.setting for m in draft.matches} == {"scalp_face"}
    assert all(m.case.lesion_depth not in ("deep", "widespread") for m in draft.matches)
    assert f"In {len(draft.matches)} reported cases like yours" in draft.text
    assert "Why is surgery not an option for me" in draft.text
    assert TOPICAL_NOT_ENOUGH not in draft.text
    assert "Illustrative case A: scalp, 15 mm across; it cleared completely [1]." in (
        drafts["detailed"].text
    )


def test_extensive_or_deep_disease_is_told_a_cream_alone_is_unlikely_enough(
    demo_topic: Topic,
) -> None:
    extensive = ReportedPatient.objects.filter(lesion_depth__in=["deep", "widespread"])
    improved = extensive.filter(response__in=["complete", "partial"]).count()
    same = extensive.filter(setting="scalp_face")
    same_improved = same.filter(response__in=["complete", "partial"]).count()
    assert 0 < same.count() < extensive.count()
    for draft in drafts_for(demo_topic, "extensive").values():
        assert TOPICAL_NOT_ENOUGH in draft.text
        assert "Deep or widespread disease" in draft.text
        # Each number names its group: the reader's setting first, then every setting.
        assert (
            f"In the {same.count()} reported case{'s' if same.count() > 1 else ''} with the same "
            f"setting (on the scalp or face) and deep or widespread disease, {same_improved} got "
            "better" in draft.text
        )
        assert (
            f"In all {extensive.count()} reported cases with deep or widespread disease, "
            f"{improved} got better" in draft.text
        )
        other = extensive.count() - same.count()
        assert f"{other} of these {extensive.count()} were in other settings" in draft.text
        assert "What treatment would reach deeper or wider disease?" in draft.text
        assert all(m.case.lesion_depth in ("deep", "widespread") for m in draft.matches)


def test_radiation_associated_breast_angiosarcoma(demo_topic: Topic) -> None:
    for draft in drafts_for(demo_topic, "breast_after_radiotherapy").values():
        assert draft.matches
        assert {m.case.setting for m in draft.matches} == {"radiation"}
        assert "Is imiquimod safe on skin that has had radiotherapy?" in draft.text
        assert "Could surgery be an option for me?" in draft.text
        assert TOPICAL_NOT_ENOUGH not in draft.text
        assert "scalp" not in without_question(draft).split("How reported cases used it")[0]


def test_already_on_paclitaxel_asking_about_adding_the_cream(demo_topic: Topic) -> None:
    together = ReportedPatient.objects.filter(concurrent_treatments__slug="paclitaxel")
    total = demo_topic.patients.count()
    for draft in drafts_for(demo_topic, "on_paclitaxel").values():
        assert "The treatment you are having now" in draft.text
        assert "You told us you are having paclitaxel now." in draft.text
        assert (
            f"{together.count()} of {total} reported cases used imiquimod together with "
            "paclitaxel" in draft.text
        )
        assert "Do not add imiquimod, or stop anything, without asking the specialist" in (
            draft.text
        )
        assert "Can imiquimod be used while I have paclitaxel? In what order?" in draft.text


def test_asking_what_dose_to_use_gets_what_cases_used_and_the_specialist(
    demo_topic: Topic,
) -> None:
    strengths = set(ReportedPatient.objects.values_list("regimen_strength", flat=True)) - {""}
    for draft in drafts_for(demo_topic, "asks_dose").values():
        assert draft.asked_about_dose
        assert "This summary cannot tell you what dose to use" in draft.text
        assert SPECIALIST in draft.text
        assert "How reported cases used it" in draft.text
        assert "It is a record, not advice." in draft.text
        for strength in strengths:
            assert f"{strength}: " in draft.text
        assert re.search(r"Used \d+ times a week: \d+ reported cases?\.", draft.text)


# --- the same personas on real (non-demo) synthetic evidence ------------------------------


def real_case(label: str, **fields: object) -> CaseData:
    values: dict[str, object] = {
        "setting": "radiation",
        "site": "breast",
        "lesion_size_mm": 25,
        "lesion_depth": "superficial",
        "prior_treatments": ("radiotherapy", "surgery"),
        "regimen_strength": "5% cream",
        "regimen_frequency_per_week": Decimal(7),
        "regimen_duration_weeks": Decimal(8),
        "response": "partial",
        "time_to_response_weeks": Decimal(6),
    }
    values.update(fields)
    return CaseData(21, label, **values)  # type: ignore[arg-type]


def synthetic_draft(situation: Situation) -> Draft:
    cases = (
        real_case("Patient 1"),
        real_case("Patient 2", response="complete", regimen_frequency_per_week=Decimal(3)),
        real_case("Patient 3", lesion_depth="deep", response="progression"),
        real_case("Patient 4", setting="scalp_face", site="scalp"),
    )
    matches = match_cases(situation, cases, DEMO)
    topic = synthesise(cases)
    return draft_summary(
        situation,
        DraftInputs(
            topic_name="Imiquimod for cutaneous angiosarcoma",
            treatment="Imiquimod",
            condition="Cutaneous angiosarcoma",
            topic_synthesis=topic,
            topic_cases=cases,
            matches=matches,
            similar_synthesis=synthesise([m.case for m in matches]),
            certainty=assess_certainty(topic, summarise_appraisals([], {21}), cases),
            gaps=research_gaps(cases),
            definition=DEMO,
            case_references={21: Reference("publication-21", "Doe J. A case series. 2021.")},
        ),
    )


@pytest.mark.parametrize("detail", DETAILS)
def test_real_evidence_has_no_demo_notice(detail: str) -> None:
    draft = synthetic_draft(replace(PERSONAS["breast_after_radiotherapy"], detail=detail))
    assert not draft.contains_demo
    assert DEMO_LABEL not in draft.text
    assert [m.case.label for m in draft.matches] == ["Patient 1", "Patient 2", "Patient 3"]
    assert "In 3 reported cases like yours" in draft.text
    assert draft.grade <= 8


@pytest.mark.parametrize("detail", DETAILS)
def test_real_evidence_dose_question_reports_only_recorded_schedules(detail: str) -> None:
    draft = synthetic_draft(replace(PERSONAS["asks_dose"], setting="radiation", detail=detail))
    assert "This summary cannot tell you what dose to use" in draft.text
    assert "Used 3 times a week: 1 reported case." in draft.text
    assert "Used 7 times a week: 2 reported cases." in draft.text
    assert set(re.findall(r"(\d+) times a week", without_question(draft))) == {"3", "7"}
    assert draft.grade <= 8
