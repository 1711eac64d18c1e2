"""How sure can anyone be? Certainty, appraisal summary and research gaps, from plain data.

Pure: imports nothing from Django.

Certainty follows the GRADE approach (Guyatt GH et al. BMJ 2008;336:924-6): a body of evidence
made of case reports and case series starts at "very low" certainty and cannot start higher.
We name each domain that lowers confidence further, so that editors can say why:
- risk of bias, from the JBI case-report checklist (Moola S et al., JBI Manual for Evidence
  Synthesis, 2020, chapter 7): a report "meets" the checklist with at least 6 of 8 items "yes";
- imprecision, from the width of the exact 95% interval for any response, and from few patients;
- few publications: with fewer than 3 independent reports, consistency cannot be judged;
- publication bias, suspected when every report with cases describes only responses.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from .synthesis import CaseData, Columns, Synthesis, columns, neutral_vocabulary
from .vocabulary import Vocabulary

JBI_ITEMS: tuple[tuple[str, str], ...] = (
    ("demographics", "Patient's demographic characteristics clearly described"),
    ("history", "Patient's history clearly described and presented as a timeline"),
    ("presentation", "Clinical condition at presentation clearly described"),
    ("diagnosis", "Diagnostic tests or assessment methods and results clearly described"),
    ("intervention", "Intervention or treatment procedure clearly described"),
    ("post_intervention", "Clinical condition after the intervention clearly described"),
    ("adverse_events", "Adverse or unanticipated events identified and described"),
    ("takeaway", "The report provides takeaway lessons"),
)
MEETS_CHECKLIST = 6  # "yes" answers out of 8 for a report to count as well reported
WIDE_INTERVAL = 0.5  # an interval for "any response" wider than this is imprecise
FEW_PATIENTS = 10
FEW_PUBLICATIONS = 3


@dataclass(frozen=True, slots=True)
class AppraisalData:
    publication_id: int
    answers: Mapping[str, str]  # item -> yes / no / unclear / na


@dataclass(frozen=True, slots=True)
class ItemSummary:
    item: str
    label: str
    yes: int
    no: int
    unclear: int
    not_applicable: int


@dataclass(frozen=True, slots=True)
class AppraisalSummary:
    publications: int  # publications with cases in the topic
    appraised: int
    meeting_checklist: int  # appraised reports with >= MEETS_CHECKLIST "yes"
    items: tuple[ItemSummary, ...]


def summarise_appraisals(
    appraisals: Sequence[AppraisalData], publication_ids: set[int]
) -> AppraisalSummary:
    """How many of the topic's publications meet each JBI item."""
    relevant = [a for a in appraisals if a.publication_id in publication_ids]
    items = tuple(
        ItemSummary(
            item=item,
            label=label,
            yes=sum(1 for a in relevant if a.answers.get(item) == "yes"),
            no=sum(1 for a in relevant if a.answers.get(item) == "no"),
            unclear=sum(1 for a in relevant if a.answers.get(item, "unclear") == "unclear"),
            not_applicable=sum(1 for a in relevant if a.answers.get(item) == "na"),
        )
        for item, label in JBI_ITEMS
    )
    meeting = sum(
        1 for a in relevant if sum(1 for v in a.answers.values() if v == "yes") >= MEETS_CHECKLIST
    )
    return AppraisalSummary(len(publication_ids), len(relevant), meeting, items)


@dataclass(frozen=True, slots=True)
class Domain:
    name: str
    serious: bool
    reason: str


@dataclass(frozen=True, slots=True)
class Certainty:
    level: str  # always "very low" for case reports and series
    domains: tuple[Domain, ...]
    wording: str  # what editors should write
    explanation: str

    @property
    def lowering(self) -> tuple[Domain, ...]:
        return tuple(d for d in self.domains if d.serious)


def assess_certainty(
    synthesis: Synthesis,
    appraisal: AppraisalSummary,
    cases: Sequence[CaseData],
    *,
    vocabulary: Vocabulary | None = None,
    wording: Mapping[str, str] | None = None,
) -> Certainty:
    """GRADE-style certainty of the evidence for 'any response' in a topic (which outcomes
    count as a response: the topic's `vocabulary`, the neutral default when None; the words:
    the topic definition's `wording`, see `WORDING`)."""
    words = {**WORDING, **(wording or {})}
    improved = frozenset((vocabulary or neutral_vocabulary()).improved_responses)
    domains: list[Domain] = []
    if appraisal.publications == 0:
        bias = Domain("risk of bias", True, "There are no reports to appraise.")
    elif appraisal.appraised < appraisal.publications:
        missing = appraisal.publications - appraisal.appraised
        bias = Domain(
            "risk of bias",
            True,
            f"{missing} of {appraisal.publications} reports have not been appraised yet.",
        )
    else:
        weak = appraisal.appraised - appraisal.meeting_checklist
        bias = Domain(
            "risk of bias",
            weak * 2 > appraisal.appraised,
            f"{appraisal.meeting_checklist} of {appraisal.appraised} reports meet at least "
            f"{MEETS_CHECKLIST} of the 8 JBI checklist items.",
        )
    domains.append(bias)

    share = synthesis.any_response
    if share.total == 0 or share.ci_low is None or share.ci_high is None:
        domains.append(Domain("imprecision", True, "No patients: nothing can be estimated."))
    else:
        width = share.ci_high - share.ci_low
        domains.append(
            Domain(
                "imprecision",
                width > WIDE_INTERVAL or share.total < FEW_PATIENTS,
                f"{share.total} patients; the 95% interval for any response runs from "
                f"{share.ci_low:.0%} to {share.ci_high:.0%}.",
            )
        )
    domains.append(
        Domain(
            "few publications",
            synthesis.publications < FEW_PUBLICATIONS,
            f"{synthesis.publications} publication(s) with cases; consistency between reports "
            + (
                "cannot be judged."
                if synthesis.publications < FEW_PUBLICATIONS
                else "was looked at."
            ),
        )
    )
    by_publication: dict[int, set[str]] = {}
    cols = columns(cases)
    for publication_id, response in set(zip(cols["publication_id"], cols["response"], strict=True)):
        by_publication.setdefault(publication_id, set()).add(response)
    only_positive = bool(by_publication) and all(
        responses <= improved for responses in by_publication.values()
    )
    domains.append(
        Domain(
            "publication bias",
            only_positive,
            words["publication_bias_only_improved"]
            if only_positive
            else words["publication_bias_mixed"],
        )
    )
    lowering = [d.name for d in domains if d.serious]
    explanation = "Evidence from case reports and case series starts at very low certainty" + (
        f"; it is further weakened by {', '.join(lowering)}." if lowering else "."
    )
    return Certainty("very low", tuple(domains), plain_wording(synthesis, words), explanation)


