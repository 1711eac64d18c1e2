"""Rank a topic's reported patients by how much they resemble a reader's situation.

Pure: imports nothing from Django. Everything about the condition comes from the topic's
definition (`evidence.topic_definition`): the values a setting and an extent take, which extents
count as alike, the body regions, the weights, the size bands and the "like yours" threshold.
The reader's answers (`Situation`) are compared with each reported case
(`evidence.synthesis.CaseData`) feature by feature, each with the weight the topic gives it:

| feature            | counts as a match when                                                |
|--------------------|-----------------------------------------------------------------------|
| setting            | the same setting (the topic's `vocabulary.settings`)                  |
| depth              | the same extent; half weight for one in the same `extent_groups`      |
|                    | group, not listed as matched                                          |
| size               | the same size band (`matching.size_bands`; above the last: "large")   |
| surgery            | both can, or both cannot, have surgery                                |
| prior treatments   | scaled by the share of treatments in common (Jaccard index)           |
| site               | a shared word (e.g. "arm") or the same body region (`site_regions`)   |

A feature counts only when both the reader and the report give it ("not sure" and "not
reported" are never a match nor a mismatch). The score is the weight matched divided by the
weight of the features the reader gave, so it runs from 0 to 1; a case is "like yours" from the
topic's `matching.similar_score`. A case whose setting is known and differs from the reader's
known setting is never "like yours": two settings of one condition may behave differently, and
mixing them would mislead.

The ranking is deterministic: score (highest first), then publication id, then case label.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from evidencepress.evidence.synthesis import CaseData
from evidencepress.evidence.topic_definition import Matching, TopicDefinition
from evidencepress.evidence.vocabulary import UNKNOWN, UNSURE, Vocabulary

DETAILS = ("short", "detailed")
# Who the summary is for: the reader themself, or someone they care for (the draft's voice).
FOR_WHOM = ("self", "other")
UNKNOWN_VALUES = frozenset({"", UNKNOWN, UNSURE})
# The features compared, in the order a draft names them.
FEATURES = ("setting", "depth", "size", "surgery", "prior_treatments", "site")

_SITE_STOPWORDS = frozenset({"and", "the", "of", "on", "left", "right", "side", "my", "a", "upper"})


@dataclass(frozen=True)
class Situation:
    """What a reader told us about their situation (plain data, nothing personal but this).

    `setting` and `lesion_depth` are values of the topic's vocabulary (or "unsure"/"unknown");
    `check_situation` checks them against a topic's definition.
    """

    setting: str
    site: str
    lesion_size_mm: int | None
    lesion_count: int | None
    lesion_depth: str
    surgery_possible: bool | None
    prior_treatments: tuple[str, ...]
    current_treatments: tuple[str, ...]
    question: str
    detail: str
    for_whom: str = "self"

    def __post_init__(self) -> None:
        if self.for_whom not in FOR_WHOM:
            raise ValueError(f"for_whom: {self.for_whom!r} is not one of {', '.join(FOR_WHOM)}")
        if self.detail not in DETAILS:
            raise ValueError(f"detail: {self.detail!r} is not one of {', '.join(DETAILS)}")
        if self.lesion_size_mm is not None and self.lesion_size_mm < 0:
            raise ValueError("lesion_size_mm: a size cannot be negative")
        if self.lesion_count is not None and self.lesion_count < 0:
            raise ValueError("lesion_count: a count cannot be negative")


def check_situation(situation: Situation, vocabulary: Vocabulary) -> None:
    """Raise ValueError naming the field when an answer is not a value of the topic."""
    settings = vocabulary.reader_setting_values
    if situation.setting not in settings:
        raise ValueError(f"setting: {situation.setting!r} is not one of {', '.join(settings)}")
    depths = (*vocabulary.depth_values, UNSURE)
    if situation.lesion_depth not in depths:
        raise ValueError(
            f"lesion_depth: {situation.lesion_depth!r} is not one of {', '.join(depths)}"
        )


def beyond_reach(situation: Situation, vocabulary: Vocabulary) -> bool:
    """An extent the topic marks as beyond what the treatment reaches (`beyond_reach`)."""
    return situation.lesion_depth in vocabulary.extensive_depths


@dataclass(frozen=True)
class Match:
    """One reported case, its similarity score (0 to 1) and the features that matched."""

    case: CaseData
    score: float
    matched: tuple[str, ...]


def _known(value: str) -> bool:
    return value.strip().lower() not in UNKNOWN_VALUES


def site_words(site: str) -> frozenset[str]:
    """The meaningful words of a body site, lower-cased ("Left upper arm" -> {"arm"})."""
    words = re.findall(r"[a-z]+", site.lower())
    return frozenset(w.removesuffix("s") for w in words if w not in _SITE_STOPWORDS)


def _regions(words: Iterable[str], regions: Mapping[str, str]) -> frozenset[str]:
    return frozenset(regions[w] for w in words if w in regions)


def size_band(size_mm: int | None, bands: Sequence[tuple[int, str]]) -> str | None:
    """The name of the topic's size band holding `size_mm` ("large" above the last); None if
    the size is unknown."""
    if size_mm is None:
        return None
    for limit, band in bands:
        if size_mm <= limit:
            return band
    return "large"


def _wanted(situation: Situation, weights: Mapping[str, float]) -> dict[str, float]:
    """The weight of each feature the reader gave (features they did not give do not count)."""
    given = {
        "setting": _known(situation.setting),
        "site": bool(site_words(situation.site)),
        "depth": _known(situation.lesion_depth),
        "size": situation.lesion_size_mm is not None,
        "surgery": situation.surgery_possible is not None,
        "prior_treatments": bool(situation.prior_treatments),
    }
    return {feature: weights.get(feature, 0.0) for feature in FEATURES if given[feature]}


class _Comparer:
    """Compares cases with one situation; what depends only on the reader is worked out once.

    Sites repeat across cases (a few dozen distinct strings in thousands of cases), so whether
    a site matches is remembered per site string.
    """

    def __init__(self, situation: Situation, definition: TopicDefinition) -> None:
        vocabulary = definition.vocabulary
        matching: Matching = definition.matching
        self.weights = matching.weights
        self.bands = matching.size_bands
        self.site_regions = vocabulary.site_regions
        self.depth_groups = vocabulary.depth_groups
        self.setting = situation.setting if _known(situation.setting) else None
        self.words = site_words(situation.site)
        self.regions = _regions(self.words, self.site_regions)
        self.depth = situation.lesion_depth if _known(situation.lesion_depth) else None
        self.depth_group = self.depth_groups.get(situation.lesion_depth)
        self.band = size_band(situation.lesion_size_mm, self.bands)
        self.surgery = situation.surgery_possible
        self.prior = frozenset(situation.prior_treatments)
        self._sites: dict[str, bool] = {}

    def excluded(self, case: CaseData) -> bool:
        return (
            self.setting is not None
            and case.setting != self.setting
            and case.setting not in UNKNOWN_VALUES
        )

    def site_matches(self, site: str) -> bool:
        known = self._sites.get(site)
        if known is None:
            theirs = site_words(site)
            known = bool(self.words & theirs or self.regions & _regions(theirs, self.site_regions))
            self._sites[site] = known
        return known

    def compare(self, case: CaseData) -> tuple[float, list[str]]:
        """The weight a case earns and the features it fully matches."""
        weights = self.weights
        earned = 0.0
        matched: list[str] = []
        if self.setting is not None and case.setting == self.setting:
            earned += weights.get("setting", 0.0)
            matched.append("setting")
        if self.words and self.site_matches(case.site):
            earned += weights.get("site", 0.0)
            matched.append("site")
        if self.depth is not None and _known(case.lesion_depth):
            if case.lesion_depth == self.depth:
                earned += weights.get("depth", 0.0)
                matched.append("depth")
            elif (
                self.depth_group is not None
                and self.depth_groups.get(case.lesion_depth) == self.depth_group
            ):
                earned += weights.get("depth", 0.0) / 2
        if self.band is not None and size_band(case.lesion_size_mm, self.bands) == self.band:
            earned += weights.get("size", 0.0)
            matched.append("size")
        if self.surgery is not None and case.surgery_candidate is self.surgery:
            earned += weights.get("surgery", 0.0)
            matched.append("surgery")
        if self.prior and case.prior_treatments:
            theirs = set(case.prior_treatments)
            common = self.prior & theirs
            if common:
                share = len(common) / len(self.prior | theirs)
                earned += weights.get("prior_treatments", 0.0) * share
                matched.append("prior_treatments")
        return earned, matched


def match_cases(
    situation: Situation,
    cases: Sequence[CaseData],
    definition: TopicDefinition,
    *,
    limit: int | None = None,
    minimum: float | None = None,
) -> tuple[Match, ...]:
    """The cases like the reader's, most similar first (weighted feature match; see module doc).

    Only cases scoring at least `minimum` (default: the topic's `similar_score`) are returned
    (0 returns every case in the same or an unknown setting); `limit` keeps the first N after
    ranking. Raises ValueError when the situation's answers are not values of the topic.
    """
    check_situation(situation, definition.vocabulary)
    threshold = definition.matching.similar_score if minimum is None else minimum
    wanted = _wanted(situation, definition.matching.weights)
    possible = sum(wanted.values())
    if possible == 0:
        return ()
    comparer = _Comparer(situation, definition)
    matches = []
    for case in cases:
        if comparer.excluded(case):
            continue
        earned, matched = comparer.compare(case)
        score = round(earned / possible, 4)
        if score >= threshold:
            matches.append(Match(case, score, tuple(matched)))
    matches.sort(key=lambda m: (-m.score, m.case.publication_id, m.case.label))
    return tuple(matches if limit is None else matches[:limit])
