"""The drafts issue 15 §2 found wanting, as readers wrote them: what each must and must not say.

Each test is one reader's situation, in their words, drafted from the demo topic (ten invented
cases, real side-effect facts) or from a few synthetic cases, with must and must-not assertions:
every number names its group and cites its reports, the reader's own question is answered or
handed to their team, the voice follows who the summary is for, every draft states the evidence
date, and the demonstration wording is exact.
"""

from __future__ import annotations

import re
from dataclasses import replace
from decimal import Decimal

import pytest

from evidencepress.demo.loader import DEMO_TOPIC_SLUG, load_demo
from evidencepress.evidence.models import ReportedPatient, Topic
from evidencepress.evidence.notices import DEMO_LABEL
from evidencepress.evidence.synthesis import CaseData
from evidencepress.summaries.drafting import Draft, draft_summary
from evidencepress.summaries.evidence_inputs import draft_for_topic
from evidencepress.summaries.matching import Situation

from .definitions import DEMO, changed
from .test_drafting import FACTS, UPDATED, a_case, inputs_for

NUMBER = re.compile(r"\d+(?:\.\d+)?")
CITED = re.compile(r"\[\d+(?:, \d+)*\]")


def reader(question: str = "", **answers: object) -> Situation:
    base = Situation(
        setting="unsure",
        site="",
        lesion_size_mm=None,
        lesion_count=None,
        lesion_depth="unknown",
        surgery_possible=None,
        prior_treatments=(),
        current_treatments=(),
        question=question,
        detail="short",
    )
    return replace(base, **answers)  # type: ignore[arg-type]


@pytest.fixture
def demo_topic(db: None) -> Topic:
    load_demo()
    return Topic.objects.get(slug=DEMO_TOPIC_SLUG)


def both(topic: Topic, situation: Situation) -> list[Draft]:
    drafts = [draft_for_topic(topic, replace(situation, detail=d)) for d in ("short", "detailed")]
    for draft in drafts:
        check_numbers_are_cited(draft)
        assert draft.grade <= 8, (draft.detail, draft.grade)
    return drafts


def prose_blocks(draft: Draft) -> list[tuple[str, str]]:
    """(section key, paragraph or list item) of the sections whose numbers are about reports."""
    skip = {"about", "glossary", "sources", "urgent"}
    blocks = []
    for section in draft.sections:
        if section.key in skip:
            continue
        for block in section.blocks:
            for text in (block,) if isinstance(block, str) else block:
                blocks.append((section.key, text))
    return blocks


def check_numbers_are_cited(draft: Draft) -> None:
    """Every paragraph or item with a number about reports cites them (or follows a cited
    paragraph that introduces its list); the quoted question and the date are not counts."""
    for section in draft.sections:
        if section.key in {"about", "glossary", "sources", "urgent"}:
            continue
        lead_cited = False
        for block in section.blocks:
            if isinstance(block, str):
                lead_cited = bool(CITED.search(block))
                texts: tuple[str, ...] = (block,)
            else:
                texts = block
            for text in texts:
                if text.startswith("Evidence date:") or text.startswith("“"):
                    continue
                if NUMBER.search(CITED.sub("", text)) and not CITED.search(text):
                    assert not isinstance(block, str) and lead_cited, (section.key, text)


def outside_quote(draft: Draft, question: str) -> str:
    return draft.text.replace(question, "")


# --- 1. "could it replace more radiation?" ---------------------------------------------------


def test_a_question_the_reports_cannot_answer_goes_to_the_care_team(demo_topic: Topic) -> None:
    question = (
        "I have a 4 cm lump on my scalp where I had radiotherapy before. Could the cream "
        "replace more radiation?"
    )
    situation = reader(
        question,
        setting="scalp_face",
        site="scalp",
        lesion_size_mm=40,
        lesion_depth="nodular",
        prior_treatments=("radiotherapy",),
    )
    for draft in both(demo_topic, situation):
        section = next(s for s in draft.sections if s.key == "your_question")
        said = " ".join(b for b in section.blocks if isinstance(b, str))
        assert "The reports cannot tell you whether imiquimod could replace another treatment" in (
            said
        )
        assert "Only your care team can" in said
        asked = next(s for s in draft.sections if s.key == "questions").blocks[1]
        assert f"“{question}” (the reports cannot answer this)" in asked
        # Not an answer it cannot give: never "yes" or "it can replace".
        assert not re.search(r"\bcan replace\b|\byes\b", outside_quote(draft, question), re.I)


