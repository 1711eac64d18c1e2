"""Ranking reported cases by similarity to a reader's situation (pure, no database)."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import replace

import pytest

from evidencepress.evidence.synthesis import CaseData
from evidencepress.summaries.matching import (
    Match,
    Situation,
    beyond_reach,
    check_situation,
    site_words,
)
from evidencepress.summaries.matching import match_cases as match_with
from evidencepress.summaries.matching import size_band as band_of

from .definitions import DEMO, DEMO_DATA, changed

SIMILAR_SCORE = DEMO.matching.similar_score


def match_cases(
    reader: Situation,
    cases: Sequence[CaseData],
    *,
    limit: int | None = None,
    minimum: float | None = None,
) -> tuple[Match, ...]:
    """Matching with the demo topic's definition."""
    return match_with(reader, cases, DEMO, limit=limit, minimum=minimum)


def size_band(size: int | None) -> str | None:
    return band_of(size, DEMO.matching.size_bands)


def situation(**changes: object) -> Situation:
    base = Situation(
        setting="scalp_face",
        site="scalp",
        lesion_size_mm=15,
        lesion_count=1,
        lesion_depth="superficial",
        surgery_possible=False,
        prior_treatments=(),
        current_treatments=(),
        question="",
        detail="short",
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def case(label: str, publication_id: int = 1, **fields: object) -> CaseData:
    return CaseData(publication_id, label, **fields)  # type: ignore[arg-type]


SMALL_SCALP = case(
    "Small scalp",
    setting="scalp_face",
    site="scalp",
    lesion_size_mm=12,
    lesion_depth="superficial",
    surgery_candidate=False,
)
WIDESPREAD_SCALP = case(
    "Widespread scalp",
    setting="scalp_face",
    site="scalp",
    lesion_size_mm=80,
    lesion_depth="widespread",
    surgery_candidate=False,
)
BREAST = case(
    "Breast",
    setting="radiation",
    site="breast",
    lesion_size_mm=14,
    lesion_depth="superficial",
    surgery_candidate=False,
)


def test_the_closest_case_comes_first_and_says_what_matched() -> None:
    matches = match_cases(situation(), [WIDESPREAD_SCALP, BREAST, SMALL_SCALP], minimum=0)

    assert matches[0].case is SMALL_SCALP
    assert matches[0].score == 1.0
    assert set(matches[0].matched) == {"setting", "site", "depth", "size", "surgery"}
    # The widespread case shares the setting, site and surgery answer but not the extent.
    widespread = next(m for m in matches if m.case is WIDESPREAD_SCALP)
    assert set(widespread.matched) == {"setting", "site", "surgery"}
    assert widespread.score < SIMILAR_SCORE


def test_a_case_in_another_known_setting_is_never_like_yours() -> None:
    matches = match_cases(situation(), [BREAST, SMALL_SCALP], minimum=0)
    assert [m.case for m in matches] == [SMALL_SCALP]


def test_a_case_whose_setting_was_not_reported_can_still_match() -> None:
    unreported = SMALL_SCALP._replace(label="Setting not reported", setting="unknown")
    matches = match_cases(situation(), [unreported])
    assert len(matches) == 1
    assert "setting" not in matches[0].matched
    assert matches[0].score < 1.0


def test_only_cases_above_the_threshold_are_like_yours() -> None:
    assert [m.case for m in match_cases(situation(), [WIDESPREAD_SCALP, SMALL_SCALP])] == [
        SMALL_SCALP
    ]


def test_features_the_reader_did_not_give_do_not_count() -> None:
    unsure = situation(
        setting="unsure",
        site="",
        lesion_size_mm=None,
        lesion_depth="unknown",
        surgery_possible=None,
    )
    assert match_cases(unsure, [SMALL_SCALP, BREAST], minimum=0) == ()

    only_depth = replace(unsure, lesion_depth="superficial")
    matches = match_cases(only_depth, [SMALL_SCALP, BREAST, WIDESPREAD_SCALP])
    # Depth is the only feature given, so every superficial case matches fully.
    assert [m.case.label for m in matches] == ["Breast", "Small scalp"]
    assert all(m.score == 1.0 and m.matched == ("depth",) for m in matches)


def test_a_neighbouring_depth_earns_half_and_is_not_called_a_match() -> None:
    nodular = SMALL_SCALP._replace(label="Nodular", lesion_depth="nodular")
    deep = SMALL_SCALP._replace(label="Deep", lesion_depth="deep")
    by_label = {m.case.label: m for m in match_cases(situation(), [nodular, deep], minimum=0)}
    assert "depth" not in by_label["Nodular"].matched
    assert by_label["Nodular"].score > by_label["Deep"].score


def test_prior_treatments_count_by_the_share_in_common() -> None:
    mine = situation(prior_treatments=("surgery", "radiotherapy"))
    same = SMALL_SCALP._replace(label="Same", prior_treatments=("radiotherapy", "surgery"))
    half = SMALL_SCALP._replace(label="Half", prior_treatments=("surgery", "paclitaxel"))
    none = SMALL_SCALP._replace(label="None", prior_treatments=())
    scores = {m.case.label: m.score for m in match_cases(mine, [same, half, none], minimum=0)}
    assert scores["Same"] == 1.0
    assert scores["Same"] > scores["Half"] > scores["None"]
    assert "prior_treatments" in next(m for m in match_cases(mine, [half], minimum=0)).matched


def test_sites_match_on_a_shared_word_or_the_same_region() -> None:
    assert site_words("Left upper arm") == frozenset({"arm"})
    forehead = situation(site="forehead")
    nose = SMALL_SCALP._replace(label="Nose", site="nose")
    chest = SMALL_SCALP._replace(label="Chest", site="chest wall")
    by_label = {m.case.label: m for m in match_cases(forehead, [nose, chest], minimum=0)}
    assert "site" in by_label["Nose"].matched
    assert "site" not in by_label["Chest"].matched
    scalp_and_forehead = SMALL_SCALP._replace(label="Both", site="Scalp and forehead")
    assert "site" in match_cases(situation(), [scalp_and_forehead])[0].matched


@pytest.mark.parametrize(
    ("size", "band"),
    [(None, None), (0, "small"), (20, "small"), (21, "medium"), (50, "medium"), (51, "large")],
)
def test_size_bands(size: int | None, band: str | None) -> None:
    assert size_band(size) == band


def test_ties_are_broken_by_publication_then_label_whatever_the_input_order() -> None:
    cases = [
        SMALL_SCALP._replace(publication_id=pub, label=label)
        for pub in (3, 1, 2)
        for label in ("Case 2", "Case 10", "Case 1")
    ]
    expected = [(m.case.publication_id, m.case.label) for m in match_cases(situation(), cases)]
    assert expected == sorted(expected)
    for seed in range(5):
        shuffled = cases[:]
        random.Random(seed).shuffle(shuffled)
        assert [
            (m.case.publication_id, m.case.label) for m in match_cases(situation(), shuffled)
        ] == (expected)


def test_limit_keeps_the_best() -> None:
    matches = match_cases(situation(), [WIDESPREAD_SCALP, SMALL_SCALP], minimum=0, limit=1)
    assert [m.case for m in matches] == [SMALL_SCALP]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("setting", "breast"),
        ("lesion_depth", "very deep"),
        ("detail", "long"),
        ("lesion_size_mm", -1),
        ("lesion_count", -2),
    ],
)
def test_a_bad_situation_names_the_field(field: str, value: object) -> None:
    def build_and_check() -> None:
        check_situation(situation(**{field: value}), DEMO.vocabulary)

    with pytest.raises(ValueError, match=field):
        build_and_check()
    with pytest.raises(ValueError, match=field):
        match_cases(replace(situation(), **{field: value}), [SMALL_SCALP])


