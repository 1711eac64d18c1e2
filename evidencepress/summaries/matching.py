"""Rank a topic's reported patients by how much they resemble a reader's situation.

Pure: imports nothing from Django. The reader's answers (`Situation`) are compared with each
reported case (`evidence.synthesis.CaseData`) feature by feature:

| feature            | weight | counts as a match when                                          |
|--------------------|--------|------------------------------------------------------------------|
| setting            | 3      | the same setting (scalp/face, radiation, lymphoedema, other)     |
| depth              | 3      | the same depth; half weight for a neighbour (superficial/nodular, |
|                    |        | deep/widespread), not listed as matched                          |
| size               | 2      | the same size band: up to 20 mm, 21-50 mm, over 50 mm            |
| surgery            | 1.5    | both can, or both cannot, have surgery                           |
| prior treatments   | 1.5    | scaled by the share of treatments in common (Jaccard index)      |
| site               | 1      | a shared word (e.g. "scalp") or the same body region (face, ...) |

Extent (setting, depth, size) weighs most: a small patch and widespread disease on the same scalp
are not alike, while the exact spot on the head matters less.

A feature counts only when both the reader and the report give it ("not sure" and "not
reported" are never a match nor a mismatch). The score is the weight matched divided by the
weight of the features the reader gave, so it runs from 0 to 1; a case is "like yours" from
0.6 (`SIMILAR_SCORE`). A case whose setting is known
and differs from the reader's known setting is never "like yours": radiation-associated and
scalp angiosarcoma behave differently, and mixing them would mislead.

The ranking is deterministic: score (highest first), then publication id, then case label.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from evidencepress.evidence.synthesis import CaseData
from evidencepress.evidence.vocabulary import BUILTIN, UNKNOWN, UNSURE

SETTINGS = BUILTIN.reader_setting_values
DEPTHS = BUILTIN.depth_values
DETAILS = ("short", "detailed")
# Who the summary is for: the reader themself, or someone they care for (the draft's voice).
FOR_WHOM = ("self", "other")
UNKNOWN_VALUES = frozenset({"", UNKNOWN, UNSURE})

WEIGHTS: dict[str, float] = {
    "setting": 3.0,
    "depth": 3.0,
    "size": 2.0,
    "surgery": 1.5,
    "prior_treatments": 1.5,
    "site": 1.0,
}
# Plain names for the features, used when a summary says what matched.
FEATURE_NAMES: dict[str, str] = {
    "setting": "the kind of angiosarcoma",
    "site": "where it is on the body",
    "depth": "how deep it goes",
    "size": "its size",
    "surgery": "whether surgery is possible",
    "prior_treatments": "treatments already tried",
}
# A case must reach this share of the reader's known features to count as "like yours".
SIMILAR_SCORE = 0.6

_DEPTH_GROUP = BUILTIN.depth_groups
_SIZE_BANDS = ((20, "small"), (50, "medium"))
_SITE_STOPWORDS = frozenset({"and", "the", "of", "on", "left", "right", "side", "my", "a", "upper"})
_SITE_REGIONS = BUILTIN.site_regions


@dataclass(frozen=True)
class Situation:
    """What a reader told us about their situation (plain data, nothing personal but this)."""

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
        if self.setting not in SETTINGS:
            raise ValueError(f"setting: {self.setting!r} is not one of {', '.join(SETTINGS)}")
        if self.lesion_depth not in DEPTHS:
            raise ValueError(
                f"lesion_depth: {self.lesion_depth!r} is not one of {', '.join(DEPTHS)}"
            )
        if self.for_whom not in FOR_WHOM:
            raise ValueError(f"for_whom: {self.for_whom!r} is not one of {', '.join(FOR_WHOM)}")
        if self.detail not in DETAILS:
            raise ValueError(f"detail: {self.detail!r} is not one of {', '.join(DETAILS)}")
        if self.lesion_size_mm is not None and self.lesion_size_mm < 0:
            raise ValueError("lesion_size_mm: a size cannot be negative")
        if self.lesion_count is not None and self.lesion_count < 0:
            raise ValueError("lesion_count: a count cannot be negative")

    @property
    def extensive(self) -> bool:
        """Deep or widespread disease, where topical treatment alone is unlikely to be enough."""
        return self.lesion_depth in BUILTIN.extensive_depths


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


def _regions(words: Iterable[str]) -> frozenset[str]:
    return frozenset(_SITE_REGIONS[w] for w in words if w in _SITE_REGIONS)


def size_band(size_mm: int | None) -> str | None:
    """'small' (up to 20 mm), 'medium' (21-50 mm) or 'large' (over 50 mm); None if unknown."""
    if size_mm is None:
        return None
    for limit, band in _SIZE_BANDS:
        if size_mm <= limit:
            return band
    return "large"


def _wanted(situation: Situation) -> dict[str, float]:
    """The weight of each feature the reader gave (features they did not give do not count)."""
    wanted: dict[str, float] = {}
    if _known(situation.setting):
        wanted["setting"] = WEIGHTS["setting"]
    if site_words(situation.site):
        wanted["site"] = WEIGHTS["site"]
    if _known(situation.lesion_depth):
        wanted["depth"] = WEIGHTS["depth"]
    if situation.lesion_size_mm is not None:
        wanted["size"] = WEIGHTS["size"]
    if situation.surgery_possible is not None:
        wanted["surgery"] = WEIGHTS["surgery"]
    if situation.prior_treatments:
        wanted["prior_treatments"] = WEIGHTS["prior_treatments"]
    return wanted


class _Comparer:
    """Compares cases with one situation; what depends only on the reader is worked out once.

    Sites repeat across cases (a few dozen distinct strings in thousands of cases), so whether
    a site matches is remembered per site string.
    """

    def __init__(self, situation: Situation) -> None:
        self.setting = situation.setting if _known(situation.setting) else None
        self.words = site_words(situation.site)
        self.regions = _regions(self.words)
        self.depth = situation.lesion_depth if _known(situation.lesion_depth) else None
        self.depth_group = _DEPTH_GROUP.get(situation.lesion_depth)
        self.band = size_band(situation.lesion_size_mm)
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
            known = bool(self.words & theirs or self.regions & _regions(theirs))
            self._sites[site] = known
        return known

    def compare(self, case: CaseData) -> tuple[float, list[str]]:
        """The weight a case earns and the features it fully matches."""
        earned = 0.0
        matched: list[str] = []
        if self.setting is not None and case.setting == self.setting:
            earned += WEIGHTS["setting"]
            matched.append("setting")
        if self.words and self.site_matches(case.site):
            earned += WEIGHTS["site"]
            matched.append("site")
        if self.depth is not None and case.lesion_depth in _DEPTH_GROUP:
            if case.lesion_depth == self.depth:
                earned += WEIGHTS["depth"]
                matched.append("depth")
            elif _DEPTH_GROUP[case.lesion_depth] == self.depth_group:
                earned += WEIGHTS["depth"] / 2
        if self.band is not None and size_band(case.lesion_size_mm) == self.band:
            earned += WEIGHTS["size"]
            matched.append("size")
        if self.surgery is not None and case.surgery_candidate is self.surgery:
            earned += WEIGHTS["surgery"]
            matched.append("surgery")
        if self.prior and case.prior_treatments:
            theirs = set(case.prior_treatments)
            common = self.prior & theirs
            if common:
                earned += WEIGHTS["prior_treatments"] * len(common) / len(self.prior | theirs)
                matched.append("prior_treatments")
        return earned, matched


def match_cases(
    situation: Situation,
    cases: Sequence[CaseData],
    *,
    limit: int | None = None,
    minimum: float = SIMILAR_SCORE,
) -> tuple[Match, ...]:
    """The cases like the reader's, most similar first (weighted feature match; see module doc).

    Only cases scoring at least `minimum` are returned (0 returns every case in the same or an
    unknown setting); `limit` keeps the first N after ranking.
    """
    wanted = _wanted(situation)
    possible = sum(wanted.values())
    if possible == 0:
        return ()
    comparer = _Comparer(situation)
    matches = []
    for case in cases:
        if comparer.excluded(case):
            continue
        earned, matched = comparer.compare(case)
        score = round(earned / possible, 4)
        if score >= minimum:
            matches.append(Match(case, score, tuple(matched)))
    matches.sort(key=lambda m: (-m.score, m.case.publication_id, m.case.label))
    return tuple(matches if limit is None else matches[:limit])