def test_a_question_the_reports_can_answer_is_answered_with_its_group(demo_topic: Topic) -> None:
    question = "Could the cream help with a small flat patch on my nose?"
    situation = reader(
        question, setting="scalp_face", site="nose", lesion_size_mm=8, lesion_depth="superficial"
    )
    for draft in both(demo_topic, situation):
        section = next(s for s in draft.sections if s.key == "your_question")
        said = " ".join(b for b in section.blocks if isinstance(b, str))
        assert re.search(r"In cases like yours, it got better in \d+ of \d+ reported cases?", said)
        assert CITED.search(said)
        assert "cannot answer" not in said
        assert "(the reports cannot answer this)" not in draft.text


# --- 2. lymphoedema of the arm: other settings' numbers are not the reader's -----------------


def test_numbers_from_other_settings_are_never_given_as_the_readers(demo_topic: Topic) -> None:
    situation = reader(
        "My arm has been swollen for years and now there are purple patches all over it.",
        setting="lymphoedema",
        site="left upper arm",
        lesion_depth="widespread",
    )
    wide = ReportedPatient.objects.filter(lesion_depth__in=["deep", "widespread"])
    same = wide.filter(setting="lymphoedema")
    assert (same.count(), wide.count()) == (1, 5)
    for draft in both(demo_topic, situation):
        assert {m.case.setting for m in draft.matches} <= {"lymphoedema", "unknown"}
        # Must: each group named, the reader's setting first.
        assert (
            "In the 1 reported case with the same setting (linked to lymphoedema) and deep or "
            "widespread disease, none got better" in draft.text
        )
        assert "In all 5 reported cases with deep or widespread disease," in draft.text
        assert "4 of these 5 were in other settings, so they may not be true for you." in (
            draft.text
        )
        # Must not: the old sentence that read as the reader's own numbers.
        assert "In the 5 reported cases with deep or widespread disease" not in draft.text


# --- 3. a caregiver who knows little: the draft speaks about the patient ---------------------


def test_a_caregiver_is_spoken_to_about_the_person_they_care_for(demo_topic: Topic) -> None:
    question = "My mother has this and I don't know much. What should we ask her doctors?"
    situation = reader(question, for_whom="other")
    for draft in both(demo_topic, situation):
        text = outside_quote(draft, question)
        assert "Could surgery be an option for them?" in text
        assert "about the person you care for" in text
        assert "Questions to ask their care team" in text
        assert "Call their care team the same day if, while they use imiquimod:" in text
        # Must not speak as the patient.
        for mine in ("for me", " I ", "my next", "your treatment", "like yours"):
            assert mine not in text, mine


def test_a_reader_asking_for_themself_is_spoken_to_as_the_patient(demo_topic: Topic) -> None:
    (draft, _) = both(demo_topic, reader("What happens next?"))
    assert "Could surgery be an option for me?" in draft.text
    assert "for them" not in draft.text


# --- 4. every draft states the evidence date ---------------------------------------------


def test_short_and_detailed_drafts_state_the_evidence_date(demo_topic: Topic) -> None:
    latest = max(ReportedPatient.objects.values_list("updated_at", flat=True))
    date = f"{latest.day} {latest:%B} {latest.year}"
    for draft in both(demo_topic, reader("Is there anything new?")):
        assert f"Evidence date: these numbers use the reports as they stood on {date}." in (
            draft.text
        )


def test_a_topic_without_reports_says_it_has_no_evidence_date() -> None:
    draft = draft_summary(reader("Anything?"), inputs_for((), reader(), facts=()))
    assert "No reports had been collected when this summary was written." in draft.text


