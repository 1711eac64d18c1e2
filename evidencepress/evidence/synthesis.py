"""Numbers about a topic, computed from curated cases the same way every time.

Pure: imports nothing from Django. Selecting the cases is a database query (see `topic_reports.py`);
everything here runs on plain, frozen data, so the same cases always give the same numbers.

Methods
- Proportions carry exact Clopper–Pearson 95% intervals (Clopper CJ, Pearson ES. Biometrika
  1934;26:404-13), computed from the beta distribution: lower = Beta(α/2; k, n−k+1),
  upper = Beta(1−α/2; k+1, n−k); 0 of n has lower bound 0 and n of n upper bound 1.
- Distributions give the median, quartiles (linear interpolation between order statistics, as
  numpy.percentile's default) and range, with the number of patients who reported the value.
- A field is "missing" for a patient when the report does not give it (None, or "unknown").
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from functools import lru_cache
from operator import itemgetter
from statistics import median
from typing import Any, NamedTuple

from .vocabulary import Vocabulary


def neutral_vocabulary() -> Vocabulary:
    """The vocabulary of a topic without its own definition (used when none is given)."""
    from .topic_definition import default_definition

    return default_definition().vocabulary


# The fields counted as missing, with the value that means "not reported" for choice fields.
TRACKED_FIELDS: dict[str, object] = {
    "age": None,
    "sex": "unknown",
    "setting": "unknown",
    "site": "",
    "lesion_size_mm": None,
    "lesion_count": None,
    "lesion_depth": "unknown",
    "surgery_candidate": None,
    "regimen_strength": "",
    "regimen_frequency_per_week": None,
    "regimen_duration_weeks": None,
    "occlusion": None,
    "response": "unknown",
    "response_assessment": "unknown",
    "time_to_response_weeks": None,
    "follow_up_months": None,
    "recurrence": None,
    "treatment_stopped_early": None,
    "status_at_last_follow_up": "unknown",
}


class AdverseEventData(NamedTuple):
    """One reported adverse event."""

    kind: str
    severity: str = "unknown"
    led_to_stop: bool | None = None


class CaseData(NamedTuple):
    """One reported patient, as plain data.

    A named tuple rather than a dataclass: building 10,000 of them from database rows, and
    turning them into columns with `zip(*cases)`, both run at C speed (bench/synthesis.py).
    """

    publication_id: int
    label: str
    is_demo: bool = False
    age: int | None = None
    sex: str = "unknown"
    setting: str = "unknown"
    site: str = ""
    lesion_size_mm: int | None = None
    lesion_count: int | None = None
    lesion_depth: str = "unknown"
    surgery_candidate: bool | None = None
    prior_treatments: tuple[str, ...] = ()
    concurrent_treatments: tuple[str, ...] = ()
    regimen_strength: str = ""
    regimen_frequency_per_week: Decimal | None = None
    regimen_duration_weeks: Decimal | None = None
    occlusion: bool | None = None
    response: str = "unknown"
    response_assessment: str = "unknown"
    time_to_response_weeks: Decimal | None = None
    follow_up_months: Decimal | None = None
    recurrence: bool | None = None
    recurrence_months: Decimal | None = None
    treatment_stopped_early: bool | None = None
    status_at_last_follow_up: str = "unknown"
    adverse_events: tuple[AdverseEventData, ...] = ()
    updated_at: datetime | None = None
    concurrent_categories: tuple[str, ...] = ()  # Treatment.Category of concurrent treatments
    biomarkers: str = ""


_FIELD_INDEX = {name: index for index, name in enumerate(CaseData._fields)}


class Columns(dict[str, tuple[Any, ...]]):
    """The cases as one tuple per field, each built the first time it is asked for."""

    def __init__(self, cases: Sequence[CaseData]) -> None:
        super().__init__()
        self._cases = cases

    def __missing__(self, name: str) -> tuple[Any, ...]:
        column = tuple(map(itemgetter(_FIELD_INDEX[name]), self._cases))
        self[name] = column
        return column


_last_columns: tuple[tuple[CaseData, ...], Columns] | None = None


def columns(cases: Sequence[CaseData]) -> Columns:
    """The cases as columns. For a tuple (immutable), the last result is reused: synthesis,
    certainty and research gaps all read the same report's cases."""
    global _last_columns
    last = _last_columns
    if last is not None and last[0] is cases:
        return last[1]
    cols = Columns(cases)
    if isinstance(cases, tuple):
        _last_columns = (cases, cols)
    return cols


@dataclass(frozen=True, slots=True)
class Proportion:
    count: int
    total: int
    proportion: float | None  # None when total is 0
    ci_low: float | None
    ci_high: float | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "count": self.count,
            "total": self.total,
            "proportion": self.proportion,
            "ci_low": self.ci_low,
            "ci_high": self.ci_high,
        }


@dataclass(frozen=True, slots=True)
class Distribution:
    reported: int  # patients with a value
    median: float | None
    q1: float | None
    q3: float | None
    minimum: float | None
    maximum: float | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "reported": self.reported,
            "median": self.median,
            "q1": self.q1,
            "q3": self.q3,
            "min": self.minimum,
            "max": self.maximum,
        }


@dataclass(frozen=True, slots=True)
class AdverseEventSummary:
    kind: str
    patients: int  # patients with at least one event of this kind
    events: int
    by_severity: dict[str, int]
    led_to_stop: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "patients": self.patients,
            "events": self.events,
            "by_severity": dict(self.by_severity),
            "led_to_stop": self.led_to_stop,
        }


