"""The claim audit: does each sentence of an article rest on what editors actually read?

Pure: imports nothing from Django or Wagtail. The caller (articles/claim_sources.py) turns a
page into `Sentence` values, each with the sources it cites and, for each source, the passages
the citation points at (evidence.Passage) and every passage of that publication's record.
`audit` returns frozen `Finding` values; an empty tuple means nothing was found.

Kinds of finding:

- ``number``: a number typed in prose (a percentage, "N in/of M", a count of people or
  reports) that is neither a figure the evidence summary states for that kind of number
  (`SummaryFigures`: a share "N of M" matches only a share the summary states, a percentage only
  a percentage it shows, a count of people only a count of patients, a count of reports only a
  count of publications) nor in a passage the sentence cites;
- ``no_passage``: a citation that points at no passage an editor read;
- ``not_seen``: a citation of a passage marked "not seen", or of a record whose own notes say the
  part the sentence is about (side effects, the treatment itself) was not visible;
- ``second_hand``: a cited passage is a figure the authors quote from elsewhere, and the sentence
  does not tell the reader so;
- ``uncited``: an evidence claim ("reports describe", "has been used", "studies found") with no
  citation;
- ``certainty``: a word that overstates the topic's certainty ("proven", "effective", "works")
  when it is low or very low (GRADE's plain wording is "may", "we are very uncertain");
- ``demo``: a claim resting on the invented demonstration cases without the demonstration label.

The checks are deliberately literal (word lists and patterns, documented in docs/publishing.md
with their measured precision and recall): they point an editor at a sentence to read again;
they do not judge medicine.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

KINDS = ("number", "no_passage", "not_seen", "second_hand", "uncited", "certainty", "demo")
LOW_CERTAINTY = frozenset({"low", "very_low"})


@dataclass(frozen=True, slots=True)
class PassageRef:
    """One passage of a publication, as the audit needs it."""

    key: str
    text: str
    seen: bool = True
    second_hand: bool = False


@dataclass(frozen=True, slots=True)
class Source:
    """A publication a sentence cites, with the passages the citation points at.

    `record` is every passage of the publication (including those marked not seen), so the audit
    can tell when the record says the very thing the sentence is about was not visible.
    """

    label: str
    passages: tuple[PassageRef, ...] = ()
    record: tuple[PassageRef, ...] = ()
    is_demo: bool = False
    explicit: bool = True  # False: a block's "Sources cited", pointing at all that was read


@dataclass(frozen=True, slots=True)
class Sentence:
    text: str
    where: str = ""
    sources: tuple[Source, ...] = ()


@dataclass(frozen=True, slots=True)
class Finding:
    kind: str
    where: str
    sentence: str
    message: str
    detail: str = field(default="")

    @property
    def key(self) -> str:
        """Stable identity of a finding, for a clinician's recorded override."""
        return f"{self.kind}|{self.where}|{self.sentence}"


# --- numbers ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SummaryFigures:
    """The figures the topic's evidence summary states, each by what it counts.

    A typed number is "from the evidence summary" only when it is one of these, of the same
    kind: a number that merely equals some other value of the synthesis (an age, a follow-up
    in months, an identifier, a share's count typed as a percentage) is still checked against
    the cited passages.
    """

    people: frozenset[Decimal] = frozenset()  # counts of patients / cases
    reports: frozenset[Decimal] = frozenset()  # counts of publications / reports
    shares: frozenset[tuple[Decimal, Decimal]] = frozenset()  # "N of M", as (N, M)
    percents: frozenset[Decimal] = frozenset()  # whole percentages, as the summary shows them


NO_SUMMARY = SummaryFigures()

_NUMBER_WORDS = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen twenty"
)
_WORDS = {w: i for i, w in enumerate(_NUMBER_WORDS.split())}
_NUM = r"(\d[\d,]*(?:\.\d+)?|" + "|".join(_WORDS) + r")"
_PERCENT = re.compile(r"(\d+(?:\.\d+)?)\s?(?:%|per ?cent)", re.I)
_RATIO = re.compile(_NUM + r"\s+(?:in|of|out of)\s+(?:every\s+)?" + _NUM + r"\b", re.I)
_COUNT = re.compile(
    _NUM + r"\s+(?:\w+\s+)?(people|persons|patients|cases|reports|infants|children|adults|"
    r"men|women|participants|subjects|studies|trials|publications|papers)\b",
    re.I,
)
_REPORT_NOUNS = frozenset({"reports", "studies", "trials", "publications", "papers"})
_ANY_NUMBER = re.compile(r"\d[\d,]*(?:\.\d+)?|\b(?:" + "|".join(_WORDS) + r")\b", re.I)
_APPROX = re.compile(r"\b(about|around|roughly|nearly|almost|some|over|more than)\s*$", re.I)