# --- 5. no case like yours: all-case numbers cited, the demo series in Sources -------------


def test_no_matching_case_gives_cited_numbers_of_named_groups(demo_topic: Topic) -> None:
    situation = reader(
        "It is on my foot. Will the cream work?",
        setting="other",
        site="foot",
        lesion_size_mm=5,
        lesion_depth="superficial",
    )
    for draft in both(demo_topic, situation):
        assert draft.matches == ()
        assert "We found no reported cases like yours." in draft.text
        all_cases = next(
            b
            for s in draft.sections
            for b in s.blocks
            if isinstance(b, str) and b.startswith("Across all 10 reported cases, in any setting")
        )
        assert CITED.search(all_cases)
        assert "These are not cases like yours, so these numbers may not be true for you." in (
            draft.text
        )
        sources = next(s for s in draft.sections if s.key == "sources").blocks[0]
        assert any("Demonstration" in item and f"({DEMO_LABEL})" in item for item in sources)


# --- 6. what the reports did not say, said exactly -----------------------------------------


def test_a_case_that_gave_the_strength_is_not_said_to_have_left_it_out() -> None:
    cases = (
        a_case("Strength only", 1, regimen_frequency_per_week=None),
        a_case("Neither", 1, regimen_strength="", regimen_frequency_per_week=None),
        a_case("How often only", 1, regimen_strength=""),
        a_case("Both", 1),
    )
    situation = reader("How much should I put on?", setting="scalp_face", site="scalp")
    draft = draft_summary(situation, inputs_for(cases, situation))
    regimen = next(s for s in draft.sections if s.key == "regimen")
    items = next(b for b in regimen.blocks if not isinstance(b, str))
    assert "1 reported case did not say the strength or how often." in items
    assert "1 reported case said the strength but not how often." in items
    assert "1 reported case said how often but not the strength." in items
    assert not any("2 reported cases did not say" in item for item in items)


# --- 7. the demonstration wording is exact -------------------------------------------------


def test_all_invented_cases_are_said_to_be_all_invented(demo_topic: Topic) -> None:
    assert not demo_topic.patients.filter(is_demo=False).exists()
    for draft in both(demo_topic, reader("Is this real?")):
        notice = draft.sections[0]
        assert notice.heading == DEMO_LABEL
        assert notice.blocks[0].startswith("All 10 reported cases in this summary are invented [")
        assert "Some" not in notice.blocks[0]
        assert "some of the cases" not in draft.text.lower()


def test_some_invented_cases_are_counted_exactly() -> None:
    cases = (
        a_case("Real 1", 1),
        a_case("Real 2", 1),
        a_case("Invented", 2, is_demo=True),
    )
    situation = reader(setting="scalp_face", site="scalp")
    draft = draft_summary(situation, inputs_for(cases, situation, facts=FACTS))
    first = draft.sections[0].blocks[0]
    assert isinstance(first, str)
    assert first.startswith("1 of the 3 reported cases in this summary is invented [")
    assert "The invented ones are illustrative demonstration data" in first
    sources = draft.sections[-1].blocks[0]
    assert any("Author 2." in item and DEMO_LABEL in item for item in sources)


def test_every_number_about_reports_is_cited_in_pure_drafts() -> None:
    cases = (
        a_case("Case 1", 1),
        a_case("Case 2", 2, response="partial", lesion_depth="deep", lesion_size_mm=70),
        a_case("Case 3", 3, setting="radiation", site="breast", response="stable"),
        a_case("Case 4", 3, concurrent_treatments=("paclitaxel",), updated_at=UPDATED),
    )
    for detail in ("short", "detailed"):
        situation = reader(
            "Can I use it with paclitaxel, and how long does it take?",
            setting="scalp_face",
            site="scalp",
            lesion_depth="deep",
            current_treatments=("paclitaxel",),
            detail=detail,
        )
        check_numbers_are_cited(draft_summary(situation, inputs_for(cases, situation)))


# --- the topic's words, not the code's ------------------------------------------------------