@dataclass(frozen=True, slots=True)
class Synthesis:
    publications: int
    patients: int
    demo_patients: int
    responses: dict[str, Proportion]
    any_response: Proportion
    time_to_response_weeks: Distribution
    follow_up_months: Distribution
    recurrence_among_responders: Proportion
    adverse_events: tuple[AdverseEventSummary, ...]
    patients_with_adverse_events: Proportion
    missing: dict[str, int]
    evidence_date: datetime | None
    filters: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "publications": self.publications,
            "patients": self.patients,
            "demo_patients": self.demo_patients,
            "includes_demonstration_data": self.demo_patients > 0,
            "responses": {k: v.as_dict() for k, v in self.responses.items()},
            "any_response": self.any_response.as_dict(),
            "time_to_response_weeks": self.time_to_response_weeks.as_dict(),
            "follow_up_months": self.follow_up_months.as_dict(),
            "recurrence_among_responders": self.recurrence_among_responders.as_dict(),
            "adverse_events": [a.as_dict() for a in self.adverse_events],
            "patients_with_adverse_events": self.patients_with_adverse_events.as_dict(),
            "missing": dict(self.missing),
            "evidence_date": self.evidence_date.isoformat() if self.evidence_date else None,
            "filters": dict(self.filters),
        }


@lru_cache(maxsize=4096)
def clopper_pearson(count: int, total: int, confidence: float = 0.95) -> tuple[float, float]:
    """Exact (Clopper–Pearson) interval for a binomial proportion count/total.

    Cached per (count, total, confidence): scipy's beta quantile costs far more than the rest of
    a summary, and the same pairs come back on every page view.
    """
    if total <= 0:
        raise ValueError("an interval needs at least one patient")
    if not 0 <= count <= total:
        raise ValueError(f"count {count} is outside 0..{total}")
    from scipy.stats import beta  # imported on first use: SciPy adds ~70 MB to every process

    alpha = 1 - confidence
    low = 0.0 if count == 0 else float(beta.ppf(alpha / 2, count, total - count + 1))
    high = 1.0 if count == total else float(beta.ppf(1 - alpha / 2, count + 1, total - count))
    return low, high


def proportion(count: int, total: int) -> Proportion:
    if total == 0:
        return Proportion(count, total, None, None, None)
    low, high = clopper_pearson(count, total)
    return Proportion(count, total, count / total, low, high)


def _quantile(ordered: Sequence[float], q: float) -> float:
    position = (len(ordered) - 1) * q
    below = int(position)
    above = min(below + 1, len(ordered) - 1)
    return ordered[below] + (ordered[above] - ordered[below]) * (position - below)


def distribution(values: Iterable[Decimal | float | int | None]) -> Distribution:
    present = sorted(float(v) for v in values if v is not None)
    if not present:
        return Distribution(0, None, None, None, None, None)
    return Distribution(
        reported=len(present),
        median=float(median(present)),
        q1=_quantile(present, 0.25),
        q3=_quantile(present, 0.75),
        minimum=present[0],
        maximum=present[-1],
    )


def missing_counts(cases: Sequence[CaseData]) -> dict[str, int]:
    """For every tracked field, the number of patients whose report does not give it."""
    return _missing(columns(cases))


def _missing(cols: Columns) -> dict[str, int]:
    return {name: cols[name].count(absent) for name, absent in TRACKED_FIELDS.items()}


def synthesise(
    cases: Sequence[CaseData],
    *,
    filters: dict[str, Any] | None = None,
    vocabulary: Vocabulary | None = None,
) -> Synthesis:
    """Summarise a set of cases (already selected for a topic and filters).

    The response categories, which of them count as a response, and the severities come from
    the topic's `vocabulary` (evidence.vocabulary.vocabulary_for; the neutral default when
    None). Works column by column (`columns`), so that 10,000 cases take milliseconds.
    """
    vocabulary = vocabulary or neutral_vocabulary()
    responded = frozenset(vocabulary.improved_responses)
    severities = vocabulary.severity_values
    cols = columns(cases)
    total = len(cases)
    counts = Counter(cols["response"])
    responses = {
        name: proportion(counts.get(name, 0), total) for name in vocabulary.response_values
    }
    responder_rows = [
        (weeks, recurred)
        for response, weeks, recurred in zip(
            cols["response"], cols["time_to_response_weeks"], cols["recurrence"], strict=True
        )
        if response in responded
    ]
    recurrence_known = [recurred for _, recurred in responder_rows if recurred is not None]

    kinds: dict[str, list[tuple[int, AdverseEventData]]] = {}
    for index, events in enumerate(cols["adverse_events"]):
        for event in events:
            kinds.setdefault(event.kind.strip().lower(), []).append((index, event))
    adverse = tuple(
        AdverseEventSummary(
            kind=kind,
            patients=len({index for index, _ in events}),
            events=len(events),
            by_severity={
                severity: sum(1 for _, e in events if e.severity == severity)
                for severity in severities
            },
            led_to_stop=sum(1 for _, e in events if e.led_to_stop),
        )
        for kind, events in sorted(kinds.items(), key=lambda item: (-len(item[1]), item[0]))
    )
    dates = [date for date in cols["updated_at"] if date is not None]
    return Synthesis(
        publications=len(set(cols["publication_id"])),
        patients=total,
        demo_patients=sum(1 for demo in cols["is_demo"] if demo),
        responses=responses,
        any_response=proportion(len(responder_rows), total),
        time_to_response_weeks=distribution(weeks for weeks, _ in responder_rows),
        follow_up_months=distribution(cols["follow_up_months"]),
        recurrence_among_responders=proportion(
            sum(1 for recurred in recurrence_known if recurred), len(recurrence_known)
        ),
        adverse_events=adverse,
        patients_with_adverse_events=proportion(total - cols["adverse_events"].count(()), total),
        missing=_missing(cols),
        evidence_date=max(dates) if dates else None,
        filters=dict(filters or {}),
    )