# The certainty wording's phrases, by the topic definition's `wording` keys (defaults here).
WORDING: Mapping[str, str] = {
    "certainty_improved": "the condition improved",
    "certainty_not_improved": "the condition did not improve",
    "certainty_others": "we cannot be sure it would help others",
    "publication_bias_only_improved": (
        "Every report describes only responses: treatments that did not work are less often "
        "published."
    ),
    "publication_bias_mixed": "Some reports describe patients who did not respond.",
}


def plain_wording(synthesis: Synthesis, wording: Mapping[str, str] | None = None) -> str:
    """The sentence editors should use for a result of very low certainty."""
    words = {**WORDING, **(wording or {})}
    share = synthesis.any_response
    if share.total == 0:
        return "No reports of this treatment have been collected yet, so we cannot say anything."
    if share.count == 0:
        return (
            f"In the {share.total} reported cases {words['certainty_not_improved']}; with so few "
            "reports we cannot be sure this is true for others."
        )
    reports = "A few reports" if synthesis.publications < 10 else "Some reports"
    return (
        f"{reports} suggest {words['certainty_improved']} in {share.count} of {share.total} "
        f"people described; {words['certainty_others']}."
    )


# --- research gaps --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Gap:
    key: str
    question: str
    informed: int  # cases that inform the question
    total: int
    detail: str

    @property
    def statement(self) -> str:
        return f"{self.question}: {self.detail}"


# Each measure counts the cases that inform a question, from the case table's columns
# (synthesis.columns): one pass per measure at C speed wherever possible.
ColumnCount = Callable[[Columns, Vocabulary], int]


def _present(column: tuple[object, ...]) -> int:
    return len(column) - column.count(None)


def _dose_frequency(cols: Columns, _vocabulary: Vocabulary) -> int:
    pairs = zip(cols["regimen_strength"], cols["regimen_frequency_per_week"], strict=True)
    return sum(1 for strength, frequency in pairs if strength and frequency is not None)


def _biopsy(cols: Columns, vocabulary: Vocabulary) -> int:
    assessed = cols["response_assessment"]
    return sum(assessed.count(value) for value in vocabulary.biopsy_assessments)


def _combination(cols: Columns, _vocabulary: Vocabulary) -> int:
    wanted = {"radiotherapy", "chemotherapy"}
    return sum(1 for categories in cols["concurrent_categories"] if wanted.intersection(categories))


def _biomarkers(cols: Columns, _vocabulary: Vocabulary) -> int:
    return len(cols["biomarkers"]) - cols["biomarkers"].count("")


def _long_term(cols: Columns, _vocabulary: Vocabulary) -> int:
    return sum(1 for months in cols["follow_up_months"] if months is not None and months > 12)


# key -> (question, description of what informs it, count of informing cases)
GAP_MEASURES: dict[str, tuple[str, str, ColumnCount]] = {
    "dose_frequency": (
        "Best dose and frequency",
        "strength and applications per week reported",
        _dose_frequency,
    ),
    "duration": (
        "Best duration of treatment",
        "treatment duration reported",
        lambda cols, _: _present(cols["regimen_duration_weeks"]),
    ),
    "occlusion": (
        "Whether to cover the treated skin (occlusion)",
        "occlusion reported",
        lambda cols, _: _present(cols["occlusion"]),
    ),
    "biopsy": ("Biopsy before and after treatment", "response confirmed by biopsy", _biopsy),
    "combination": (
        "Combining with radiation or chemotherapy, and in which order",
        "given with radiation or chemotherapy",
        _combination,
    ),
    "biomarkers": ("Biomarkers that predict response", "biomarkers reported", _biomarkers),
    "long_term": ("Long-term recurrence", "follow-up beyond 12 months", _long_term),
}


def research_gaps(
    cases: Sequence[CaseData],
    extra: Sequence[tuple[str, str]] = (),
    *,
    vocabulary: Vocabulary | None = None,
) -> tuple[Gap, ...]:
    """How many cases inform each open question, so the list stays true as cases are added.

    `extra` holds editors' own questions as (question, measure key or "").
    """
    total = len(cases)
    cols = columns(cases)
    gaps = []
    questions = [(key, question) for key, (question, _, _) in GAP_MEASURES.items()]
    questions += [(key, question) for question, key in extra]
    for key, question in questions:
        if key in GAP_MEASURES:
            _, what, count = GAP_MEASURES[key]
            informed = count(cols, vocabulary or neutral_vocabulary())
            detail = f"{what} in {informed} of {total} cases"
        else:
            informed = 0
            detail = "not measured from the case table; see the editors' note"
        gaps.append(Gap(key or "editor", question, informed, total, detail))
    return tuple(gaps)
