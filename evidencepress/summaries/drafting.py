"""Draft a plain-language summary for one reader, from templates and computed evidence only.

The engine. Pure: imports nothing from Django, reads no clock and no randomness, so the same
situation and the same evidence always give the same text. Every number written into a draft
goes through `draft_text.Writer`, which records where it came from (`Draft.numbers`); a test
extracts every number from the text and checks it against that list.

The topic's words are not here: `DraftInputs.definition` (the topic's definition) gives them,
through `phrasing.Phrases`, to the section writers of `draft_sections`. What a draft says,
section by section (see docs/drafting.md):
- exactly how many of its cases are invented, first, when any case, fact or source is
  (`is_demo`);
- what the treatment is and how it works (sourced facts);
- the reader's own question: answered from the evidence, or said plainly that the reports cannot
  answer it and turned into a question for the care team;
- what happened in reported cases like the reader's, with honest denominators and each group
  named, or that there are none (`matching.match_cases`, then `synthesise` over the matches);
- what reported cases used (strength, applications per week, weeks), counted, never advised;
- an extent beyond what the treatment reaches: the topic's wording and each group's numbers;
- treatments the reader is having now, and how often reports combined them;
- what to expect: sourced side-effect frequencies and the usual time to response;
- how sure anyone can be (certainty, the topic's certainty wording) and the evidence date;
- questions for the care team (from the research gaps, the situation and the question);
- when to get help straight away; a glossary of the words used; numbered sources.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from evidencepress.evidence.certainty import Certainty, Gap
from evidencepress.evidence.notices import DEMO_LABEL
from evidencepress.evidence.synthesis import CaseData, Synthesis
from evidencepress.evidence.topic_definition import GlossaryTerm, TopicDefinition

from . import draft_sections as sections_
from . import readability, safety
from .draft_sections import (
    MAX_CASES_LISTED,
    MAX_SOURCES_CITED,
    NOT_ADVICE,
    SPECIALIST,
    case_groups,
    cited_publications,
    publications_to_cite,
)
from .draft_text import (
    NUMBER,
    Block,
    Reference,
    Section,
    SourcedNumber,
    Writer,
    format_number,
    render_html,
    render_text,
)
from .matching import Match, Situation, beyond_reach, check_situation
from .phrasing import Phrases, terms_used

__all__ = [
    "DEMO_LABEL",
    "MAX_CASES_LISTED",
    "MAX_SOURCES_CITED",
    "NOT_ADVICE",
    "NUMBER",
    "SPECIALIST",
    "Block",
    "Draft",
    "DraftInputs",
    "Fact",
    "Reference",
    "Section",
    "SourcedNumber",
    "asks_about_dose",
    "case_groups",
    "cited_publications",
    "contains_demo",
    "draft_summary",
    "format_number",
    "publications_to_cite",
]

FACT_KINDS = ("mechanism", "common", "uncommon", "serious")
# Words in a question that mean the reader wants to know what dose or schedule to use.
DOSE_QUESTION = re.compile(
    r"\b(dose|doses|dosage|dosing|how much|how often|how many times|mg|milligrams?|"
    r"strength|schedule|times a (?:day|week)|per (?:day|week)|frequency|apply|applying|"
    r"how long (?:should|do|can|must) (?:i|we|you|she|he|they) (?:use|put|keep|leave))\b",
    re.IGNORECASE,
)


# --- inputs ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Fact:
    """A sourced statement about the treatment (how it works, a side effect and how often)."""

    key: str
    kind: str  # one of FACT_KINDS
    statement: str  # plain words; every number in it was checked against the fact's values
    reference: Reference


@dataclass(frozen=True)
class DraftInputs:
    """Everything a draft is written from, as plain data (built by `evidence_inputs`)."""

    topic_name: str
    treatment: str
    condition: str
    topic_synthesis: Synthesis
    topic_cases: tuple[CaseData, ...]
    matches: tuple[Match, ...]
    similar_synthesis: Synthesis  # synthesise() over the matched cases
    certainty: Certainty
    gaps: tuple[Gap, ...]
    # The topic's definition: its vocabulary, wording, glossary, matching and certainty wording.
    definition: TopicDefinition
    facts: tuple[Fact, ...] = ()
    # The publication of each case a draft may cite, by publication id (`publications_to_cite`).
    case_references: Mapping[int, Reference] = field(default_factory=dict)
    # Plain names of treatment slugs ("electron-beam-radiotherapy" -> "Electron beam ...").
    treatment_names: Mapping[str, str] = field(default_factory=dict)
    # The topic's approved safety rules this reader's request met (summaries.safety.evaluate).
    fired_rules: tuple[safety.FiredRule, ...] = ()


# --- output ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Draft:
    text: str  # plain text: "# " title, "## " headings, "- " and "1. " lists, blank lines
    html: str  # the same content as escaped HTML
    grade: float  # Flesch–Kincaid grade of the prose (readability.grade)
    smog: float
    sections: tuple[Section, ...]
    matches: tuple[Match, ...]
    numbers: tuple[SourcedNumber, ...]
    contains_demo: bool
    detail: str
    glossary: tuple[GlossaryTerm, ...]
    references: tuple[Reference, ...]
    asked_about_dose: bool

    def sources_of(self, value: str) -> tuple[str, ...]:
        return tuple(n.source for n in self.numbers if n.value == value)


def contains_demo(inputs: DraftInputs) -> bool:
    """True when any case, fact or reference the draft may use is demonstration data."""
    return (
        inputs.topic_synthesis.demo_patients > 0
        or any(m.case.is_demo for m in inputs.matches)
        or any(fact.reference.is_demo for fact in inputs.facts)
        or any(ref.is_demo for ref in inputs.case_references.values())
    )


def asks_about_dose(question: str) -> bool:
    return bool(DOSE_QUESTION.search(question))


def draft_summary(situation: Situation, inputs: DraftInputs) -> Draft:
    """Write the plain-language draft for one reader from templates and the evidence given.

    Raises ValueError (naming the field) when the situation's answers are not values of the
    topic's vocabulary.
    """
    check_situation(situation, inputs.definition.vocabulary)
    phrases = Phrases(inputs.definition, situation.for_whom)
    detailed = situation.detail == "detailed"
    asked = asks_about_dose(situation.question)
    demo = contains_demo(inputs)
    w = Writer()
    sections: list[Section] = []
    if demo:
        sections.append(sections_.demo_notice(inputs, w))
    sections.append(sections_.about(situation, inputs, w, phrases))
    if inputs.fired_rules:  # what the reader's situation needs, near the top (safety rules)
        sections.append(
            Section("safety", safety.HEADING, safety.draft_blocks(inputs.fired_rules, w.quote))
        )
    own, team_question = sections_.your_question(situation, inputs, w, phrases, asked)
    if own is not None:
        sections.append(own)
    sections.append(sections_.what_it_is(inputs, w, phrases))
    sections.append(sections_.cases_like_yours(situation, inputs, w, phrases, detailed))
    if asked or detailed:
        sections.append(sections_.regimen(situation, inputs, w, phrases, asked))
    if beyond_reach(situation, inputs.definition.vocabulary):
        sections.append(sections_.beyond_reach_section(situation, inputs, w, phrases))
    if situation.current_treatments:
        sections.append(sections_.current(situation, inputs, w, phrases))
    sections.append(sections_.expect(inputs, w, phrases, detailed))
    sections.append(sections_.certainty(inputs, w, phrases, detailed))
    sections.append(sections_.questions(situation, inputs, w, phrases, detailed, team_question))
    sections.append(sections_.urgent(phrases))
    body = render_text("", sections)
    terms = terms_used(body, inputs.definition.glossary)
    if terms:
        sections.append(sections_.glossary(terms))
    sections.append(sections_.sources(w))

    title = f"Plain-language summary: {inputs.topic_name}"
    w.quote(title, "topic name")
    text = render_text(title, sections)
    return Draft(
        text=text,
        html=render_html(title, sections),
        grade=readability.grade(text),
        smog=readability.smog(text),
        sections=tuple(sections),
        matches=inputs.matches,
        numbers=w.numbers,
        contains_demo=demo,
        detail=situation.detail,
        glossary=terms,
        references=tuple(w.references),
        asked_about_dose=asked,
    )
