"""The shape of a topic's case vocabulary: the values a reported case takes and their words.

Pure: imports nothing from Django, so the pure modules (synthesis, matching, drafting) read it
as well as the models, the export, the import and the reader's request form.

Each value has up to three wordings:
- `label`: the curator's word (admin forms, the export's documentation);
- `answer`: how the reader's request form offers it ("" when the form does not offer it);
- `phrase`: how a drafted summary says it in a sentence ("" when summaries never say it).

The values themselves are data: each topic's definition file (evidence/topic_definition.py,
docs/topic-definition.md). `vocabulary_for(topic)` is the one way in.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

UNKNOWN = "unknown"
# The reader's "Not sure" on the request form, for a question whose "not reported" is "unknown".
UNSURE = "unsure"


@dataclass(frozen=True)
class Term:
    """One value of a case field and its wordings (see the module docstring)."""

    value: str
    label: str
    answer: str = ""
    phrase: str = ""


def _values(terms: tuple[Term, ...]) -> tuple[str, ...]:
    return tuple(term.value for term in terms)


# The case fields whose values a topic's vocabulary defines, and the Vocabulary list of each
# (the definition file's names: settings, extents, outcomes, assessments, statuses, severities).
CASE_FIELD_TERMS: Mapping[str, str] = MappingProxyType(
    {
        "setting": "settings",
        "lesion_depth": "depths",
        "response": "responses",
        "response_assessment": "assessments",
        "status_at_last_follow_up": "statuses",
        "severity": "severities",  # of an adverse event
    }
)


@dataclass(frozen=True)
class Vocabulary:
    """The values of a topic's case fields, in their display order, with their words."""

    settings: tuple[Term, ...]
    # Least to most extensive: the order the depth (extent) categories are shown and compared in.
    depths: tuple[Term, ...]
    # Depths that count as alike (half a match when a reader's and a case's depth differ).
    depth_groups: Mapping[str, str]
    # Depths where treatment applied to the skin alone is unlikely to be enough.
    extensive_depths: tuple[str, ...]
    responses: tuple[Term, ...]
    # Responses that count as "got better".
    improved_responses: tuple[str, ...]
    assessments: tuple[Term, ...]
    statuses: tuple[Term, ...]
    severities: tuple[Term, ...]
    # Words of a body site mapped to the region they belong to ("nose" -> "face").
    site_regions: Mapping[str, str] = field(default_factory=dict)
    # The kinds of adverse event a case may name (empty: free text).
    adverse_event_kinds: tuple[Term, ...] = ()
    # The topic's own names of the case fields ("setting" -> "Kind of tumour").
    field_labels: Mapping[str, str] = field(default_factory=dict)
    # Statuses at last follow-up that mean the patient died (the swimmer plot's "Died").
    died_statuses: tuple[str, ...] = ()
    # Assessments that confirm the response by biopsy (the research gap "biopsy").
    biopsy_assessments: tuple[str, ...] = ()

    def terms_for(self, field_name: str) -> tuple[Term, ...]:
        """The terms of a topic-defined case field ("setting", ..., "severity")."""
        return tuple(getattr(self, CASE_FIELD_TERMS[field_name]))

    def values_for(self, field_name: str) -> tuple[str, ...]:
        """The values a topic-defined case field may take, in display order."""
        return _values(self.terms_for(field_name))

    def labels_for(self, field_name: str) -> dict[str, str]:
        """value -> the curator's label, for a topic-defined case field."""
        return {term.value: term.label for term in self.terms_for(field_name)}

    def kind_label(self, kind: str) -> str:
        """An adverse event kind in the topic's words (a free-text kind is shown as it is)."""
        return next((t.label for t in self.adverse_event_kinds if t.value == kind), kind)

    def any_response_label(self) -> str:
        """ "Any response (complete or partial)": the outcomes that count as improvement."""
        labels = self.labels_for("response")
        improved = [
            labels.get(value, value).lower().removesuffix(" response")
            for value in self.improved_responses
        ]
        return f"Any response ({' or '.join(improved)})" if improved else "Any response"

    def field_label(self, name: str, default: str) -> str:
        """The topic's name of a case field, or `default`."""
        return self.field_labels.get(name, default)

    def choices(self, terms: tuple[Term, ...]) -> list[tuple[str, str]]:
        """(value, label) pairs for a model field or an admin form."""
        return [(term.value, term.label) for term in terms]

    def values(self, terms: tuple[Term, ...]) -> str:
        """The values, comma-separated (documentation and error messages)."""
        return ", ".join(_values(terms))

    @property
    def setting_values(self) -> tuple[str, ...]:
        return _values(self.settings)

    @property
    def depth_values(self) -> tuple[str, ...]:
        return _values(self.depths)

    @property
    def response_values(self) -> tuple[str, ...]:
        return _values(self.responses)

    @property
    def severity_values(self) -> tuple[str, ...]:
        return _values(self.severities)

    @property
    def reader_setting_values(self) -> tuple[str, ...]:
        """What a reader's setting may be: a case's setting, or "not sure"."""
        return (*self.setting_values, UNSURE)

    def setting_answers(self) -> list[tuple[str, str]]:
        """The request form's choices for the setting, ending with "Not sure"."""
        offered = [(term.value, term.answer) for term in self.settings if term.answer]
        return [*offered, (UNSURE, "Not sure")]

    def depth_answers(self) -> list[tuple[str, str]]:
        """The request form's choices for the depth (its "Not sure" is "unknown")."""
        return [(term.value, term.answer) for term in self.depths if term.answer]

    def setting_phrases(self) -> dict[str, str]:
        """How a summary says each known setting in a sentence."""
        return {term.value: term.phrase for term in self.settings if term.phrase}

    def response_phrases(self) -> tuple[tuple[str, str], ...]:
        """How a summary says each known response, in the order they are listed."""
        return tuple((term.value, term.phrase) for term in self.responses if term.phrase)


def vocabulary_for(topic: object | None) -> Vocabulary:
    """The case vocabulary of `topic`, an evidence Topic: from its stored definition, or the
    neutral default definition's for a topic without one (and for None). Typed loosely so this
    module stays free of Django."""
    from .topic_definition import definition_for

    return definition_for(topic).vocabulary
