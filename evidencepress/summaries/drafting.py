"""Draft a plain-language summary for one reader, from templates and computed evidence only.

Pure: imports nothing from Django, reads no clock and no randomness, so the same situation and
the same evidence always give the same text. Every number written into a draft goes through
`_Writer.number` or `_Writer.quote`, which records where it came from (`Draft.numbers`); a test
extracts every number from the text and checks it against that list.

What a draft says, section by section (see docs/drafting.md):
- a demonstration-data notice when any case, fact or reference is invented (`is_demo`);
- what the treatment is and how it works (sourced facts);
- what happened in reported cases like the reader's, with honest denominators, or that there are
  none (`matching.match_cases`, then `evidence.synthesis.synthesise` over the matches);
- what reported cases used (strength, applications per week, weeks), counted, never advised:
  "follow your specialist's plan". A reader asking about dose is told plainly that the summary
  cannot say;
- deep or widespread disease: topical treatment alone is unlikely to be enough;
- treatments the reader is having now, and how often reports combined them;
- what to expect: sourced side-effect frequencies and the usual time to response;
- how sure anyone can be (the certainty level and wording from `evidence.certainty`);
- questions for the care team (from the research gaps and the situation);
- when to get help straight away; a glossary of the words used; sources.
"""

from __future__ import annotations

import html
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from evidencepress.evidence import notices
from evidencepress.evidence.certainty import Certainty, Gap
from evidencepress.evidence.notices import DEMO_LABEL
from evidencepress.evidence.synthesis import CaseData, Synthesis
from evidencepress.evidence.vocabulary import BUILTIN

from . import readability, safety
from .glossary import Term, terms_used
from .matching import WEIGHTS, Match, Situation

SPECIALIST = "Follow your specialist's plan."
# The shared sentence, then the summary's own plainer request (its readability is tested).
NOT_ADVICE = f"{notices.NOT_ADVICE} Please make every choice about treatment with your specialist."
TOPICAL_NOT_ENOUGH = "Topical treatment alone is unlikely to be enough."
FACT_KINDS = ("mechanism", "common", "uncommon", "serious")
# Words in a question that mean the reader wants to know what dose or schedule to use.
DOSE_QUESTION = re.compile(
    r"\b(dose|doses|dosage|dosing|how much|how often|how many times|mg|milligrams?|"
    r"strength|schedule|times a (?:day|week)|per (?:day|week)|frequency|apply|applying|"
    r"how long (?:should|do|can|must) (?:i|we|you) (?:use|put|keep|leave))\b",
    re.IGNORECASE,
)
NUMBER = re.compile(r"\d+(?:\.\d+)?")
MAX_CASES_LISTED = 10
MAX_SOURCES_CITED = 5

OUTCOMES = BUILTIN.response_phrases()
SETTING_WORDS = BUILTIN.setting_phrases()
EXTENSIVE = BUILTIN.extensive_depths
IMPROVED = BUILTIN.improved_responses
MATCHED_WORDS = {
    "setting": "Same kind of angiosarcoma",
    "depth": "Same depth",
    "size": "Similar size",
    "surgery": "Same answer on surgery",
    "prior_treatments": "Some of the same past treatments",
    "site": "Same part of the body",
}
GAP_QUESTIONS = {
    "dose_frequency": "What dose and schedule would you plan for me, and why?",
    "duration": "How long would I use it, and how will we know when to stop?",
    "occlusion": "Should the treated skin be covered or left open?",
    "biopsy": "Will I need a biopsy before and after treatment?",
    "combination": "Should it be combined with other treatment, and in what order?",
    "biomarkers": "Is there a test that shows if it is likely to work for me?",
    "long_term": "How will we check that it has not come back, and for how long?",
}


# --- inputs ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reference:
    """A source a draft may cite: a formatted citation and where to read it."""

    key: str  # stable, e.g. "publication-12"
    citation: str
    url: str = ""
    is_demo: bool = False


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
    facts: tuple[Fact, ...] = ()
    # The publication of each case, by publication id.
    case_references: Mapping[int, Reference] = field(default_factory=dict)
    # Plain names of treatment slugs ("electron-beam-radiotherapy" -> "Electron beam ...").
    treatment_names: Mapping[str, str] = field(default_factory=dict)
    # The topic's approved safety rules this reader's request met (summaries.safety.evaluate).
    fired_rules: tuple[safety.FiredRule, ...] = ()