def _value(token: str) -> Decimal | None:
    token = token.lower().replace(",", "")
    if token in _WORDS:
        return Decimal(_WORDS[token])
    try:
        return Decimal(token)
    except InvalidOperation:
        return None


def numbers_in(text: str) -> frozenset[Decimal]:
    """Every number written in a text, as digits or words up to twenty."""
    found = (_value(m.group(0)) for m in _ANY_NUMBER.finditer(text))
    return frozenset(v.normalize() for v in found if v is not None)


@dataclass(frozen=True, slots=True)
class _Claimed:
    """One number the prose claims: what was written, its value and what kind of figure it is
    ("share" N of M with `of`, "percent", "people" or "reports")."""

    written: str
    value: Decimal
    kind: str
    approximate: bool = False
    of: Decimal | None = None


def _claimed_numbers(text: str) -> list[_Claimed]:
    """Each number the prose claims, with its kind."""
    out: list[_Claimed] = []
    taken: list[tuple[int, int]] = []

    def approx(start: int) -> bool:
        return bool(_APPROX.search(text[:start]))

    for m in _RATIO.finditer(text):
        n, d = _value(m.group(1)), _value(m.group(2))
        if n is None or d is None:
            continue
        taken.append(m.span())
        if d == 100:
            out.append(_Claimed(m.group(0), n, "percent", approx(m.start())))
        else:
            out.append(_Claimed(m.group(0), n, "share", of=d))
    for m in _PERCENT.finditer(text):
        if any(a <= m.start() < b for a, b in taken):
            continue
        value = _value(m.group(1))
        if value is not None:
            out.append(_Claimed(m.group(0), value, "percent", approx(m.start())))
    for m in _COUNT.finditer(text):
        if any(a <= m.start() < b for a, b in taken):
            continue
        value = _value(m.group(1))
        if value is not None and value > 1:  # "one report" is not a figure to check
            kind = "reports" if m.group(2).lower() in _REPORT_NOUNS else "people"
            out.append(_Claimed(m.group(0), value, kind, approx(m.start())))
    return out


def _near(value: Decimal, approximate: bool, known: Iterable[Decimal]) -> bool:
    return any(k == value or (approximate and abs(k - value) < 1) for k in known)


def _in_summary(claim: _Claimed, summary: SummaryFigures) -> bool:
    """Is this the figure the evidence summary states for numbers of this kind?"""
    if claim.kind == "share":
        return (claim.value, claim.of) in summary.shares
    if claim.kind == "percent":
        return _near(claim.value, claim.approximate, summary.percents)
    if claim.kind == "reports":
        return _near(claim.value, claim.approximate, summary.reports)
    return _near(claim.value, claim.approximate, summary.people)


def _in_passages(claim: _Claimed, known: frozenset[Decimal]) -> bool:
    values = [claim.value] if claim.of is None else [claim.value, claim.of]
    return all(_near(v, claim.approximate, known) for v in values)


# --- words -----------------------------------------------------------------------------------

_EVIDENCE_CLAIM = re.compile(
    r"\b(reports?|studies|study|trials?|research|evidence|papers?|case series)\s+"
    r"(show|shows|showed|describe|describes|described|found|find|finds|suggest|suggests|"
    r"report|reports|reported|prove|proves|proved)\b"
    r"|\b(has|have|had)\s+been\s+(used|tried|tested|reported|shown|described)\b"
    r"|\b(was|were|is|are)\s+(effective|successful)\b"
    r"|\bdoctors have (tried|used)\b"
    r"|\breports? of its use\b",
    re.I,
)
# "We are very uncertain whether it is effective" asks; it does not claim.
_OPEN_QUESTION = re.compile(r"\b(uncertain|not known|unclear|not sure) (whether|if)\b", re.I)
_OVERSTATEMENT = re.compile(
    r"\b(proven|proved|proves|effective|effectively|cures?|cured|guaranteed|definitely|"
    r"(?<!how it )works(?!\s+(?:\w+ly\s+)?(?:on|by|in|through|as|with)\b))\b",
    re.I,
)
_HEDGE = re.compile(
    r"\b(may|might|uncertain|not known|unclear|not proven|no proof|does not prove|"
    r"do not know|cannot be sure|none of them proves|not expected|does not|do not|cannot)\b",
    re.I,
)
_SECOND_HAND = re.compile(
    r"\b(cites?|cited|citing|quotes?|quoted|summar(?:y|ises|ised|izes|ized)|according to|"
    r"refers? to|an earlier study|another study|second-hand|as reported in)\b",
    re.I,
)
_DEMO_LABEL = re.compile(r"\b(demonstration|illustrative|invented|not real|fictional|demo)\b", re.I)
# The part of a record an editor may have marked as not visible, and the words of a sentence
# that are about that part.
_TOPICS: tuple[tuple[re.Pattern[str], re.Pattern[str]], ...] = (
    (
        re.compile(r"\b(adverse|safety|side[- ]effect)", re.I),
        re.compile(
            r"\b(side[- ]effects?|adverse|reactions?|red|sore|itch\w*|burn\w*|headache|"
            r"flu|swell\w*|crust\w*|blister\w*|rash)\b",
            re.I,
        ),
    ),
)


