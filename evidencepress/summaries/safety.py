"""Which of a topic's safety rules a reader's request meets, and why (issue #15 §2).

Pure: imports nothing from Django, reads no clock. A topic's rules are reviewed data (the
definition's `safety_rules`, versioned and approved by a clinician in evidence.SafetyRuleSet);
each has a condition (`when`), statements the draft must contain, and a flag for the reviewer.
`evaluate` checks every rule against the reader's answers *and* their free text (the question,
the site, other treatments), and returns the rules that fired with the reason each fired.

Conditions (the schema's `$defs.condition`):
- `{"all": [...]}`, `{"any": [...]}`, `{"not": {...}}`;
- `{"answer": KEY, "in": [values]}`: the answer is one of the values (a list answer, such as the
  treatments ticked: any of them);
- `{"answer": KEY, "at_least": N}`: a number answer of at least N;
- `{"answer": KEY, "unknown": true}`: not answered, "Not sure" or "unknown";
- `{"text": [words]}`: a word or phrase in the free text, case-insensitive and whole words; a
  `*` inside a word matches any letters ("pregnan*" finds "pregnancy"); hyphens count as spaces;
- `{"text_size_mm_at_least": N}`: a size written in the free text ("4 cm", "3 x 4 cm", "40mm",
  "2 inches") of at least N millimetres;
- `{"text_age_below": N}`: an age written in the free text ("8 years old", "aged 15", "a
  12-year-old", "6 months old") below N years.

A rule whose condition cannot be read (a wrong shape slipped past the checks) fires, with that
reason: a missed safety statement is worse than an extra one the reviewer removes.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from evidencepress.evidence.topic_definition import Question

# Answers that mean "we do not know".
UNKNOWN_ANSWERS = frozenset({"", "unsure", "unknown", "not sure"})
# The free-text answers and how the reviewer's checklist names them.
TEXT_FIELDS: Mapping[str, str] = {
    "question": "their question",
    "site": "where it is on the body",
    "prior_treatments_other": "other treatments before",
    "current_treatments_other": "other treatments now",
}
SNIPPET = 40  # characters of context either side of a word found in the free text

_NUMBER = r"(\d+(?:[.,]\d+)?)"
_UNIT = r"(mm|millimet(?:re|er)s?|cm|centimet(?:re|er)s?|inch(?:es)?|\")"
_SIZE = re.compile(
    rf"(?<![\w.,]){_NUMBER}(?:\s*(?:x|by|×)\s*{_NUMBER})?\s*{_UNIT}(?!\w)", re.IGNORECASE
)
_AGE = re.compile(
    r"(?<![\w.,])(?:(?:aged?|age of)\s+(\d{1,3})(?!\s*(?:%|mm|cm|kg|weeks?|days?))"
    r"|(\d{1,3})\s*(years?|yrs?|months?|weeks?)[\s-]*old"
    r"|(\d{1,3})\s*(?:yo|y/o|y\.o\.)(?!\w))",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class ReaderAnswers:
    """What a reader told us: their answers by key, and their free text by field.

    Answers are as the request stores them: strings ("nodular", "unsure"), whole numbers, None
    (not given), or tuples of strings (treatments ticked). `surgery_possible` may be a bool.
    """

    answers: Mapping[str, Any]
    texts: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class FiredRule:
    """A rule the reader's request met: what the draft must say, what the reviewer checks, why."""

    id: str
    title: str
    statements: tuple[str, ...]
    flag: str
    reasons: tuple[str, ...]


class _Labels:
    """The questionnaire's words, so reasons read as the reader saw the form."""

    def __init__(self, questions: Sequence[Question]) -> None:
        self.questions = {q.key: q.label for q in questions}
        self.options = {q.key: {o.value: o.label for o in q.options} for q in questions}
        self.questions.setdefault("for_whom", "Who is this summary for?")
        self.options.setdefault("for_whom", {"self": "Myself", "other": "Someone I care for"})

    def question(self, key: str) -> str:
        return self.questions.get(key, key.replace("_", " "))

    def answer(self, key: str, value: Any) -> str:
        if isinstance(value, (tuple, list)):
            return ", ".join(self.answer(key, v) for v in value)
        if isinstance(value, bool):
            return "Yes" if value else "No"
        return str(self.options.get(key, {}).get(str(value), value))


def is_unknown(value: Any) -> bool:
    """True for an answer not given: None, "", "unsure", "unknown", "Not sure", or ()."""
    if value is None:
        return True
    if isinstance(value, bool):
        return False
    if isinstance(value, (tuple, list, frozenset, set)):
        return not value
    return str(value).strip().casefold() in UNKNOWN_ANSWERS