# --- output ------------------------------------------------------------------------------------

Block = str | tuple[str, ...]  # a paragraph, or a list of items


@dataclass(frozen=True)
class Section:
    key: str
    heading: str
    blocks: tuple[Block, ...]
    ordered: bool = False  # lists are numbered (the sources)


@dataclass(frozen=True)
class SourcedNumber:
    """A number as written in a draft, and where it came from."""

    value: str
    source: str


@dataclass(frozen=True)
class Draft:
    text: str  # plain text, paragraphs separated by blank lines
    html: str  # the same content as escaped HTML
    grade: float  # Flesch–Kincaid grade of the prose (readability.grade)
    smog: float
    sections: tuple[Section, ...]
    matches: tuple[Match, ...]
    numbers: tuple[SourcedNumber, ...]
    contains_demo: bool
    detail: str
    glossary: tuple[Term, ...]
    references: tuple[Reference, ...]
    asked_about_dose: bool

    def sources_of(self, value: str) -> tuple[str, ...]:
        return tuple(n.source for n in self.numbers if n.value == value)


# --- formatting ----------------------------------------------------------------------------


def format_number(value: float | int | Decimal) -> str:
    """One decimal place at most, half up; whole numbers without a decimal point."""
    rounded = Decimal(str(value)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    if rounded == rounded.to_integral_value():
        return str(int(rounded))
    return str(rounded)


def _join(words: Sequence[str]) -> str:
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + " and " + words[-1]


def _lower_first(name: str) -> str:
    return name[:1].lower() + name[1:] if name[1:2].islower() else name


class _Writer:
    """Formats numbers and free text into a draft while recording where each number came from."""

    def __init__(self) -> None:
        self._numbers: dict[tuple[str, str], None] = {}
        self.references: list[Reference] = []

    def number(self, value: float | int | Decimal, source: str) -> str:
        text = format_number(value)
        self._numbers[(text, source)] = None
        return text

    def quote(self, text: str, source: str) -> str:
        """Free text from the data or the reader: every number in it is recorded as sourced."""
        for token in NUMBER.findall(text):
            self._numbers[(token, source)] = None
        return text

    def cite(self, reference: Reference) -> str:
        if reference not in self.references:
            self.references.append(reference)
        position = self.references.index(reference) + 1
        return f"[{self.number(position, 'position in the list of sources')}]"

    @property
    def numbers(self) -> tuple[SourcedNumber, ...]:
        return tuple(SourcedNumber(value, source) for value, source in self._numbers)


def _cases(count: int, writer: _Writer, source: str) -> str:
    noun = "case" if count == 1 else "cases"
    return f"{writer.number(count, source)} reported {noun}"


def _treatment_name(slug: str, inputs: DraftInputs) -> str:
    return _lower_first(inputs.treatment_names.get(slug, slug.replace("-", " ")))


# --- sections --------------------------------------------------------------------------------


def _about(situation: Situation, inputs: DraftInputs, w: _Writer, drug: str) -> Section:
    condition = _lower_first(inputs.condition)
    blocks: list[Block] = [
        f"This summary is about {drug} for {condition}. It is written for you, from published "
        "reports about people in a situation like yours.",
        NOT_ADVICE,
    ]
    question = " ".join(situation.question.split())
    if question:
        blocks.append(f"You asked: “{w.quote(question, 'your question')}”")
    return Section("about", "About this summary", tuple(blocks))


def _demo_notice(w: _Writer) -> Section:
    return Section(
        "demo",
        DEMO_LABEL,
        (
            "Some or all of the cases in this summary are made up. They are illustrative "
            "demonstration data, not real patients. They only show how this service works. Do "
            "not use their numbers to make any choice about care.",
        ),
    )


def _what_it_is(inputs: DraftInputs, w: _Writer, drug: str) -> Section:
    facts = [fact for fact in inputs.facts if fact.kind == "mechanism"]
    if not facts:
        blocks: tuple[Block, ...] = (
            f"This summary is about {drug}. We do not yet have a sourced, plain description of "
            "how it works.",
        )
    else:
        blocks = tuple(
            f"{w.quote(fact.statement, f'fact {fact.key}')} {w.cite(fact.reference)}"
            for fact in facts
        )
    return Section("what_it_is", f"What {drug} is and how it works", blocks)


def _outcome_sentence(synthesis: Synthesis, lead: str, w: _Writer, source: str) -> list[str]:
    parts = [
        f"{w.number(synthesis.responses[key].count, f'{source}: responses.{key}')} {words}"
        for key, words in OUTCOMES
        if synthesis.responses[key].count
    ]
    unknown = synthesis.responses["unknown"].count
    reports = "report" if unknown == 1 else "reports"
    if not parts:
        return [f"{lead}, the {reports} did not say how it went."] if unknown else []
    sentences = [f"{lead}, {_join(parts)}."]
    if unknown:
        sentences.append(
            f"For {w.number(unknown, f'{source}: responses.unknown')} more, the {reports} did not "
            "say how it went."
        )
    return sentences


def _cases_like_yours(
    situation: Situation, inputs: DraftInputs, w: _Writer, drug: str, detailed: bool
) -> Section:
    heading = "What happened in reported cases like yours"
    similar = inputs.similar_synthesis
    topic = inputs.topic_synthesis
    blocks: list[Block] = []
    if not inputs.matches:
        if topic.patients == 0:
            blocks.append(
                f"No reports of {drug} for {_lower_first(inputs.condition)} have been collected "
                "yet. So we cannot say anything about how it works for people like you."
            )
            return Section("cases", heading, tuple(blocks))
        blocks.append(
            "We found no reported cases like yours. So we cannot say how it might work for you."
        )
        lead = f"Across all {_cases(topic.patients, w, 'topic synthesis: patients')}"
        blocks.extend(_outcome_sentence(topic, lead, w, "topic synthesis"))
        return Section("cases", heading, tuple(blocks))

    n = similar.patients
    lead = f"In {_cases(n, w, 'synthesis of cases like yours: patients')} like yours"
    blocks.append(" ".join(_outcome_sentence(similar, lead, w, "synthesis of cases like yours")))
    combined = sum(1 for m in inputs.matches if m.case.concurrent_treatments)
    if combined:
        how_many = (
            "all of these cases"
            if combined == n
            else f"{w.number(combined, 'cases like yours with a concurrent treatment')} of these "
            f"{w.number(n, 'synthesis of cases like yours: patients')}"
        )
        blocks.append(
            f"In {how_many}, {drug} was used together with another treatment. Then we cannot "
            "tell which one helped."
        )
    publications = cited_publications(inputs.matches)
    cited = [
        inputs.case_references[pub]
        for pub in publications[:MAX_SOURCES_CITED]
        if pub in inputs.case_references
    ]
    if cited:
        marks = " ".join(w.cite(ref) for ref in cited)
        more = len(publications) - len(cited)
        extra = (
            f" and {w.number(more, 'publications with cases like yours, not listed')} more"
            if more > 0
            else ""
        )
        reports = "report" if len(publications) == 1 else "reports"
        blocks.append(f"These cases come from the {reports} {marks}{extra}.")
    if detailed:
        blocks.append(
            "We looked for cases like yours by comparing the kind of angiosarcoma, where it is, "
            "how deep it goes, its size, whether surgery is possible and treatments already tried."
        )
        feature_counts = Counter(feature for m in inputs.matches for feature in m.matched)
        items = tuple(
            f"{MATCHED_WORDS[feature]}: "
            f"{w.number(feature_counts[feature], f'cases like yours matching on {feature}')} of "
            f"{w.number(n, 'synthesis of cases like yours: patients')}."
            for feature in WEIGHTS
            if feature_counts[feature]
        )
        if items:
            blocks.append(items)
        blocks.append(_case_list(inputs, w, drug))
        if inputs.matches and len(inputs.matches) > MAX_CASES_LISTED:
            shown = w.number(MAX_CASES_LISTED, "number of cases listed")
            blocks.append(f"The list shows the {shown} most like yours.")
    return Section("cases", heading, tuple(blocks))


def _case_list(inputs: DraftInputs, w: _Writer, drug: str) -> tuple[str, ...]:
    outcome = dict(OUTCOMES) | {"unknown": "the report did not say how it went"}
    items = []
    for match in inputs.matches[:MAX_CASES_LISTED]:
        case = match.case
        source = f"case {case.label!r} (publication {case.publication_id})"
        where = w.quote(case.site, f"{source}: site") if case.site else "site not reported"
        size = (
            f", {w.number(case.lesion_size_mm, f'{source}: lesion_size_mm')} mm across"
            if case.lesion_size_mm is not None
            else ""
        )
        result = outcome.get(case.response, outcome["unknown"])
        result = result if case.response == "unknown" else f"it {result}"
        given = ""
        if case.concurrent_treatments:
            names = [_treatment_name(slug, inputs) for slug in case.concurrent_treatments]
            given = f" Also given: {w.quote(_join(names), f'{source}: treatments')}."
        items.append(f"{w.quote(case.label, source)}: {where}{size}; {result}.{given}")
    return tuple(items)


def _regimen(
    situation: Situation, inputs: DraftInputs, w: _Writer, drug: str, asked: bool
) -> Section:
    like_yours = bool(inputs.matches)
    cases = [m.case for m in inputs.matches] if like_yours else list(inputs.topic_cases)
    group = "the cases like yours" if like_yours else "all the reported cases"
    blocks: list[Block] = []
    if asked:
        blocks.append(
            "You asked about the dose. This summary cannot tell you what dose to use, how often "
            "to use it or for how long. Please follow your specialist's plan."
        )
    if not cases:
        blocks.append(f"There are no reported cases to show how {drug} was used.")
        blocks.append(SPECIALIST)
        return Section("regimen", "How reported cases used it", tuple(blocks))
    items: list[str] = []
    strengths = Counter(case.regimen_strength.strip() for case in cases if case.regimen_strength)
    for strength, count in sorted(strengths.items(), key=lambda item: (-item[1], item[0])):
        name = w.quote(strength, f"regimen_strength of {group}")
        items.append(f"{name}: {_cases(count, w, f'{group} with this strength')}.")
    frequencies = Counter(
        case.regimen_frequency_per_week for case in cases if case.regimen_frequency_per_week
    )
    for per_week, count in sorted(frequencies.items()):
        times = w.number(per_week, f"regimen_frequency_per_week of {group}")
        items.append(
            f"Used {times} times a week: {_cases(count, w, f'{group} with this frequency')}."
        )
    durations = sorted(
        case.regimen_duration_weeks for case in cases if case.regimen_duration_weeks is not None
    )
    if durations:
        shortest = w.number(durations[0], f"shortest regimen_duration_weeks of {group}")
        longest = w.number(durations[-1], f"longest regimen_duration_weeks of {group}")
        span = f"{shortest} weeks" if shortest == longest else f"from {shortest} to {longest} weeks"
        items.append(
            f"Length of use: {span}, in the {_cases(len(durations), w, f'{group} with a duration')}"
            " that said."
        )
    missing = sum(
        1 for case in cases if not case.regimen_strength or not case.regimen_frequency_per_week
    )
    if missing:
        items.append(
            f"{_cases(missing, w, f'{group} without strength or frequency').capitalize()} did "
            "not say the strength or how often."
        )
    intro = f"This is what {group} used. It is a record, not advice."
    blocks.extend([intro, tuple(items), SPECIALIST])
    return Section("regimen", "How reported cases used it", tuple(blocks))


def _extensive(inputs: DraftInputs, w: _Writer, drug: str) -> Section:
    blocks: list[Block] = [
        f"You said your angiosarcoma is deep or widespread. {TOPICAL_NOT_ENOUGH} A cream acts "
        "mainly on the top layers of the skin. Deeper or wider disease usually needs other "
        "treatment too, such as surgery, radiotherapy or medicine that works through the blood.",
    ]
    extensive = [c for c in inputs.topic_cases if c.lesion_depth in EXTENSIVE]
    if extensive:
        better = sum(1 for c in extensive if c.response in IMPROVED)
        cleared = sum(1 for c in extensive if c.response == "complete")
        with_other = sum(1 for c in extensive if c.concurrent_treatments)
        source = "topic cases with deep or widespread disease"
        improved = w.number(better, f"{source}: complete or partial response") if better else "none"
        clear = w.number(cleared, f"{source}: complete response") if cleared else "none"
        other = (
            f"{w.number(with_other, f'{source}: with a concurrent treatment')} of them also had "
            "other treatment at the same time."
            if with_other
            else "None of them had other treatment at the same time."
        )
        blocks.append(
            f"In the {_cases(len(extensive), w, source)} with deep or widespread disease, "
            f"{improved} got better and {clear} cleared completely. {other}"
        )
    return Section("extensive", "Deep or widespread disease", tuple(blocks))


def _current(situation: Situation, inputs: DraftInputs, w: _Writer, drug: str) -> Section:
    blocks: list[Block] = []
    names = [_treatment_name(slug, inputs) for slug in situation.current_treatments]
    blocks.append(f"You told us you are having {w.quote(_join(names), 'your request')} now.")
    total = len(inputs.topic_cases)
    for slug, name in zip(situation.current_treatments, names, strict=True):
        together = [c for c in inputs.topic_cases if slug in c.concurrent_treatments]
        source = f"topic cases given {slug} at the same time"
        if not together:
            blocks.append(f"No reported case used {drug} together with {name}.")
            continue
        better = sum(1 for c in together if c.response in IMPROVED)
        blocks.append(
            f"{w.number(len(together), source)} of "
            f"{_cases(total, w, 'topic synthesis: patients')} used {drug} together with {name}. "
            f"Of these, {w.number(better, f'{source}: complete or partial response')} got better."
        )
    blocks.append(
        f"Do not add {drug}, or stop anything, without asking the specialist who looks after "
        "your treatment. Your team can check if they can be used safely together, and in what "
        "order. Nobody knows yet the best way to combine them."
    )
    return Section("current", "The treatment you are having now", tuple(blocks))


def _expect(inputs: DraftInputs, w: _Writer, drug: str, detailed: bool) -> Section:
    blocks: list[Block] = []
    similar = inputs.similar_synthesis
    use_similar = similar.time_to_response_weeks.reported > 0
    synthesis = similar if use_similar else inputs.topic_synthesis
    label = "synthesis of cases like yours" if use_similar else "topic synthesis"
    timing = synthesis.time_to_response_weeks
    if timing.median is not None:
        whose = "cases like yours" if use_similar else "all reported cases"
        people = "person" if timing.reported == 1 else "people"
        blocks.append(
            f"In {whose} where {drug} helped, the first clear change was seen after about "
            f"{w.number(timing.median, f'{label}: time_to_response_weeks.median')} weeks. This "
            f"is the middle value from "
            f"{w.number(timing.reported, f'{label}: time_to_response_weeks.reported')} {people}."
        )
        if detailed and timing.q1 is not None and timing.q3 is not None and timing.reported > 1:
            blocks.append(
                "For the middle half of them, it took from "
                f"{w.number(timing.q1, f'{label}: time_to_response_weeks.q1')} to "
                f"{w.number(timing.q3, f'{label}: time_to_response_weeks.q3')} weeks."
            )
    else:
        blocks.append("The reports do not tell us how long it took to see a change.")
    recurrence = synthesis.recurrence_among_responders
    if detailed and recurrence.total:
        blocks.append(
            f"Of the {w.number(recurrence.total, f'{label}: recurrence_among_responders.total')} "
            "who got better and whose reports said, "
            f"{w.number(recurrence.count, f'{label}: recurrence_among_responders.count')} saw it "
            "come back later."
        )

    kinds = ("common", "uncommon", "serious") if detailed else ("common", "serious")
    for kind in kinds:
        facts = [fact for fact in inputs.facts if fact.kind == kind]
        if facts:
            blocks.append(
                tuple(
                    f"{w.quote(fact.statement, f'fact {fact.key}')} {w.cite(fact.reference)}"
                    for fact in facts
                )
            )
    if not inputs.facts or not any(f.kind != "mechanism" for f in inputs.facts):
        blocks.append("We have no sourced figures on side effects yet.")
    if detailed and inputs.matches:
        events = similar.patients_with_adverse_events
        sentence = (
            f"In the cases like yours, side effects were reported for "
            f"{w.number(events.count, 'synthesis of cases like yours: patients with side effects')}"
            f" of {w.number(events.total, 'synthesis of cases like yours: patients')}."
        )
        top = similar.adverse_events[:3]
        if top:
            named = [
                f"{w.quote(event.kind, 'adverse event kind')} "
                f"({w.number(event.patients, f'cases like yours with {event.kind}')})"
                for event in top
            ]
            sentence += f" The most common were {_join(named)}."
        blocks.append(sentence)
    return Section("expect", "What to expect", tuple(blocks))


def _certainty_wording(inputs: DraftInputs, w: _Writer) -> str:
    """evidence.certainty's plain wording, if every number in it is a number of the synthesis.

    Otherwise (a wording this module does not know how to trace) the same finding is written
    from the synthesis directly, so no untraced number can reach a reader.
    """
    topic = inputs.topic_synthesis
    share = topic.any_response
    values: list[float | int] = [share.count, share.total, topic.publications, topic.patients]
    values += [100 * v for v in (share.proportion, share.ci_low, share.ci_high) if v is not None]
    allowed = {format_number(value) for value in values} | {str(round(v)) for v in values}
    wording = inputs.certainty.wording
    if all(token in allowed for token in NUMBER.findall(wording)):
        return w.quote(wording, "certainty wording (evidence.certainty, from the topic synthesis)")
    if share.total == 0:
        return "No reports have been collected yet, so we cannot say anything."
    return (
        f"The condition improved in {w.number(share.count, 'topic synthesis: any_response.count')}"
        f" of {_cases(share.total, w, 'topic synthesis: any_response.total')}; we cannot be sure "
        "it would help others."
    )


def _certainty(inputs: DraftInputs, w: _Writer, detailed: bool) -> Section:
    topic = inputs.topic_synthesis
    blocks: list[Block] = [
        f"Doctors rate this kind of evidence as “{inputs.certainty.level}” certainty. It comes "
        "from reports about single patients, not from trials that compare groups.",
        "Looking at all the reports we hold, not only those like yours: "
        + _certainty_wording(inputs, w),
        "Reports where a treatment worked are more likely to be published than reports where it "
        "did not. So the real picture may be less good than these reports.",
    ]
    if detailed and topic.patients:
        missing = topic.missing.get("response_assessment", 0)
        if missing:
            blocks.append(
                f"Many reports leave things out. For example, "
                f"{w.number(missing, 'topic synthesis: missing.response_assessment')} of "
                f"{_cases(topic.patients, w, 'topic synthesis: patients')} did not say how the "
                "result was checked."
            )
        if topic.evidence_date is not None:
            date = topic.evidence_date
            day = w.number(date.day, "topic synthesis: evidence_date")
            year = w.number(date.year, "topic synthesis: evidence_date")
            blocks.append(f"These numbers use the reports as they stood on {day} {date:%B} {year}.")
    return Section("certainty", "How sure can anyone be?", tuple(blocks))


def _questions(
    situation: Situation, inputs: DraftInputs, w: _Writer, drug: str, detailed: bool
) -> Section:
    items: list[str] = []
    if situation.surgery_possible is False:
        items.append("Why is surgery not an option for me, and what else could work?")
    elif situation.surgery_possible is None:
        items.append("Could surgery be an option for me?")
    if situation.extensive:
        items.append("What treatment would reach deeper or wider disease?")
    if situation.current_treatments:
        names = _join([_treatment_name(slug, inputs) for slug in situation.current_treatments])
        items.append(f"Can {drug} be used while I have {names}? In what order?")
    if situation.setting == "radiation" or any(
        "radio" in slug for slug in situation.prior_treatments
    ):
        items.append(f"Is {drug} safe on skin that has had radiotherapy?")
    gap_items = []
    for gap in inputs.gaps:
        question = GAP_QUESTIONS.get(gap.key)
        if question is None:
            question = (
                f"Ask about this open question: {w.quote(gap.question, 'research question')}."
            )
        elif gap.key == "combination" and situation.current_treatments:
            continue
        if detailed and gap.key in GAP_QUESTIONS and gap.total:
            source = f"research gap {gap.key}"
            informed = (
                f"Only {w.number(gap.informed, f'{source}: cases informing it')}"
                if gap.informed
                else "None"
            )
            question += (
                f" ({informed} of {_cases(gap.total, w, f'{source}: cases')} tell us about this.)"
            )
        gap_items.append(question)
    items.extend(gap_items if detailed else gap_items[:3])
    return Section(
        "questions",
        "Questions to ask your care team",
        ("You may want to take these questions to your next visit.", tuple(items)),
    )


def _urgent(drug: str) -> Section:
    return Section(
        "urgent",
        "When to get help straight away",
        (
            f"Call your care team the same day if, while using {drug}:",
            (
                "the skin breaks down into open, weeping or bleeding sores that spread;",
                "you get a fever or chills, or feel very unwell, like a bad flu;",
                "a rash or blisters appear away from the treated skin, or in your mouth or eyes;",
                "your muscles feel weak;",
                "the lump grows fast, bleeds a lot, or new lumps appear.",
            ),
            "If you feel very ill or find it hard to breathe, call emergency services.",
        ),
    )


def _glossary(terms: Iterable[Term]) -> Section:
    return Section(
        "glossary",
        "Words used in this summary",
        (tuple(f"{term.term[:1].upper()}{term.term[1:]}: {term.meaning}" for term in terms),),
    )


def _sources(w: _Writer) -> Section:
    items = []
    for position, ref in enumerate(w.references, start=1):
        w.number(position, "position in the list of sources")  # the list's own numbering
        citation = w.quote(ref.citation, f"reference {ref.key}")
        label = f" ({DEMO_LABEL})" if ref.is_demo else ""
        url = f" {w.quote(ref.url, f'reference {ref.key}')}" if ref.url else ""
        items.append(f"{citation}{label}{url}")
    blocks: tuple[Block, ...] = (tuple(items),) if items else ("No sources were cited.",)
    return Section("sources", readability.SOURCES_HEADING, blocks, ordered=True)


# --- rendering ------------------------------------------------------------------------------


def _block_text(block: Block, ordered: bool) -> str:
    if isinstance(block, str):
        return block
    if ordered:
        return "\n".join(f"{position}. {item}" for position, item in enumerate(block, start=1))
    return "\n".join(f"- {item}" for item in block)


def render_text(title: str, sections: Sequence[Section]) -> str:
    """Plain text: a title, then each heading and its blocks, separated by blank lines."""
    parts = [title]
    for section in sections:
        parts.append(section.heading)
        parts.extend(_block_text(block, section.ordered) for block in section.blocks)
    return "\n\n".join(parts) + "\n"


def render_html(title: str, sections: Sequence[Section]) -> str:
    """The same content as HTML; every piece of text is escaped."""
    out = [f"<h1>{html.escape(title)}</h1>"]
    for section in sections:
        css = "summary-section summary-demo" if section.key == "demo" else "summary-section"
        out.append(f'<section class="{css}" id="summary-{section.key}">')
        out.append(f"<h2>{html.escape(section.heading)}</h2>")
        for block in section.blocks:
            if isinstance(block, str):
                out.append(f"<p>{html.escape(block)}</p>")
            else:
                tag = "ol" if section.ordered else "ul"
                items = "".join(f"<li>{html.escape(item)}</li>" for item in block)
                out.append(f"<{tag}>{items}</{tag}>")
        out.append("</section>")
    return "\n".join(out) + "\n"


# --- the draft --------------------------------------------------------------------------------


def cited_publications(matches: Sequence[Match]) -> tuple[int, ...]:
    """Publications of the matched cases, the one with most matches first (then by id).

    A draft cites the first MAX_SOURCES_CITED of them and counts the rest.
    """
    counts = Counter(m.case.publication_id for m in matches)
    return tuple(pub for pub, _ in sorted(counts.items(), key=lambda item: (-item[1], item[0])))


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
    """Write the plain-language draft for one reader from templates and the evidence given."""
    detailed = situation.detail == "detailed"
    drug = _lower_first(inputs.treatment)
    asked = asks_about_dose(situation.question)
    demo = contains_demo(inputs)
    w = _Writer()
    sections: list[Section] = []
    if demo:
        sections.append(_demo_notice(w))
    sections.append(_about(situation, inputs, w, drug))
    if inputs.fired_rules:  # what the reader's situation needs, near the top (safety rules)
        sections.append(
            Section("safety", safety.HEADING, safety.draft_blocks(inputs.fired_rules, w.quote))
        )
    sections.append(_what_it_is(inputs, w, drug))
    sections.append(_cases_like_yours(situation, inputs, w, drug, detailed))
    if asked or detailed:
        sections.append(_regimen(situation, inputs, w, drug, asked))
    if situation.extensive:
        sections.append(_extensive(inputs, w, drug))
    if situation.current_treatments:
        sections.append(_current(situation, inputs, w, drug))
    sections.append(_expect(inputs, w, drug, detailed))
    sections.append(_certainty(inputs, w, detailed))
    sections.append(_questions(situation, inputs, w, drug, detailed))
    sections.append(_urgent(drug))
    body = render_text("", sections)
    terms = terms_used(body)
    if terms:
        sections.append(_glossary(terms))
    sections.append(_sources(w))

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
