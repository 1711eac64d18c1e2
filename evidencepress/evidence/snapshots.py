"""Pinned evidence: what a clinician reviewed, as plain data, and how today's evidence differs.

Pure: imports nothing from Django. A snapshot stores the *inputs* of a topic's report (every
case as `CaseData`, the appraisal rows and the editors' questions), so the page can be rebuilt
exactly as it was reviewed, by the same synthesis, with every block (summary, case table,
swimmer plot, limits, research questions) agreeing. It also stores the headline numbers as they
were computed at review time, for the record and for comparisons.

A case is identified within a topic by (publication id, label): the database makes that pair
unique per topic (`patient_label_unique_per_report`), and the synthesis reads it, so the
difference between two snapshots needs no extra query. A relabelled case counts as one removed
and one new case.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from .synthesis import AdverseEventData, CaseData, Proportion, Synthesis
from .vocabulary import UNKNOWN, vocabulary_for

_DECIMAL_FIELDS = frozenset(
    {
        "regimen_frequency_per_week",
        "regimen_duration_weeks",
        "time_to_response_weeks",
        "follow_up_months",
        "recurrence_months",
    }
)
_TUPLE_FIELDS = frozenset({"prior_treatments", "concurrent_treatments", "concurrent_categories"})
# What a reader sees of a case: everything but the time it was last saved.
_CONTENT_FIELDS = tuple(name for name in CaseData._fields if name != "updated_at")

CaseKey = tuple[int, str]


def case_to_json(case: CaseData) -> dict[str, Any]:
    """One case as JSON-safe data (decimals as text, times in ISO 8601)."""
    out: dict[str, Any] = {}
    value: Any
    for name, value in zip(CaseData._fields, case, strict=True):
        if name == "adverse_events":
            out[name] = [[e.kind, e.severity, e.led_to_stop] for e in value]
        elif name in _TUPLE_FIELDS:
            out[name] = list(value)
        elif isinstance(value, Decimal):
            out[name] = str(value)
        elif isinstance(value, datetime):
            out[name] = value.isoformat()
        else:
            out[name] = value
    return out


def case_from_json(data: dict[str, Any]) -> CaseData:
    """The inverse of `case_to_json`."""
    values: dict[str, Any] = {}
    for name in CaseData._fields:
        if name not in data:
            continue
        value = data[name]
        if name == "adverse_events":
            value = tuple(AdverseEventData(*event) for event in value)
        elif name in _TUPLE_FIELDS:
            value = tuple(value)
        elif name in _DECIMAL_FIELDS and value is not None:
            value = Decimal(value)
        elif name == "updated_at" and value is not None:
            value = datetime.fromisoformat(value)
        values[name] = value
    return CaseData(**values)


def case_key(case: CaseData) -> CaseKey:
    return (case.publication_id, case.label)


def case_content(case: CaseData) -> tuple[Any, ...]:
    """What a case says, without when it was saved: equal content means nothing to review."""
    return tuple(getattr(case, name) for name in _CONTENT_FIELDS)


def fingerprint(
    cases: Iterable[CaseData],
    appraisals: Iterable[Sequence[Any]],
    questions: Iterable[Sequence[Any]],
) -> str:
    """A SHA-256 digest of what the report is computed from (saving time left out)."""
    payload = {
        "cases": sorted(
            (json.dumps([str(v) for v in case_content(c)]) for c in cases),
        ),
        "appraisals": sorted(json.dumps([str(v) for v in row]) for row in appraisals),
        "questions": sorted(json.dumps([str(v) for v in row]) for row in questions),
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


# --- headline numbers and their difference ---------------------------------------------------


def _share(p: Proportion) -> str:
    return f"{p.count} of {p.total}"


def headline(synthesis: Synthesis, topic: object | None = None) -> dict[str, str]:
    """The numbers a reader sees first, as they read them ("6 of 11"), in reading order.

    The responses are the topic's own (`vocabulary_for(topic)`), in its order, without the
    "not reported" value."""
    numbers = {
        "patients": str(synthesis.patients),
        "publications": str(synthesis.publications),
        "any improvement": _share(synthesis.any_response),
    }
    for name in vocabulary_for(topic).response_values:
        if name == UNKNOWN:
            continue
        share = synthesis.responses.get(name)
        if share is not None:
            numbers[f"{name.replace('progression', 'progressed')}"] = _share(share)
    numbers["came back after improving"] = _share(synthesis.recurrence_among_responders)
    numbers["had a side effect"] = _share(synthesis.patients_with_adverse_events)
    return numbers


@dataclass(frozen=True, slots=True)
class NumberChange:
    name: str
    before: str
    after: str

    def __str__(self) -> str:
        return f"{self.name} {self.before} → {self.after}"


@dataclass(frozen=True, slots=True)
class EvidenceDifference:
    """How the current evidence differs from a reviewed snapshot."""

    new_cases: int
    corrected_cases: int
    removed_cases: int
    other_changes: bool  # appraisals or the editors' questions
    numbers: tuple[NumberChange, ...]

    @property
    def changed(self) -> bool:
        return bool(
            self.new_cases
            or self.corrected_cases
            or self.removed_cases
            or self.other_changes
            or self.numbers
        )

    @property
    def waiting_cases(self) -> int:
        return self.new_cases + self.corrected_cases

    @property
    def numbers_text(self) -> str:
        """e.g. "patients 10 → 11; any improvement 5 of 10 → 6 of 11"."""
        return "; ".join(str(change) for change in self.numbers)

    @property
    def plain_words(self) -> str:
        """The note readers see, e.g. "2 new or corrected cases are waiting for clinical
        review."."""
        parts = []
        waiting = self.waiting_cases
        if waiting:
            noun = "case is" if waiting == 1 else "cases are"
            parts.append(f"{waiting} new or corrected {noun} waiting for clinical review.")
        if self.removed_cases:
            noun = "case was" if self.removed_cases == 1 else "cases were"
            parts.append(
                f"{self.removed_cases} {noun} taken out of the evidence base since the review;"
                " the change is waiting for clinical review."
            )
        if not parts and self.changed:
            parts.append("Changes to the evidence are waiting for clinical review.")
        return " ".join(parts)