def _as_values(value: Any) -> tuple[str, ...]:
    if isinstance(value, bool):
        return ("yes" if value else "no",)
    if isinstance(value, (tuple, list, frozenset, set)):
        return tuple(str(v) for v in value)
    return (str(value),) if value is not None else ()


def _as_number(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(Decimal(str(value).strip()))
    except ArithmeticError:
        return None
    return number if math.isfinite(number) else None


def normalise(text: str) -> str:
    """Free text as matched: lower case, curly quotes straight, hyphens and dashes as spaces."""
    text = text.lower().replace("\u2019", "'").replace("\u2018", "'")
    text = re.sub(r"[\u201c\u201d\u2033]", '"', text)
    return re.sub(r"[-\u2010-\u2015]", " ", text)


@functools.lru_cache(maxsize=2048)
def word_pattern(words: str) -> re.Pattern[str]:
    """A rule's word or phrase as a regular expression (see the module docstring)."""
    parts = []
    for token in normalise(words).split():
        parts.append("".join(r"\w*" if char == "*" else re.escape(char) for char in token))
    return re.compile(r"(?<!\w)" + r"\s+".join(parts) + r"(?!\w)")


@functools.lru_cache(maxsize=256)
def words_pattern(words: tuple[str, ...]) -> re.Pattern[str]:
    """Any of a rule's words or phrases, as one expression (each as `word_pattern` reads it)."""
    return re.compile("|".join(f"(?:{word_pattern(word).pattern})" for word in words))


def _snippet(text: str, start: int, end: int) -> str:
    left = max(0, start - SNIPPET)
    right = min(len(text), end + SNIPPET)
    inner = " ".join(text[left:right].split())
    return f"{'…' if left else ''}{inner}{'…' if right < len(text) else ''}"


def _millimetres_per(unit: str) -> float:
    if unit.startswith(("cm", "centi")):
        return 10.0
    if unit.startswith("inch") or unit == '"':
        return 25.4
    return 1.0


def sizes_in_text(text: str) -> list[tuple[float, str]]:
    """Sizes written in free text, in millimetres, with the words that gave them."""
    found = []
    for match in _SIZE.finditer(normalise(text)):
        numbers = [float(n.replace(",", ".")) for n in match.group(1, 2) if n]
        size = round(max(numbers) * _millimetres_per(match.group(3)), 1)
        found.append((size, match.group(0).strip()))
    return found


def ages_in_text(text: str) -> list[tuple[float, str]]:
    """Ages written in free text, in years, with the words that gave them."""
    found = []
    for match in _AGE.finditer(normalise(text)):
        if match.group(1):
            found.append((float(match.group(1)), match.group(0).strip()))
        elif match.group(2):
            unit = match.group(3).lower()
            per_year = 12 if unit.startswith("month") else 52 if unit.startswith("week") else 1
            found.append((int(match.group(2)) / per_year, match.group(0).strip()))
        else:
            found.append((float(match.group(4)), match.group(0).strip()))
    return found


class _Evaluator:
    def __init__(self, reader: ReaderAnswers, labels: _Labels) -> None:
        self.answers = reader.answers
        self.texts = {key: text for key, text in reader.texts.items() if text and text.strip()}
        self.normalised = {key: normalise(text) for key, text in self.texts.items()}
        self.labels = labels

    def _where(self, key: str) -> str:
        return TEXT_FIELDS.get(key, key.replace("_", " "))

    def check(self, condition: Mapping[str, Any]) -> list[str] | None:
        """The reasons a condition holds, or None when it does not."""
        if "all" in condition:
            reasons: list[str] = []
            for child in condition["all"]:
                found = self.check(child)
                if found is None:
                    return None
                reasons += found
            return reasons
        if "any" in condition:
            reasons = []
            held = False
            for child in condition["any"]:
                found = self.check(child)
                if found is not None:
                    held = True
                    reasons += found
            return reasons if held else None
        if "not" in condition:
            return None if self.check(condition["not"]) is not None else []
        if "answer" in condition:
            return self._answer(condition)
        if "text" in condition:
            return self._text(condition["text"])
        if "text_size_mm_at_least" in condition:
            return self._measured(condition["text_size_mm_at_least"], sizes_in_text, "a size")
        if "text_age_below" in condition:
            return self._measured(condition["text_age_below"], ages_in_text, "an age")
        raise ValueError(f"a condition this version cannot read: {sorted(condition)}")

    def _answer(self, condition: Mapping[str, Any]) -> list[str] | None:
        key = condition["answer"]
        value = self.answers.get(key)
        question = self.labels.question(key)
        if condition.get("unknown"):
            return [f"Not known: “{question}”"] if is_unknown(value) else None
        if "in" in condition:
            wanted = set(condition["in"])
            hits = [v for v in _as_values(value) if v in wanted]
            if not hits:
                return None
            shown = self.labels.answer(key, tuple(hits) if len(hits) > 1 else hits[0])
            return [f"“{question}”: {shown}"]
        if "at_least" in condition:
            number = _as_number(value)
            limit = condition["at_least"]
            if number is None or number < limit:
                return None
            return [f"“{question}”: {self.labels.answer(key, value)} (at least {limit:g})"]
        raise ValueError(f"an answer condition this version cannot read: {sorted(condition)}")

    def _text(self, words: Iterable[str]) -> list[str] | None:
        pattern = words_pattern(tuple(words))
        reasons = []
        for key, text in self.normalised.items():
            # The reader's own spelling where lower-casing kept every position.
            original = self.texts[key]
            shown = original if len(original) == len(text) else text
            seen: set[str] = set()
            for match in pattern.finditer(text):
                if match.group(0) in seen:  # each word once per field
                    continue
                seen.add(match.group(0))
                reasons.append(
                    f"Free text ({self._where(key)}): "
                    f"“{shown[match.start() : match.end()]}” in "
                    f"“{_snippet(shown, match.start(), match.end())}”"
                )
        return reasons or None

    def _measured(self, limit: float, find: Any, what: str) -> list[str] | None:
        reasons = []
        for key, text in self.texts.items():
            for value, words in find(text):
                meets = value >= limit if what == "a size" else value < limit
                if meets:
                    unit = "mm" if what == "a size" else "years"
                    reasons.append(
                        f"Free text ({self._where(key)}) gives {what}: “{words}” ({value:g} {unit})"
                    )
        return reasons or None


def evaluate(
    rules: Iterable[Mapping[str, Any]],
    reader: ReaderAnswers,
    questions: Sequence[Question] = (),
) -> tuple[FiredRule, ...]:
    """The rules the reader's request meets, in the rules' order, each with why it fired."""
    evaluator = _Evaluator(reader, _Labels(questions))
    fired = []
    for rule in rules:
        try:
            reasons = evaluator.check(rule["when"])
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            reasons = [f"The rule's condition could not be read ({error}); shown to be safe."]
        if reasons is None:
            continue
        fired.append(
            FiredRule(
                id=str(rule["id"]),
                title=str(rule["title"]),
                statements=tuple(str(s) for s in rule["statements"]),
                flag=str(rule["flag"]),
                reasons=tuple(dict.fromkeys(reasons)) or ("Its condition holds.",),
            )
        )
    return tuple(fired)


def reader_answers(stored: Mapping[str, Any]) -> ReaderAnswers:
    """A stored request's answers (SummaryRequest.situation) as the evaluator reads them."""
    answers = {
        key: tuple(value) if isinstance(value, list) else value
        for key, value in stored.items()
        if key not in TEXT_FIELDS or key == "site"
    }
    texts = {key: str(stored.get(key) or "") for key in TEXT_FIELDS}
    return ReaderAnswers(answers=answers, texts=texts)


def _collapse(text: str) -> str:
    return " ".join(normalise(text).split())


def missing_statements(fired: Iterable[FiredRule], text: str) -> dict[str, tuple[str, ...]]:
    """Each fired rule's statements that `text` (a draft) does not contain, by rule id.

    Compared without regard to case, line breaks, spacing or curly quotes, so rewrapping a
    paragraph or turning it into a list item keeps it; rewording it does not.
    """
    body = _collapse(text)
    missing = {}
    for rule in fired:
        gone = tuple(s for s in rule.statements if _collapse(s) not in body)
        if gone:
            missing[rule.id] = gone
    return missing


# --- in a draft ---------------------------------------------------------------------------------

HEADING = "Important for this situation"


def draft_blocks(fired: Sequence[FiredRule], quote: Callable[[str, str], str]) -> tuple[str, ...]:
    """The paragraphs of a draft's safety section: every fired rule's statements, word for word.

    `quote` is the draft writer's (drafting._Writer.quote), so any number in a statement is
    recorded with its source like every other number in a draft.
    """
    return tuple(
        quote(statement, f"safety rule {rule.id}")
        for rule in fired
        for statement in rule.statements
    )


def answers_from_situation(situation: Any, **texts: str) -> ReaderAnswers:
    """A matching.Situation as the evaluator reads it (plus any free text it does not carry)."""
    answers = {
        "setting": situation.setting,
        "site": situation.site,
        "lesion_size_mm": situation.lesion_size_mm,
        "lesion_count": situation.lesion_count,
        "lesion_depth": situation.lesion_depth,
        "surgery_possible": situation.surgery_possible,
        "prior_treatments": tuple(situation.prior_treatments),
        "current_treatments": tuple(situation.current_treatments),
        "for_whom": getattr(situation, "for_whom", "self"),
        "detail": situation.detail,
    }
    return ReaderAnswers(
        answers=answers, texts={"question": situation.question, "site": situation.site, **texts}
    )