@functools.lru_cache(maxsize=64)
def _treatment_topic(words: tuple[str, ...]) -> tuple[tuple[re.Pattern[str], re.Pattern[str]], ...]:
    """A passage about the treatment (its first word, e.g. the drug) and a sentence naming it
    in any of the topic definition's `treatment_words` (the drug's name, "the cream")."""
    if not words:
        return ()
    named = "|".join(re.escape(word) for word in words)
    first = re.compile(rf"\b{re.escape(words[0])}\b", re.I)
    return ((first, re.compile(rf"\b({named})\b", re.I)),)


def _not_seen_topic(sentence: str, passage: PassageRef, treatment_words: tuple[str, ...]) -> bool:
    topics = _TOPICS + _treatment_topic(treatment_words)
    return any(part.search(passage.text) and words.search(sentence) for part, words in topics)


# --- the audit -------------------------------------------------------------------------------


def audit_sentence(
    sentence: Sentence,
    *,
    summary: SummaryFigures = NO_SUMMARY,
    certainty: str | None = None,
    treatment_words: tuple[str, ...] = (),
) -> tuple[Finding, ...]:
    """The findings for one sentence (`treatment_words`: the topic's, from its definition)."""
    text, where = sentence.text, sentence.where
    found: list[Finding] = []

    def add(kind: str, message: str, detail: str = "") -> None:
        found.append(Finding(kind, where, text, message, detail))

    seen_passages = [p for s in sentence.sources for p in s.passages if p.seen]
    known = frozenset().union(*(numbers_in(p.text) for p in seen_passages))
    claims = _claimed_numbers(text)
    reported: set[str] = set()
    for claim in claims:
        if _in_summary(claim, summary) or _in_passages(claim, known):
            continue
        if claim.written not in reported:  # "3 of 7": one finding, not one per number
            reported.add(claim.written)
            add(
                "number",
                f'"{claim.written}" is in neither the evidence summary nor a cited passage.',
                claim.written,
            )

    for source in sentence.sources:
        if not source.passages:
            add("no_passage", f"The citation of {source.label} points at no passage read.")
        for p in source.passages:
            if not p.seen:
                add(
                    "not_seen",
                    f"{source.label}: the cited passage records what was NOT seen: {p.text}",
                    p.key,
                )
        for p in source.record:
            if (
                not p.seen
                and p not in source.passages
                and _not_seen_topic(text, p, treatment_words)
            ):
                add("not_seen", f"{source.label}'s record says: {p.text}", p.key)
        cited = [p for p in source.passages if p.seen]
        own = set().union(*(numbers_in(p.text) for p in cited if not p.second_hand))
        quoted = set().union(*(numbers_in(p.text) for p in cited if p.second_hand))
        claimed = {c.value for c in claims} | {c.of for c in claims if c.of is not None}
        # Second-hand: the sentence's figures come only from what the authors quote, or the
        # citation points only at quoted passages.
        second_hand = bool(claimed & quoted - own) or (
            source.explicit and bool(cited) and all(p.second_hand for p in cited)
        )
        if second_hand and not _SECOND_HAND.search(text):
            add(
                "second_hand",
                f"{source.label} only quotes this from another study; the sentence must say so.",
            )

    if not sentence.sources and _EVIDENCE_CLAIM.search(text) and not _OPEN_QUESTION.search(text):
        add("uncited", "An evidence claim with no citation.")

    if certainty in LOW_CERTAINTY:
        match = _OVERSTATEMENT.search(text)
        if match and not _HEDGE.search(text):
            add(
                "certainty",
                f'"{match.group(0)}" overstates {certainty.replace("_", " ")} certainty; '
                'use "may" or "we are very uncertain".',
                match.group(0),
            )

    demo_only = bool(sentence.sources) and all(s.is_demo for s in sentence.sources)
    if demo_only and not _DEMO_LABEL.search(text):
        add("demo", "Rests only on the invented demonstration cases, without the label.")
    return tuple(found)


def audit(
    sentences: Iterable[Sentence],
    *,
    summary: SummaryFigures = NO_SUMMARY,
    certainty: str | None = None,
    treatment_words: tuple[str, ...] = (),
) -> tuple[Finding, ...]:
    """Audit every sentence; findings in reading order."""
    out: list[Finding] = []
    for sentence in sentences:
        out.extend(
            audit_sentence(
                sentence,
                summary=summary,
                certainty=certainty,
                treatment_words=treatment_words,
            )
        )
    return tuple(out)


_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"'(\[])")


def split_sentences(text: str) -> list[str]:
    """Plain text -> sentences (on ". " before a capital)."""
    return [s.strip() for s in _SENTENCE_END.split(text) if s.strip()]
