"""The claim audit on a seeded set of wrong claims (recall) and of sound ones (precision).

No database. The passages are those of the demo records (data/publications.json); the wrong
claims are the kinds issue #15 names. The figures are quoted in docs/publishing.md. Every
sentence is audited against the evidence summary of a small synthesis (`SUMMARY_CASES`), as an
article's sentences are against its topic's: a typed number that merely equals another value of
that synthesis (a follow-up in months, a time in weeks, a count of patients typed as a count of
reports) must still be found.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from evidencepress.articles.claim_audit import (
    KINDS,
    Finding,
    PassageRef,
    Sentence,
    Source,
    SummaryFigures,
    audit,
    audit_sentence,
    numbers_in,
    split_sentences,
)
from evidencepress.articles.claim_sources import summary_figures
from evidencepress.evidence.synthesis import AdverseEventData, CaseData, synthesise

LABEL_LOCAL = PassageRef(
    "local-reactions",
    "Most common adverse reactions (incidence >28%) are application-site/local skin "
    "reactions: itching, burning, erythema, flaking/scaling/dryness, scabbing/crusting, edema.",
)
LABEL_REST = PassageRef(
    "ak-stopped-rest",
    "2% (5/215) stopped for local skin/application-site reactions; 16% (35/215) on imiquimod vs "
    "1% (3/220) on vehicle needed at least one rest period; 91% (32/35) resumed after a rest.",
)
LABEL = Source("Label", (LABEL_LOCAL, LABEL_REST), (LABEL_LOCAL, LABEL_REST))
H_800 = PassageRef(
    "systemic-800",
    "Cites a multicentre actinic keratosis study (>800 patients): 4 patients stopped for "
    "systemic drug-related reactions, none severe; most frequent systemic symptoms headache "
    "6.0%, myalgia 2.4%, fatigue 2.3%.",
    second_hand=True,
)
H_MILD = PassageRef("systemic-mild", "Systemic effects are described as mostly mild or moderate.")
HEIKKINEN = Source("Heikkinen 2011", (H_800,), (H_800, H_MILD))
HEIKKINEN_MILD = Source("Heikkinen 2011", (H_MILD,), (H_800, H_MILD))
GREENBERG = Source(
    "Greenberg 2007",
    (PassageRef("finding-1", "Nine patients with very strong local inflammatory reactions."),),
)
CUTIS_NOT_SEEN = PassageRef(
    "imiquimod-not-seen",
    "Imiquimod itself was NOT visible in the stored excerpts of this review.",
    seen=False,
)
CUTIS_AGE = PassageRef(
    "finding-1",
    "Angiosarcoma is 1-2% of US soft-tissue sarcomas; about 85% of cutaneous cases occur over "
    "age 60; head and neck predominate.",
)
CUTIS = Source("Cutis review", (CUTIS_AGE,), (CUTIS_AGE, CUTIS_NOT_SEEN))
CUTIS_BLOCK = Source("Cutis review", (CUTIS_AGE,), (CUTIS_AGE, CUTIS_NOT_SEEN), explicit=False)
AE_NOT_SEEN = PassageRef("adverse-effects-not-seen", "Adverse-effect section not visible.", False)
BUBNA_MECH = PassageRef(
    "mechanism", "Binds TLR7 and TLR8 on macrophages, monocytes and dendritic cells."
)
BUBNA = Source("Bubna 2015", (BUBNA_MECH,), (BUBNA_MECH, AE_NOT_SEEN))
DEMO = Source("Demonstration series", (PassageRef("case-a", "Illustrative case A."),), (), True)
NO_PASSAGE = Source("Gunduz 2012", (), (PassageRef("case-1", "Almost complete regression."),))

# (kind, sentence) — every one is wrong in the way its kind names.


def _summary_cases() -> list[CaseData]:
    """7 patients in 3 publications: 4 of 7 improved (2 complete, 2 partial), 3 of 7 had a side
    effect; follow-up 3 to 30 months, time to improvement 8 to 20 weeks."""
    rows = [
        ("complete", 18, 8, ("redness", "mild")),
        ("complete", 24, 11, ("redness", "moderate")),
        ("partial", 6, 16, None),
        ("partial", 9, 20, ("flu-like symptoms", "mild")),
        ("progression", 3, None, None),
        ("progression", 30, None, None),
        ("progression", None, None, None),
    ]
    return [
        CaseData(
            publication_id=1 + n % 3,
            label=f"Case {n}",
            age=60 + 3 * n,
            response=response,
            follow_up_months=None if months is None else Decimal(months),
            time_to_response_weeks=None if weeks is None else Decimal(weeks),
            recurrence=False if response in ("complete", "partial") else None,
            adverse_events=() if event is None else (AdverseEventData(*event, False),),
        )
        for n, (response, months, weeks, event) in enumerate(rows)
    ]


SUMMARY_SYNTHESIS = synthesise(_summary_cases())
SUMMARY = summary_figures(SUMMARY_SYNTHESIS)

WRONG: list[tuple[str, Sentence]] = [
    # numbers that equal some value of the synthesis, but not a figure the summary states for
    # that kind of number (the crude check, "any number in the synthesis", took them all)
    ("number", Sentence("Follow-up was reported for 30 patients.")),  # 30: months
    ("number", Sentence("The cream helped 8 patients.")),  # 8: weeks
    ("number", Sentence("Side effects were described in 6 reports.")),  # 6: reported follow-ups
    ("number", Sentence("Only 20% got better.")),  # 20: weeks
    ("number", Sentence("In 2 of 3 cases the cancer came back.")),  # 2, 3: other counts
    ("number", Sentence("4 of 6 people got better.")),  # the summary states 4 of 7
    ("number", Sentence("It cleared completely in 17 people.")),  # 17: weeks (a quartile)
    ("number", Sentence("About 7 in 10 people got better.")),
    # numbers typed in prose that no cited passage and no summary holds
    ("number", Sentence("In trials, 12% of people stopped the cream.", sources=(LABEL,))),
    ("number", Sentence("About 40 in 100 people get itching.", sources=(LABEL,))),
    ("number", Sentence("3 of 10 people needed a rest.", sources=(LABEL,))),
    ("number", Sentence("Our editors counted 14 patients who responded.")),
    ("number", Sentence("In 7 reports the cancer came back.")),
    ("number", Sentence("Nine of 12 people healed well.", sources=(GREENBERG,))),
    ("number", Sentence("A study of 450 people found the same.", sources=(LABEL,))),
    ("number", Sentence("Only 5% had a headache.", sources=(HEIKKINEN_MILD,))),
    ("number", Sentence("Some 33 per cent needed a break.", sources=(LABEL,))),
    ("number", Sentence("Twelve people stopped the cream for good.", sources=(LABEL,))),
    ("number", Sentence("In 2 of 9 cases the rash spread.", sources=(GREENBERG,))),
    # citations that point at no passage
    ("no_passage", Sentence("It helped a man with Kaposi sarcoma.", sources=(NO_PASSAGE,))),
    ("no_passage", Sentence("The lumps on his feet got smaller.", sources=(NO_PASSAGE,))),
    ("no_passage", Sentence("The cream was put on under a dressing.", sources=(NO_PASSAGE,))),
    ("no_passage", Sentence("He used it for twelve weeks.", sources=(NO_PASSAGE,))),
    ("no_passage", Sentence("Pain went away after the course.", sources=(NO_PASSAGE,))),
    ("no_passage", Sentence("Doctors chose the cream for his skin.", sources=(NO_PASSAGE,))),
    ("no_passage", Sentence("The growth faded.", sources=(NO_PASSAGE, LABEL))),
    ("no_passage", Sentence("It can be used at home.", sources=(NO_PASSAGE,))),
    # citations of what was not seen
    ("not_seen", Sentence("For some people, doctors have tried imiquimod.", sources=(CUTIS,))),
    ("not_seen", Sentence("The cream has been used on the scalp.", sources=(CUTIS_BLOCK,))),
    ("not_seen", Sentence("The skin often gets red and sore.", sources=(BUBNA,))),
    ("not_seen", Sentence("Side effects are mild.", sources=(BUBNA,))),
    ("not_seen", Sentence("A headache is uncommon.", sources=(BUBNA,))),
    ("not_seen", Sentence("Imiquimod is used for this cancer.", sources=(CUTIS_BLOCK,))),
    ("not_seen", Sentence("Crusting is common.", sources=(Source("B", (AE_NOT_SEEN,)),))),
    ("not_seen", Sentence("Itching may happen.", sources=(Source("B", (AE_NOT_SEEN,)),))),
    ("not_seen", Sentence("A rash can spread.", sources=(BUBNA,))),
    ("not_seen", Sentence("Burning skin is an expected reaction.", sources=(BUBNA,))),
    # second-hand figures presented as first-hand
    (
        "second_hand",
        Sentence("In a study of more than 800 people, 6.0% had a headache.", sources=(HEIKKINEN,)),
    ),
    ("second_hand", Sentence("Muscle aches affected 2.4% of people.", sources=(HEIKKINEN,))),
    ("second_hand", Sentence("Tiredness affected 2.3%.", sources=(HEIKKINEN,))),
    ("second_hand", Sentence("Headache is the most common flu-like effect.", sources=(HEIKKINEN,))),
    ("second_hand", Sentence("Heikkinen found that 4 patients stopped.", sources=(HEIKKINEN,))),
    ("second_hand", Sentence("Few people stop for flu-like effects.", sources=(HEIKKINEN,))),
    ("second_hand", Sentence("About 6 in 100 get a headache.", sources=(HEIKKINEN,))),
    ("second_hand", Sentence("They studied more than 800 patients.", sources=(HEIKKINEN,))),
    # evidence claims with no citation
    ("uncited", Sentence("Reports show that the cream can clear small patches.")),
    ("uncited", Sentence("Imiquimod has been used for angiosarcoma of the scalp.")),
    ("uncited", Sentence("The cream was effective in older people.")),
    ("uncited", Sentence("Studies found that it helps after radiation.")),
    ("uncited", Sentence("It has been tried alongside radiation.")),
    ("uncited", Sentence("Doctors have tried it when surgery was not possible.")),
    ("uncited", Sentence("Case series describe good results.")),
    ("uncited", Sentence("Research shows it calls in immune cells.")),
    ("uncited", Sentence("We looked at the few reports of its use for angiosarcoma.")),
    ("uncited", Sentence("Trials reported fewer recurrences.")),
    # certainty words that overstate low or very low certainty
    ("certainty", Sentence("Imiquimod is proven to treat angiosarcoma.")),
    ("certainty", Sentence("The cream works for small patches.")),
    ("certainty", Sentence("It is an effective treatment for the scalp.")),
    ("certainty", Sentence("This cream cures early angiosarcoma.")),
    ("certainty", Sentence("It definitely helps after radiation.")),
    ("certainty", Sentence("Used together with radiation, it works well.")),
    ("certainty", Sentence("The cream effectively clears thin patches.")),
    ("certainty", Sentence("Results are guaranteed if you keep going.")),
    ("certainty", Sentence("A proven option when surgery is unsafe.")),
    # claims resting on the invented demo cases, unlabelled
    ("demo", Sentence("Most people treated this way got better.", sources=(DEMO,))),
    ("demo", Sentence("Some used it with radiation or paclitaxel.", sources=(DEMO,))),
    ("demo", Sentence("Timolol was added in one case.", sources=(DEMO,))),
    ("demo", Sentence("The cancer came back in one woman.", sources=(DEMO,))),
    ("demo", Sentence("A man with a scalp patch responded fully.", sources=(DEMO,))),
    ("demo", Sentence("Skin reactions were common in the cases.", sources=(DEMO,))),
    ("demo", Sentence("Breast cases followed radiation.", sources=(DEMO,))),
    ("demo", Sentence("Deep disease did not respond.", sources=(DEMO,))),
]

# Sound sentences in the same areas: the audit must raise nothing on them.
SOUND: list[Sentence] = [
    # the figures the evidence summary states, each as what it counts
    Sentence("The summary counts 7 patients from 3 publications."),
    Sentence("4 of 7 got better."),
    Sentence("That is 57%, and 2 of 7 cleared completely (29%)."),
    Sentence("Side effects were noted for 3 patients."),
    Sentence("In trials, 2 in every 100 people stopped the cream.", sources=(LABEL,)),
    Sentence(
        "About 16 in 100 needed a rest, compared with 1 in 100 on a cream with no drug.",
        sources=(LABEL,),
    ),
    Sentence("Of those who rested, 91 in 100 went back to the cream.", sources=(LABEL,)),
    Sentence("One report describes nine people with a severe skin reaction.", sources=(GREENBERG,)),
    Sentence(
        "A report cites an earlier study of more than 800 people: 6 in 100 had a headache.",
        sources=(HEIKKINEN,),
    ),
    Sentence("The report describes such effects as mostly mild.", sources=(HEIKKINEN_MILD,)),
    Sentence("It most often shows up on the head and neck of older people.", sources=(CUTIS,)),
    Sentence("It switches on sensors called toll-like receptors 7 and 8.", sources=(BUBNA,)),
    Sentence("Skin reactions are the most common side effect.", sources=(LABEL,)),
    Sentence("Here is how it works, and how little we can be sure of."),
    Sentence("Imiquimod works mainly through the immune system in the skin."),
    Sentence("We are very uncertain whether it is effective for angiosarcoma."),
    Sentence("None of them proves that it works."),
    Sentence("It may not work at all."),
    Sentence("Our invented demonstration cases show it used with radiation.", sources=(DEMO,)),
    Sentence("These are illustrative cases, not real patients.", sources=(DEMO,)),
    Sentence("Talk to your specialist team before you try anything new."),
    Sentence("Surgery is still the first choice when it is possible."),
]
# The audit runs with the demo topic's certainty.
CERTAINTY = "very_low"


# The demo topic's words for its treatment (its definition file's treatment_words).
TREATMENT_WORDS = ("imiquimod", "the cream")


def _found(sentence: Sentence) -> tuple[Finding, ...]:
    return audit_sentence(
        sentence, summary=SUMMARY, certainty=CERTAINTY, treatment_words=TREATMENT_WORDS
    )


def test_the_seeded_set_has_at_least_60_wrong_claims_of_every_kind() -> None:
    assert len(WRONG) >= 60
    assert {kind for kind, _ in WRONG} == set(KINDS)


def test_recall_on_the_seeded_wrong_claims_is_at_least_95_percent() -> None:
    caught = [(kind, s) for kind, s in WRONG if kind in {f.kind for f in _found(s)}]
    missed = [s.text for kind, s in WRONG if (kind, s) not in caught]
    recall = len(caught) / len(WRONG)
    assert recall >= 0.95, missed
    # The figure docs/publishing.md quotes.
    assert (len(caught), len(WRONG)) == (len(WRONG), len(WRONG)), missed


def test_precision_nothing_is_raised_on_sound_sentences() -> None:
    raised = {s.text: _found(s) for s in SOUND}
    assert {text: found for text, found in raised.items() if found} == {}


@pytest.mark.parametrize(("kind", "sentence"), WRONG, ids=[s.text[:40] for _, s in WRONG])
def test_each_wrong_claim_is_named_with_its_sentence(kind: str, sentence: Sentence) -> None:
    found = [f for f in _found(sentence) if f.kind == kind]
    assert found and found[0].sentence == sentence.text and found[0].message


def test_certainty_words_are_allowed_when_certainty_is_not_low() -> None:
    assert audit([Sentence("The cream works for small patches.")], certainty="high") == ()
    assert audit([Sentence("The cream works for small patches.")], certainty="low")


def test_a_summary_number_is_not_a_typed_number() -> None:
    sentence = Sentence("Our editors counted 14 patients.")
    assert audit([sentence], summary=SummaryFigures(people=frozenset({Decimal(14)}))) == ()
    # The same value as a share, a percentage or a count of reports is not that figure.
    for typed in ("14 of 20 patients", "14% of patients", "14 reports"):
        figures = SummaryFigures(people=frozenset({Decimal(14), Decimal(20)}))
        assert [f.kind for f in audit([Sentence(f"We found {typed}.")], summary=figures)] == [
            "number"
        ], typed


def test_the_summary_figures_are_what_the_evidence_summary_states() -> None:
    assert SUMMARY.people >= {Decimal(7), Decimal(4), Decimal(3), Decimal(2)}
    assert SUMMARY.reports == {Decimal(3)}
    assert (Decimal(4), Decimal(7)) in SUMMARY.shares
    assert (Decimal(2), Decimal(7)) in SUMMARY.shares  # complete
    assert {Decimal(57), Decimal(29), Decimal(43)} <= SUMMARY.percents
    # Months, weeks and ages are values of the cases, not figures the summary states as counts.
    assert not {Decimal(30), Decimal(17), Decimal(8), Decimal(20)} & (
        SUMMARY.people | SUMMARY.reports | SUMMARY.percents
    )
    # The crude check of before took every number of the synthesis: these were all "in it".
    crude = numbers_in(repr(SUMMARY_SYNTHESIS))
    assert {Decimal(30), Decimal(8), Decimal(20), Decimal(17), Decimal(6)} <= crude


def test_numbers_and_sentences_are_read_as_written() -> None:
    assert numbers_in("headache 6.0%, >800 patients, 1,200 and nine") == {
        Decimal(6),
        Decimal(800),
        Decimal(1200),
        Decimal(9),
    }
    assert split_sentences("One. Two is here. three") == ["One.", "Two is here. three"]


def test_a_finding_key_is_stable() -> None:
    (finding,) = _found(Sentence("Reports show it helps.", where="body[1]"))
    assert finding.key == "uncited|body[1]|Reports show it helps."
