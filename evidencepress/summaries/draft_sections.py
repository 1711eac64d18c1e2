"""The sections of a draft, written from the evidence in the topic's own words.

Pure: imports nothing from Django. Each function writes one section (`draft_text.Section`) from
`DraftInputs`, the reader's `Situation` and the topic's `Phrases`; `drafting.draft_summary`
puts them in order. Rules every section keeps:

- every number goes through the `Writer` (its source is recorded) and names its group: "cases
  like yours" (the matches), "cases with the same setting", "all reported cases"; a number of
  another group is never presented as the reader's;
- every number about reported cases is cited to the reports it comes from (`cite_cases`);
- the voice follows `Situation.for_whom` (`phrasing.VOICES`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from evidencepress.evidence import notices
from evidencepress.evidence.notices import DEMO_LABEL
from evidencepress.evidence.synthesis import CaseData, Synthesis, synthesise
from evidencepress.evidence.topic_definition import GlossaryTerm

from . import readability
from .draft_text import Block, Section, Writer, join, lower_first, upper_first
from .matching import FEATURES, UNKNOWN_VALUES, Match, Situation, beyond_reach
from .phrasing import Phrases, question_kinds

if TYPE_CHECKING:
    from .drafting import DraftInputs

SPECIALIST = "Follow your specialist's plan."
SPECIALIST_OTHER = "Follow their specialist's plan."
# The shared sentence, then the summary's own plainer request (its readability is tested).
NOT_ADVICE = f"{notices.NOT_ADVICE} Please make every choice about treatment with your specialist."
NOT_ADVICE_OTHER = (
    f"{notices.NOT_ADVICE} Please make every choice about their treatment with their specialist."
)
MAX_CASES_LISTED = 10
# The group of every case of the topic, as drafts name it.
ALL = "all reported cases"
MAX_SOURCES_CITED = 5


# --- which reports a group of cases cites ----------------------------------------------------


def cited_publications(cases: Iterable[CaseData]) -> tuple[int, ...]:
    """Publications of `cases`, the one with most cases first (then by id)."""
    counts = Counter(case.publication_id for case in cases)
    return tuple(pub for pub, _ in sorted(counts.items(), key=lambda item: (-item[1], item[0])))


def publications_to_cite(cases: Sequence[CaseData]) -> tuple[int, ...]:
    """The publications a number about `cases` cites: the first MAX_SOURCES_CITED by number of
    cases and, when the cases include invented ones but none of those is a demonstration
    series, the demonstration series with most of them too (so Sources always list one)."""
    publications = cited_publications(cases)
    chosen = list(publications[:MAX_SOURCES_CITED])
    demo = {case.publication_id for case in cases if case.is_demo}
    if demo and not demo.intersection(chosen):
        chosen.append(next(pub for pub in publications if pub in demo))
    return tuple(chosen)


def case_groups(
    situation: Situation,
    inputs_cases: Sequence[CaseData],
    matches: Sequence[Match],
    phrases: Phrases,
) -> tuple[tuple[CaseData, ...], ...]:
    """Every group of cases a draft may give numbers about (and so cite)."""
    groups = [tuple(inputs_cases), tuple(m.case for m in matches)]
    groups.append(tuple(c for c in inputs_cases if _same_setting(c, situation)))
    extensive = phrases.definition.vocabulary.extensive_depths
    if beyond_reach(situation, phrases.definition.vocabulary):
        wide = tuple(c for c in inputs_cases if c.lesion_depth in extensive)
        groups += [wide, tuple(c for c in wide if _same_setting(c, situation))]
    for slug in situation.current_treatments:
        groups.append(tuple(c for c in inputs_cases if slug in c.concurrent_treatments))
    return tuple(groups)


def _same_setting(case: CaseData, situation: Situation) -> bool:
    return situation.setting not in UNKNOWN_VALUES and case.setting == situation.setting


def cite_cases(cases: Sequence[CaseData], inputs: DraftInputs, w: Writer, group: str = "") -> str:
    """The citation of the reports `cases` come from, " [1, 2]" ("" when none is known).

    `group` names a group cited more than once in a draft: its publications are counted once
    (a topic may hold thousands of cases).
    """
    chosen = w.groups.get(group) if group else None
    if chosen is None:
        chosen = publications_to_cite(cases)
        if group:
            w.groups[group] = chosen
    references = [inputs.case_references[pub] for pub in chosen if pub in inputs.case_references]
    marks = w.cite(references)
    return f" {marks}" if marks else ""


def _cases(count: int, w: Writer, source: str) -> str:
    noun = "case" if count == 1 else "cases"
    return f"{w.number(count, source)} reported {noun}"


def _treatment_name(slug: str, inputs: DraftInputs) -> str:
    return lower_first(inputs.treatment_names.get(slug, slug.replace("-", " ")))


def _like(p: Phrases) -> str:
    """The group of matched cases: "cases like yours" / "cases like theirs"."""
    return f"cases like {p.v('yours')}"


def _specialist(p: Phrases) -> str:
    return SPECIALIST_OTHER if p.caregiver else SPECIALIST


# --- sections ---------------------------------------------------------------------------------


def demo_notice(inputs: DraftInputs, w: Writer) -> Section:
    """Exact: how many of the cases this summary uses are invented (all of them, or N of M)."""
    topic = inputs.topic_synthesis
    demo_cases = [case for case in inputs.topic_cases if case.is_demo]
    cite = cite_cases(demo_cases, inputs, w, "demo") if demo_cases else ""
    rest = (
        "They are illustrative demonstration data, not real patients. They only show how this "
        "service works. Do not use their numbers to make any choice about care."
    )
    if topic.demo_patients and topic.demo_patients == topic.patients:
        total = w.number(topic.patients, "topic synthesis: demo_patients")
        noun = "case" if topic.patients == 1 else "cases"
        verb = "is" if topic.patients == 1 else "are"
        first = (
            f"The {noun} in this summary {verb} invented{cite}."
            if topic.patients == 1
            else f"All {total} reported {noun} in this summary {verb} invented{cite}."
        )
    elif topic.demo_patients:
        demo = w.number(topic.demo_patients, "topic synthesis: demo_patients")
        total = w.number(topic.patients, "topic synthesis: patients")
        verb = "is" if topic.demo_patients == 1 else "are"
        first = f"{demo} of the {total} reported cases in this summary {verb} invented{cite}."
        rest = rest.replace("They are", "The invented ones are", 1)
    else:
        first = "Some of the sources in this summary were invented for the demonstration."
        rest = "They are not medical evidence. Do not use them to make any choice about care."
    return Section("demo", DEMO_LABEL, (f"{first} {rest}",))


# The question each matching feature needs (treatments are asked of every topic).
_FEATURE_QUESTION = {
    "setting": "setting",
    "depth": "lesion_depth",
    "size": "lesion_size_mm",
    "surgery": "surgery_possible",
    "site": "site",
}


def _asked_features(inputs: DraftInputs) -> tuple[str, ...]:
    """The matching features the topic's questionnaire asks about, in matching's order."""
    return tuple(
        feature
        for feature in FEATURES
        if feature not in _FEATURE_QUESTION
        or inputs.definition.question(_FEATURE_QUESTION[feature]) is not None
    )


def about(situation: Situation, inputs: DraftInputs, w: Writer, p: Phrases) -> Section:
    condition = p.condition_in_sentence
    written_for = (
        "It is written for you, about the person you care for, from published reports about "
        "people in a situation like theirs."
        if p.caregiver
        else "It is written for you, from published reports about people in a situation like yours."
    )
    blocks: list[Block] = [
        f"This summary is about {p.drug} for {condition}. {written_for}",
        NOT_ADVICE_OTHER if p.caregiver else NOT_ADVICE,
    ]
    question = " ".join(situation.question.split())
    if question:
        blocks.append(f"You asked: “{w.quote(question, 'your question')}”")
    return Section("about", "About this summary", tuple(blocks))


def your_question(
    situation: Situation, inputs: DraftInputs, w: Writer, p: Phrases, asked_dose: bool
) -> tuple[Section | None, str | None]:
    """The reader's own question: answered from the evidence where the reports can; otherwise
    said plainly that they cannot, and turned into a question for the care team (returned)."""
    question = " ".join(situation.question.split())
    if not question:
        return None, None
    kinds = question_kinds(question)
    blocks: list[Block] = []
    matched = [m.case for m in inputs.matches]
    group_cases = matched or list(inputs.topic_cases)
    group = _like(p) if matched else ALL
    answered = False
    if asked_dose:
        blocks.append(
            "You asked about the dose. This summary cannot tell you what dose to use, how often "
            f"to use it or for how long. {_specialist(p)} Under “How reported cases used it” we "
            "show what the reports used."
        )
        answered = True
    if "instead" in kinds:
        sentence = (
            f"The reports cannot tell you whether {p.drug} could replace another treatment. No "
            "report compared them."
        )
        if group_cases:
            alone = sum(1 for c in group_cases if not c.concurrent_treatments)
            sentence += (
                f" In {group}, {w.number(alone, f'{group}: without a concurrent treatment')} of "
                f"{_cases(len(group_cases), w, f'{group}: patients')} used {p.drug} with no "
                f"other treatment at the same time{cite_cases(group_cases, inputs, w, group)}."
            )
        blocks.append(sentence)
    elif "works" in kinds:
        synthesis = inputs.similar_synthesis if matched else inputs.topic_synthesis
        share = synthesis.any_response
        if share.total:
            blocks.append(
                f"In {group}, it got better in "
                f"{w.number(share.count, f'{group}: any_response.count')} of "
                f"{_cases(share.total, w, f'{group}: any_response.total')} whose reports said"
                f"{cite_cases(group_cases, inputs, w, group)}. This cannot tell you what will "
                f"happen to {p.v('you_obj')}."
            )
            answered = True
    if "time" in kinds and (
        inputs.similar_synthesis.time_to_response_weeks.reported
        or inputs.topic_synthesis.time_to_response_weeks.reported
    ):
        blocks.append("The section “What to expect” says how long it took in the reports.")
        answered = True
    if "side_effects" in kinds and inputs.facts:
        blocks.append("The section “What to expect” lists side effects and how often they happen.")
        answered = True
    if "together" in kinds and situation.current_treatments:
        blocks.append(f"The section “{_current_heading(p)}” says how often reports combined them.")
        answered = True
    team_question = None
    if "instead" in kinds or not answered:
        blocks.append(
            "The reports we hold cannot answer this question. Only "
            f"{p.v('your')} care team can. We added it to the questions to ask, below."
        )
        team_question = f"“{question}”"
    heading = "Your question about them" if p.caregiver else "Your question"
    return Section("your_question", heading, tuple(blocks)), team_question


def what_it_is(inputs: DraftInputs, w: Writer, p: Phrases) -> Section:
    facts = [fact for fact in inputs.facts if fact.kind == "mechanism"]
    if not facts:
        blocks: tuple[Block, ...] = (
            f"This summary is about {p.drug}. We do not yet have a sourced, plain description "
            "of how it works.",
        )
    else:
        blocks = tuple(
            f"{w.quote(fact.statement, f'fact {fact.key}')} {w.cite([fact.reference])}"
            for fact in facts
        )
    return Section("what_it_is", f"What {p.drug} is and how it works", blocks)


def _outcome_sentence(
    synthesis: Synthesis, lead: str, w: Writer, source: str, p: Phrases, cite: str
) -> list[str]:
    parts = [
        f"{w.number(synthesis.responses[key].count, f'{source}: responses.{key}')} {words}"
        for key, words in p.definition.vocabulary.response_phrases()
        if key in synthesis.responses and synthesis.responses[key].count
    ]
    unknown_share = synthesis.responses.get("unknown")
    unknown = unknown_share.count if unknown_share is not None else 0
    reports = "report" if unknown == 1 else "reports"
    if not parts:
        return [f"{lead}, the {reports} did not say how it went{cite}."] if unknown else []
    sentences = [f"{lead}, {join(parts)}{cite}."]
    if unknown:
        sentences.append(
            f"For {w.number(unknown, f'{source}: responses.unknown')} more, the {reports} did "
            f"not say how it went{cite}."
        )
    return sentences


def cases_like_yours(
    situation: Situation,
    inputs: DraftInputs,
    w: Writer,
    p: Phrases,
    detailed: bool,
) -> Section:
    like = _like(p)
    heading = f"What happened in reported {like}"
    similar = inputs.similar_synthesis
    topic = inputs.topic_synthesis
    blocks: list[Block] = []
    if not inputs.matches:
        if topic.patients == 0:
            blocks.append(
                f"No reports of {p.drug} for {p.condition_in_sentence} have been collected "
                "yet. So we cannot say anything about how it works for people like "
                f"{p.v('you_obj')}."
            )
            return Section("cases", heading, tuple(blocks))
        blocks.append(
            f"We found no reported {like}. So we cannot say how it might work for {p.v('you_obj')}."
        )
        same = [c for c in inputs.topic_cases if _same_setting(c, situation)]
        setting_words = p.setting_phrase(situation.setting)
        if same:
            where = f" ({setting_words})" if setting_words else ""
            lead = (
                f"In the {_cases(len(same), w, 'cases with the same setting: patients')} "
                f"with the same setting{where}"
            )
            blocks.extend(
                _outcome_sentence(
                    synthesise(same, vocabulary=p.definition.vocabulary),
                    lead,
                    w,
                    "cases with the same setting",
                    p,
                    cite_cases(same, inputs, w, "same setting"),
                )
            )
        lead = f"Across all {_cases(topic.patients, w, 'topic synthesis: patients')}"
        if situation.setting not in UNKNOWN_VALUES:
            lead += ", in any setting"
        blocks.extend(
            _outcome_sentence(
                topic,
                lead,
                w,
                "topic synthesis",
                p,
                cite_cases(inputs.topic_cases, inputs, w, ALL),
            )
        )
        blocks.append(
            f"These are not cases like {p.v('yours')}, so these numbers may not be true for "
            f"{p.v('you_obj')}."
        )
        return Section("cases", heading, tuple(blocks))

    n = similar.patients
    matched = [m.case for m in inputs.matches]
    cite = cite_cases(matched, inputs, w, _like(p))
    lead = f"In {_cases(n, w, 'synthesis of cases like yours: patients')} like {p.v('yours')}"
    blocks.append(
        " ".join(_outcome_sentence(similar, lead, w, "synthesis of cases like yours", p, cite))
    )
    combined = sum(1 for m in inputs.matches if m.case.concurrent_treatments)
    if combined:
        how_many = (
            f"all of these {like}"
            if combined == n
            else f"{w.number(combined, 'cases like yours with a concurrent treatment')} of these "
            f"{w.number(n, 'synthesis of cases like yours: patients')} {like}"
        )
        blocks.append(
            f"In {how_many}, {p.drug} was used together with another treatment{cite}. Then we "
            "cannot tell which one helped."
        )
    publications = cited_publications(matched)
    if len(publications) > 1 or detailed:
        reports = "report" if len(publications) == 1 else "reports"
        count = w.number(len(publications), "publications with cases like yours")
        blocks.append(f"These cases come from {count} {reports}{cite}.")
    if detailed:
        features = _asked_features(inputs)
        named = [p.feature_name(feature) for feature in features]
        blocks.append(f"We looked for {like} by comparing {join(named)}.")
        feature_counts = Counter(feature for m in inputs.matches for feature in m.matched)
        items = tuple(
            f"{p.matched_label(feature)}: "
            f"{w.number(feature_counts[feature], f'cases like yours matching on {feature}')} of "
            f"{w.number(n, 'synthesis of cases like yours: patients')}{cite}."
            for feature in features
            if feature_counts[feature]
        )
        if items:
            blocks.append(items)
        blocks.append(_case_list(inputs, w, p))
        if len(inputs.matches) > MAX_CASES_LISTED:
            blocks.append(f"The list shows the ones most like {p.v('yours')}.")
    return Section("cases", heading, tuple(blocks))


def _case_list(inputs: DraftInputs, w: Writer, p: Phrases) -> tuple[str, ...]:
    outcome = dict(p.definition.vocabulary.response_phrases())
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
        words = outcome.get(case.response)
        result = f"it {words}" if words else "the report did not say how it went"
        given = ""
        if case.concurrent_treatments:
            names = [_treatment_name(slug, inputs) for slug in case.concurrent_treatments]
            given = f" Also given: {w.quote(join(names), f'{source}: treatments')}."
        cite = cite_cases([case], inputs, w)
        items.append(f"{w.quote(case.label, source)}: {where}{size}; {result}{cite}.{given}")
    return tuple(items)


def regimen(
    situation: Situation, inputs: DraftInputs, w: Writer, p: Phrases, asked: bool
) -> Section:
    like_yours = bool(inputs.matches)
    cases = [m.case for m in inputs.matches] if like_yours else list(inputs.topic_cases)
    group = f"the {_like(p)}" if like_yours else "all the reported cases"
    blocks: list[Block] = []
    if not cases:
        blocks.append(f"There are no reported cases to show how {p.drug} was used.")
        blocks.append(_specialist(p))
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
    # Each gap said as it is: a case that gave the strength but not how often is not one that
    # "did not say the strength".
    no_strength = sum(1 for case in cases if not case.regimen_strength.strip())
    no_frequency = sum(1 for case in cases if not case.regimen_frequency_per_week)
    neither = sum(
        1
        for case in cases
        if not case.regimen_strength.strip() and not case.regimen_frequency_per_week
    )
    if neither:
        items.append(
            f"{upper_first(_cases(neither, w, f'{group} without strength or frequency'))} did "
            "not say the strength or how often."
        )
    if no_strength - neither:
        items.append(
            f"{upper_first(_cases(no_strength - neither, w, f'{group} without strength only'))} "
            "said how often but not the strength."
        )
    if no_frequency - neither:
        items.append(
            f"{upper_first(_cases(no_frequency - neither, w, f'{group} without frequency only'))}"
            " said the strength but not how often."
        )
    cite = cite_cases(cases, inputs, w, _like(p) if like_yours else ALL)
    intro = f"This is what {group} used{cite}. It is a record, not advice."
    blocks.extend([intro, tuple(items), _specialist(p)])
    return Section("regimen", "How reported cases used it", tuple(blocks))


def beyond_reach_section(
    situation: Situation, inputs: DraftInputs, w: Writer, p: Phrases
) -> Section:
    """Extent beyond what the treatment reaches: say so, with the numbers of each group named."""
    parts = (p.word("beyond_reach_said"), p.word("beyond_reach"), p.word("beyond_reach_why"))
    first = " ".join(part for part in parts if part)
    blocks: list[Block] = [first]
    extensive = p.definition.vocabulary.extensive_depths
    group_words = p.word("beyond_reach_group")
    wide = [c for c in inputs.topic_cases if c.lesion_depth in extensive]
    same = [c for c in wide if _same_setting(c, situation)]
    if situation.setting not in UNKNOWN_VALUES:
        setting_words = p.setting_phrase(situation.setting)
        where = f" ({setting_words})" if setting_words else ""
        if same:
            source = "cases with the same setting and this extent"
            blocks.append(
                f"In the {_cases(len(same), w, source)} with the same setting{where} and "
                f"{group_words}, {_better(same, w, source, p)}"
                f"{cite_cases(same, inputs, w, 'same setting, this extent')}."
            )
        else:
            blocks.append(f"No reported case with the same setting{where} had {group_words}.")
    if wide:
        source = "topic cases with this extent"
        other = len(wide) - len(same)
        sentence = (
            f"In all {_cases(len(wide), w, source)} with {group_words}, "
            f"{_better(wide, w, source, p)}{cite_cases(wide, inputs, w, 'this extent')}."
        )
        if situation.setting not in UNKNOWN_VALUES and other:
            sentence += (
                f" {w.number(other, f'{source}: in other settings')} of these "
                f"{w.number(len(wide), f'{source}: patients')} were in other settings, so they "
                f"may not be true for {p.v('you_obj')}."
            )
        with_other = sum(1 for c in wide if c.concurrent_treatments)
        sentence += (
            f" {w.number(with_other, f'{source}: with a concurrent treatment')} of them also had "
            "other treatment at the same time."
            if with_other
            else " None of them had other treatment at the same time."
        )
        blocks.append(sentence)
    heading = p.word("beyond_reach_heading")
    return Section("extensive", heading, tuple(blocks))


def _better(cases: Sequence[CaseData], w: Writer, source: str, p: Phrases) -> str:
    improved = p.definition.vocabulary.improved_responses
    better = sum(1 for c in cases if c.response in improved)
    best = improved[0] if improved else ""
    cleared = sum(1 for c in cases if best and c.response == best)
    got = w.number(better, f"{source}: improved") if better else "none"
    text = f"{got} got better"
    if best:
        words = dict(p.definition.vocabulary.response_phrases()).get(best, "")
        if words:
            clear = w.number(cleared, f"{source}: {best}") if cleared else "none"
            text += f" and {clear} {words}"
    return text


def current(situation: Situation, inputs: DraftInputs, w: Writer, p: Phrases) -> Section:
    blocks: list[Block] = []
    names = [_treatment_name(slug, inputs) for slug in situation.current_treatments]
    who = "they are" if p.caregiver else "you are"
    blocks.append(f"You told us {who} having {w.quote(join(names), 'your request')} now.")
    total = len(inputs.topic_cases)
    for slug, name in zip(situation.current_treatments, names, strict=True):
        together = [c for c in inputs.topic_cases if slug in c.concurrent_treatments]
        source = f"topic cases given {slug} at the same time"
        if not together:
            blocks.append(f"No reported case used {p.drug} together with {name}.")
            continue
        improved = p.definition.vocabulary.improved_responses
        better = sum(1 for c in together if c.response in improved)
        blocks.append(
            f"Of all reported cases, {w.number(len(together), source)} of "
            f"{_cases(total, w, 'topic synthesis: patients')} used {p.drug} together with "
            f"{name}{cite_cases(together, inputs, w)}. Of these, "
            f"{w.number(better, f'{source}: complete or partial response')} got better."
        )
    blocks.append(
        f"Do not add {p.drug}, or stop anything, without asking the specialist who looks after "
        f"{p.v('your')} treatment. {p.v('Your')} team can check if they can be used safely "
        "together, and in what order. Nobody knows yet the best way to combine them."
    )
    return Section("current", _current_heading(p), tuple(blocks))


def _current_heading(p: Phrases) -> str:
    who = "they are" if p.caregiver else "you are"
    return f"The treatment {who} having now"


def expect(inputs: DraftInputs, w: Writer, p: Phrases, detailed: bool) -> Section:
    blocks: list[Block] = []
    similar = inputs.similar_synthesis
    use_similar = similar.time_to_response_weeks.reported > 0
    synthesis = similar if use_similar else inputs.topic_synthesis
    label = "synthesis of cases like yours" if use_similar else "topic synthesis"
    group_cases = [m.case for m in inputs.matches] if use_similar else list(inputs.topic_cases)
    whose_group = _like(p) if use_similar else ALL
    cite = cite_cases(group_cases, inputs, w, whose_group)
    timing = synthesis.time_to_response_weeks
    if timing.median is not None:
        whose = _like(p) if use_similar else "all reported cases"
        people = "person" if timing.reported == 1 else "people"
        blocks.append(
            f"In {whose} where {p.drug} helped, the first clear change was seen after about "
            f"{w.number(timing.median, f'{label}: time_to_response_weeks.median')} weeks{cite}. "
            f"This is the middle value from "
            f"{w.number(timing.reported, f'{label}: time_to_response_weeks.reported')} {people}."
        )
        if detailed and timing.q1 is not None and timing.q3 is not None and timing.reported > 1:
            blocks.append(
                "For the middle half of them, it took from "
                f"{w.number(timing.q1, f'{label}: time_to_response_weeks.q1')} to "
                f"{w.number(timing.q3, f'{label}: time_to_response_weeks.q3')} weeks{cite}."
            )
    else:
        blocks.append("The reports do not tell us how long it took to see a change.")
    recurrence = synthesis.recurrence_among_responders
    if detailed and recurrence.total:
        whose = _like(p) if use_similar else "all reported cases"
        blocks.append(
            f"In {whose}, of the "
            f"{w.number(recurrence.total, f'{label}: recurrence_among_responders.total')} who got "
            "better and whose reports said, "
            f"{w.number(recurrence.count, f'{label}: recurrence_among_responders.count')} saw it "
            f"come back later{cite}."
        )

    kinds = ("common", "uncommon", "serious") if detailed else ("common", "serious")
    for kind in kinds:
        facts = [fact for fact in inputs.facts if fact.kind == kind]
        if facts:
            blocks.append(
                tuple(
                    f"{w.quote(fact.statement, f'fact {fact.key}')} {w.cite([fact.reference])}"
                    for fact in facts
                )
            )
    if not inputs.facts or not any(f.kind != "mechanism" for f in inputs.facts):
        blocks.append("We have no sourced figures on side effects yet.")
    if detailed and inputs.matches:
        matched = [m.case for m in inputs.matches]
        events = similar.patients_with_adverse_events
        sentence = (
            f"In the {_like(p)}, side effects were reported for "
            f"{w.number(events.count, 'synthesis of cases like yours: patients with side effects')}"
            f" of {w.number(events.total, 'synthesis of cases like yours: patients')}"
            f"{cite_cases(matched, inputs, w, _like(p))}."
        )
        top = similar.adverse_events[:3]
        if top:
            named = [
                f"{w.quote(_kind(event.kind, inputs), 'adverse event kind')} "
                f"({w.number(event.patients, f'cases like yours with {event.kind}')})"
                for event in top
            ]
            sentence += f" The most common were {join(named)}."
        blocks.append(sentence)
    return Section("expect", "What to expect", tuple(blocks))


def _kind(kind: str, inputs: DraftInputs) -> str:
    """An adverse event kind as the topic words it, lower-cased to sit in a sentence."""
    return lower_first(inputs.definition.vocabulary.kind_label(kind))


def _certainty_wording(inputs: DraftInputs, w: Writer) -> str:
    """evidence.certainty's plain wording, if every number in it is a number of the synthesis.

    Otherwise (a wording this module does not know how to trace) the same finding is written
    from the synthesis directly, so no untraced number can reach a reader.
    """
    from .draft_text import NUMBER, format_number

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


def evidence_date_sentence(inputs: DraftInputs, w: Writer) -> str:
    """When the evidence was last changed, stated in every draft."""
    date = inputs.topic_synthesis.evidence_date
    if date is None:
        return "No reports had been collected when this summary was written."
    day = w.number(date.day, "topic synthesis: evidence_date")
    year = w.number(date.year, "topic synthesis: evidence_date")
    return f"Evidence date: these numbers use the reports as they stood on {day} {date:%B} {year}."


def certainty(inputs: DraftInputs, w: Writer, p: Phrases, detailed: bool) -> Section:
    topic = inputs.topic_synthesis
    cite = cite_cases(inputs.topic_cases, inputs, w, ALL)
    wording = _certainty_wording(inputs, w)
    if cite and wording.endswith("."):
        wording = wording[:-1] + cite + "."
    blocks: list[Block] = [
        f"Doctors rate this kind of evidence as “{inputs.certainty.level}” certainty. It comes "
        "from reports about single patients, not from trials that compare groups.",
    ]
    plain = p.certainty_wording(inputs.certainty.level)
    if plain:
        blocks.append(plain)
    blocks += [
        f"Looking at all the reports we hold, not only those like {p.v('yours')}: " + wording,
        "Reports where a treatment worked are more likely to be published than reports where it "
        "did not. So the real picture may be less good than these reports.",
    ]
    if detailed and topic.patients:
        missing = topic.missing.get("response_assessment", 0)
        if missing:
            blocks.append(
                f"Many reports leave things out. For example, "
                f"{w.number(missing, 'topic synthesis: missing.response_assessment')} of all "
                f"{_cases(topic.patients, w, 'topic synthesis: patients')} did not say how the "
                f"result was checked{cite}."
            )
    blocks.append(evidence_date_sentence(inputs, w))
    return Section("certainty", "How sure can anyone be?", tuple(blocks))


def questions(
    situation: Situation,
    inputs: DraftInputs,
    w: Writer,
    p: Phrases,
    detailed: bool,
    own_question: str | None,
) -> Section:
    items: list[str] = []
    if own_question:
        quoted = w.quote(own_question, "your question")
        items.append(f"{quoted} (the reports cannot answer this)")
    asks_surgery = inputs.definition.question("surgery_possible") is not None
    if asks_surgery and situation.surgery_possible is False:
        items.append(p.fill("Why is surgery not an option for {me}, and what else could work?"))
    elif asks_surgery and situation.surgery_possible is None:
        items.append(p.fill("Could surgery be an option for {me}?"))
    if beyond_reach(situation, p.definition.vocabulary):
        items.append(p.word("beyond_reach_question"))
    if situation.current_treatments:
        names = join([_treatment_name(slug, inputs) for slug in situation.current_treatments])
        items.append(p.fill(f"Can {{drug}} be used while {{I}} have {names}? In what order?"))
    setting_question = p.word(f"setting_question.{situation.setting}")
    prior_questions = [
        p.word(f"prior_treatment_question.{word}")
        for word in _prior_question_words(p)
        if any(word in slug for slug in situation.prior_treatments)
    ]
    for extra in (setting_question, *prior_questions):
        if extra and extra not in items:
            items.append(extra)
    gap_items = []
    for gap in inputs.gaps:
        # Only the gaps the topic words as a reader's question (or a neutral default does): the
        # research gap's own wording is written for editors, and may name another treatment.
        question = p.word(f"gap_question.{gap.key}")
        if not question or (gap.key == "combination" and situation.current_treatments):
            continue
        if detailed and gap.total:
            source = f"research gap {gap.key}"
            informed = (
                f"Only {w.number(gap.informed, f'{source}: cases informing it')}"
                if gap.informed
                else "None"
            )
            question += (
                f" ({informed} of all {_cases(gap.total, w, f'{source}: cases')} tell us about "
                f"this{cite_cases(inputs.topic_cases, inputs, w, ALL)}.)"
            )
        gap_items.append(question)
    items.extend(gap_items if detailed else gap_items[:3])
    heading = f"Questions to ask {p.v('your')} care team"
    intro = (
        "You may want to take these questions to their next visit."
        if p.caregiver
        else "You may want to take these questions to your next visit."
    )
    return Section("questions", heading, (intro, tuple(items)))


def _prior_question_words(p: Phrases) -> tuple[str, ...]:
    prefix = "prior_treatment_question."
    keys = [key for key in p.definition.wording if key.startswith(prefix)]
    return tuple(sorted(key.removeprefix(prefix) for key in keys))


def urgent(p: Phrases) -> Section:
    lead = (
        f"Call their care team the same day if, while they use {p.drug}:"
        if p.caregiver
        else f"Call your care team the same day if, while using {p.drug}:"
    )
    who = "they feel" if p.caregiver else "you feel"
    return Section(
        "urgent",
        "When to get help straight away",
        (
            lead,
            p.items("urgent_signs"),
            f"If {who} very ill or find it hard to breathe, call emergency services.",
        ),
    )


def glossary(terms: Iterable[GlossaryTerm]) -> Section:
    return Section(
        "glossary",
        "Words used in this summary",
        (tuple(f"{upper_first(term.term)}: {term.meaning}" for term in terms),),
    )


def sources(w: Writer) -> Section:
    items = []
    for position, ref in enumerate(w.references, start=1):
        w.number(position, "position in the list of sources")  # the list's own numbering
        citation = w.quote(ref.citation, f"reference {ref.key}")
        label = f" ({DEMO_LABEL})" if ref.is_demo else ""
        url = f" {w.quote(ref.url, f'reference {ref.key}')}" if ref.url else ""
        items.append(f"{citation}{label}{url}")
    blocks: tuple[Block, ...] = (tuple(items),) if items else ("No sources were cited.",)
    return Section("sources", readability.SOURCES_HEADING, blocks, ordered=True)