def difference(
    *,
    reviewed_cases: Sequence[CaseData],
    reviewed_synthesis: Synthesis,
    reviewed_inputs: tuple[Any, Any],
    current_cases: Sequence[CaseData],
    current_synthesis: Synthesis,
    current_inputs: tuple[Any, Any],
    topic: object | None = None,
) -> EvidenceDifference:
    """Compare two sets of report inputs: cases by (publication, label), then the headline
    (with `topic`'s responses).

    `*_inputs` are (appraisal rows, questions), compared as sets.
    """
    before = {case_key(c): case_content(c) for c in reviewed_cases}
    after = {case_key(c): case_content(c) for c in current_cases}
    new = sum(1 for key in after if key not in before)
    removed = sum(1 for key in before if key not in after)
    corrected = sum(1 for key, content in after.items() if key in before and before[key] != content)
    other = _as_set(reviewed_inputs[0]) != _as_set(current_inputs[0]) or _as_set(
        reviewed_inputs[1]
    ) != _as_set(current_inputs[1])
    old_numbers = headline(reviewed_synthesis, topic)
    new_numbers = headline(current_synthesis, topic)
    changes = tuple(
        NumberChange(name, old_numbers.get(name, "—"), value)
        for name, value in new_numbers.items()
        if old_numbers.get(name) != value
    )
    return EvidenceDifference(
        new_cases=new,
        corrected_cases=corrected,
        removed_cases=removed,
        other_changes=other,
        numbers=changes,
    )


def _as_set(rows: Iterable[Sequence[Any]]) -> frozenset[tuple[str, ...]]:
    return frozenset(tuple(str(v) for v in row) for row in rows)
