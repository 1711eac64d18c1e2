"""The topic's phrases in a draft: its wording and glossary, in the voice the reader asked for.

Pure: imports nothing from Django. Every condition- or treatment-specific word of a draft comes
from the topic's definition (`evidence.topic_definition`): `wording` (nouns, phrases, lists and
questions by key), `glossary`, `matching.feature_names`/`matched_labels`, the vocabulary's
phrases and `certainty_wording`. This module holds only neutral defaults for a topic that does
not define a key, and the two voices:

- "self": the reader is the patient ("cases like yours", "Could surgery be an option for me?");
- "other": the reader cares for the patient ("cases like theirs", "... an option for them?").

Wording values may use placeholders, filled here: {drug}, {condition_name}, {treatment_form}
and the voice's {you} (subject), {you_obj} (object), {your} {yours} {You} {Your} (statements
about the patient) and {I} {me} {my} (questions the reader takes to the care team). A list
(e.g. `urgent_signs`) is one string with one item per line. docs/drafting.md lists every key.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from evidencepress.evidence.topic_definition import GlossaryTerm, TopicDefinition

from .draft_text import lower_first

VOICES: Mapping[str, Mapping[str, str]] = {
    "self": {
        "you": "you",
        "you_obj": "you",
        "You": "You",
        "your": "your",
        "Your": "Your",
        "yours": "yours",
        "I": "I",
        "me": "me",
        "my": "my",
    },
    "other": {
        "you": "they",
        "you_obj": "them",
        "You": "They",
        "your": "their",
        "Your": "Their",
        "yours": "theirs",
        "I": "they",
        "me": "them",
        "my": "their",
    },
}

# Used when a topic's `wording` lacks the key: neutral words, true of any topic.
DEFAULT_WORDING: Mapping[str, str] = {
    "treatment_form": "the treatment",
    "beyond_reach": "This treatment alone is unlikely to be enough.",
    "beyond_reach_said": "You said {your} disease reaches further than {drug} can.",
    "beyond_reach_heading": "Disease beyond what the treatment reaches",
    "beyond_reach_group": "disease of this extent",
    "beyond_reach_why": "",
    "beyond_reach_question": "What treatment would reach disease of this extent?",
    "urgent_signs": (
        "{you} feel very unwell, or get a fever or chills;\n"
        "a rash or blisters appear, or {your} mouth or eyes become sore;\n"
        "something new or worrying happens that {your} care team did not expect."
    ),
    "gap_question.dose_frequency": "What dose and schedule would you plan for {me}, and why?",
    "gap_question.duration": "How long would {I} use it, and how will we know when to stop?",
    "gap_question.combination": "Should it be combined with other treatment, and in what order?",
    "gap_question.biomarkers": "Is there a test that shows if it is likely to work for {me}?",
    "gap_question.long_term": "How will we check that it has not come back, and for how long?",
}

_PLACEHOLDER = re.compile(r"\{(\w+)\}")


@dataclass(frozen=True)
class Phrases:
    """A topic's words for one draft: wording by key, filled in the reader's voice."""

    definition: TopicDefinition
    for_whom: str = "self"

    @property
    def voice(self) -> Mapping[str, str]:
        return VOICES[self.for_whom]

    @property
    def caregiver(self) -> bool:
        return self.for_whom == "other"

    @property
    def drug(self) -> str:
        """The treatment's name in a sentence (the topic's `treatment_name`)."""
        return self.definition.word("treatment_name") or lower_first(self.definition.treatment)

    @property
    def condition_in_sentence(self) -> str:
        """The topic's condition in a sentence: `condition_in_sentence`, else its name with a
        small first letter ("Lichen planus" -> "lichen planus"); a topic whose
        condition starts with a proper noun sets the wording key."""
        return self.definition.word("condition_in_sentence") or lower_first(
            self.definition.condition
        )

    @property
    def condition_name(self) -> str:
        return self.definition.word("condition_name") or lower_first(self.definition.condition)

    def fill(self, template: str) -> str:
        """`template` with its placeholders filled; unknown placeholders are left as written."""
        values = {
            **self.voice,
            "drug": self.drug,
            "condition_name": self.condition_name,
            "treatment_form": self.word("treatment_form", fill=False),
        }
        return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), template)

    def word(self, key: str, *, fill: bool = True) -> str:
        """The topic's wording for `key` (or the neutral default; "" when neither has it)."""
        text = self.definition.word(key) or DEFAULT_WORDING.get(key, "")
        return self.fill(text) if fill else text

    def items(self, key: str) -> tuple[str, ...]:
        """A list wording: one item per line."""
        return tuple(line.strip() for line in self.word(key).splitlines() if line.strip())

    def v(self, key: str) -> str:
        """One word of the voice ("yours" -> "yours" or "theirs")."""
        return self.voice[key]

    def feature_name(self, feature: str) -> str:
        return self.definition.matching.feature_names.get(feature, feature.replace("_", " "))

    def matched_label(self, feature: str) -> str:
        labels = self.definition.matching.matched_labels
        return labels.get(feature) or f"Same {self.feature_name(feature)}"

    def setting_phrase(self, value: str) -> str:
        return self.definition.vocabulary.setting_phrases().get(value, "")

    def certainty_wording(self, level: str) -> str:
        return self.fill(self.definition.certainty_wording.get(level, ""))


def glossary_term_used(term: GlossaryTerm, text: str) -> bool:
    lowered = text.lower()
    return any(
        re.search(rf"(?<![a-z]){re.escape(form.lower())}(?![a-z])", lowered)
        for form in (term.term, *term.forms)
    )


def terms_used(text: str, glossary: tuple[GlossaryTerm, ...]) -> tuple[GlossaryTerm, ...]:
    """The topic's glossary terms that appear in `text`, in the glossary's order."""
    return tuple(term for term in glossary if glossary_term_used(term, text))


# --- the reader's own question --------------------------------------------------------------

# What a reader may ask, and how a question says it (case-insensitive). A question may ask
# several things; those the reports cannot answer become a question for the care team.
QUESTION_KINDS: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "instead",
        re.compile(
            r"\b(instead|replace|replacing|rather than|avoid|skip|spare|no more|"
            r"do without|stop (?:having|my|the))\b",
            re.IGNORECASE,
        ),
    ),
    (
        "works",
        re.compile(
            r"\b(work|works|working|help|helps|cure|cured|effective|shrink|clear|clears|"
            r"get rid|go away|chance|success|successful|enough|benefit|better)\b",
            re.IGNORECASE,
        ),
    ),
    (
        "time",
        re.compile(
            r"\b(how long (?:does|did|will|until|before)|how soon|how quickly|when will|"
            r"how many weeks|how fast)\b",
            re.IGNORECASE,
        ),
    ),
    (
        "side_effects",
        re.compile(
            r"\b(safe(?:ty)?|side[- ]effects?|risks?|harm|hurt|sore|pain|painful|rash|"
            r"reaction|itch|itchy|burn|burning)\b",
            re.IGNORECASE,
        ),
    ),
    (
        "together",
        re.compile(
            r"\b(together|at the same time|combine|combined|alongside|as well as|add|"
            r"adding|while (?:i|she|he|they|we) (?:am|is|are|have|has))\b",
            re.IGNORECASE,
        ),
    ),
)


def question_kinds(question: str) -> tuple[str, ...]:
    """What the question asks, in the order of QUESTION_KINDS ("instead", "works", ...)."""
    return tuple(kind for kind, pattern in QUESTION_KINDS if pattern.search(question))