# --- everything comes from the topic's definition ------------------------------------------


def test_weights_come_from_the_definition() -> None:
    """A topic that weighs the site most ranks a same-site, other-depth case first."""
    nose = SMALL_SCALP._replace(label="Nose, deep", site="nose", lesion_depth="deep")
    scalp = SMALL_SCALP._replace(label="Scalp, nodular", lesion_depth="nodular", site="arm")
    reader = situation(site="nose", lesion_size_mm=None, surgery_possible=None)
    demo = [m.case.label for m in match_with(reader, [nose, scalp], DEMO, minimum=0)]
    assert demo[0] == "Scalp, nodular"
    site_first = changed(
        matching={**DEMO_DATA["matching"], "weights": {"setting": 1, "depth": 1, "site": 10}}
    )
    ranked = [m.case.label for m in match_with(reader, [nose, scalp], site_first, minimum=0)]
    assert ranked[0] == "Nose, deep"


def test_size_bands_and_threshold_come_from_the_definition() -> None:
    matching = {
        **DEMO_DATA["matching"],
        "size_bands": [{"up_to_mm": 5, "name": "tiny"}],
        "similar_score": 1.0,
    }
    strict = changed(matching=matching)
    assert band_of(5, strict.matching.size_bands) == "tiny"
    assert band_of(6, strict.matching.size_bands) == "large"
    near = SMALL_SCALP._replace(label="Near", site="arm")
    assert match_with(situation(), [near], DEMO) != ()
    assert match_with(situation(), [near], strict) == ()


def test_what_is_beyond_reach_comes_from_the_definition() -> None:
    reader = situation(lesion_depth="nodular")
    assert not beyond_reach(reader, DEMO.vocabulary)
    vocabulary = {**DEMO_DATA["vocabulary"], "beyond_reach": ["nodular", "deep", "widespread"]}
    assert beyond_reach(reader, changed(vocabulary=vocabulary).vocabulary)


def test_a_setting_the_topic_does_not_have_is_refused() -> None:
    vocabulary = {
        **DEMO_DATA["vocabulary"],
        "settings": [s for s in DEMO_DATA["vocabulary"]["settings"] if s["value"] != "radiation"],
    }
    questionnaire = [q for q in DEMO_DATA["questionnaire"] if q["key"] != "setting"]
    narrower = changed(vocabulary=vocabulary, questionnaire=questionnaire)
    with pytest.raises(ValueError, match="setting: 'radiation'"):
        match_with(situation(setting="radiation"), [BREAST], narrower)