def test_a_topic_definition_of_another_condition_gives_its_own_words() -> None:
    other = changed(
        slug="sirolimus-khe",
        name="Sirolimus for kaposiform haemangioendothelioma",
        treatment="Sirolimus",
        condition="Kaposiform haemangioendothelioma",
        wording={
            "condition_name": "KHE",
            "treatment_name": "sirolimus",
            "treatment_form": "the medicine",
            "beyond_reach": "Sirolimus alone may not be enough.",
            "beyond_reach_said": "You said {your} KHE is large or deep.",
            "beyond_reach_heading": "Large or deep KHE",
            "beyond_reach_group": "large or deep KHE",
            "beyond_reach_question": "What else would treat large or deep KHE?",
            "urgent_signs": "{you} get a high fever;\n{your} breathing changes.",
        },
        glossary=[{"term": "KHE", "meaning": "a rare tumour of blood vessels in children."}],
        matching={
            **DEMO.data["matching"],
            "feature_names": {"setting": "the kind of KHE", "site": "where it is"},
            "matched_labels": {"setting": "Same kind of KHE"},
        },
    )
    cases = (
        a_case("Child 1", 1, regimen_strength="oral solution"),
        a_case("Child 2", 1, lesion_depth="deep", regimen_strength="oral solution"),
    )
    situation = reader(
        "Will it shrink?",
        setting="scalp_face",
        site="scalp",
        lesion_depth="deep",
        detail="detailed",
        for_whom="other",
    )
    inputs = replace(
        inputs_for(cases, situation, facts=()),
        definition=other,
        topic_name=other.name,
        treatment=other.treatment,
        condition=other.condition,
    )
    draft = draft_summary(situation, inputs)
    assert "Large or deep KHE" in draft.text
    assert "Sirolimus alone may not be enough." in draft.text
    assert "You said their KHE is large or deep." in draft.text
    assert "they get a high fever;" in draft.text
    assert "KHE: a rare tumour of blood vessels in children." in draft.text
    assert "the kind of KHE" in draft.text
    for word in ("angiosarcoma", "cream", "lymphoedema", "radiotherapy"):
        assert word not in draft.text.lower(), word


def test_drafts_are_the_same_whatever_the_case_order_with_decimals() -> None:
    cases = (a_case("A", 1, regimen_duration_weeks=Decimal("2.5")), a_case("B", 2))
    situation = reader("How long?", setting="scalp_face", site="scalp", detail="detailed")
    first = draft_summary(situation, inputs_for(cases, situation))
    again = draft_summary(situation, inputs_for(tuple(reversed(cases)), situation))
    assert first.text == again.text


def test_cases_list_cites_each_case_report() -> None:
    cases: tuple[CaseData, ...] = (a_case("One", 1), a_case("Two", 2))
    situation = reader(setting="scalp_face", site="scalp", detail="detailed")
    draft = draft_summary(situation, inputs_for(cases, situation))
    position = {ref.key: n for n, ref in enumerate(draft.references, start=1)}
    one, two = position["publication-1"], position["publication-2"]
    assert f"- One: scalp, 15 mm across; it cleared completely [{one}]." in draft.text
    assert f"- Two: scalp, 15 mm across; it cleared completely [{two}]." in draft.text


def test_a_group_cites_a_few_reports_and_always_a_demonstration_series() -> None:
    from evidencepress.summaries.drafting import MAX_SOURCES_CITED, publications_to_cite

    real = [a_case(f"Real {pub}-{n}", pub) for pub in range(1, 8) for n in range(3)]
    invented = [a_case("Invented", 99, is_demo=True)]
    chosen = publications_to_cite([*real, *invented])
    assert len(chosen) == MAX_SOURCES_CITED + 1 and chosen[-1] == 99
    many_series = [a_case(f"Demo {pub}", pub, is_demo=True) for pub in range(1, 500)]
    assert len(publications_to_cite(many_series)) == MAX_SOURCES_CITED
    assert publications_to_cite(real) == (1, 2, 3, 4, 5)
