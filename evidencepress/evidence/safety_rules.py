"""Checks of a topic's safety rules as data (issue #15 §2), beyond what the JSON Schema says.

Pure: imports nothing from Django, so `topic_definition` checks a definition file's rules with
it and the SafetyRuleSet model checks an edited version with it. The schema gives a rule's shape
(`$defs.safety_rule`); this module checks what the schema cannot: ids used twice, a choice
answer compared with a value its question does not offer, a word pattern that is all wildcard,
and statements that give a dose (a draft never advises one; see summaries.safety).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from jsonschema import Draft202012Validator

Path = tuple[str | int, ...]

# Values every choice answer may take besides its options: not answered, or "Not sure".
NOT_KNOWN = ("unsure", "unknown")
# The request form's own questions (not in a topic's questionnaire) and their choices.
FORM_CHOICES: Mapping[str, tuple[str, ...]] = {
    "for_whom": ("self", "other"),
    "detail": ("short", "detailed"),
    "surgery_possible": ("yes", "no", *NOT_KNOWN),
}
# A number with a unit of dose or a schedule: a rule's statement must never give one.
DOSE = re.compile(
    r"\d+(?:[.,]\d+)?\s*(?:%|per ?cent|mg|milligrams?|g\b|grams?|sachets?|times?\b|x\b|"
    r"(?:a|per) (?:day|week|night))",
    re.IGNORECASE,
)


Condition = Mapping[str, Any]


def _conditions(condition: Condition, path: Path) -> Iterator[tuple[Path, Condition]]:
    """Every condition in a tree, with its key path."""
    yield path, condition
    for key in ("all", "any"):
        for index, child in enumerate(condition.get(key, ())):
            yield from _conditions(child, (*path, key, index))
    if "not" in condition:
        yield from _conditions(condition["not"], (*path, "not"))


def _choice_values(questionnaire: Sequence[Mapping[str, Any]]) -> dict[str, tuple[str, ...]]:
    values = dict(FORM_CHOICES)
    for question in questionnaire:
        if question.get("kind") == "choice":
            options = tuple(o["value"] for o in question.get("options", ()))
            values[question["key"]] = (*options, *NOT_KNOWN)
    return values


def rule_problems(
    rules: Sequence[Mapping[str, Any]],
    questionnaire: Sequence[Mapping[str, Any]] = (),
    *,
    base: Path = ("safety_rules",),
) -> list[tuple[Path, str]]:
    """What is wrong with schema-valid rules, as (key path, message) pairs; [] when nothing."""
    found: list[tuple[Path, str]] = []
    choices = _choice_values(questionnaire)
    seen: set[str] = set()
    for index, rule in enumerate(rules):
        here = (*base, index)
        if rule["id"] in seen:
            found.append(((*here, "id"), f"{rule['id']!r} is used by another rule"))
        seen.add(rule["id"])
        for s_index, statement in enumerate(rule["statements"]):
            if DOSE.search(statement):
                found.append(
                    ((*here, "statements", s_index), "a statement must not give a dose or schedule")
                )
        for path, condition in _conditions(rule["when"], (*here, "when")):
            if "in" in condition and condition["answer"] in choices:
                allowed = choices[condition["answer"]]
                for v_index, value in enumerate(condition["in"]):
                    if value not in allowed:
                        found.append(
                            (
                                (*path, "in", v_index),
                                f"{value!r} is not an answer to {condition['answer']} "
                                f"(one of: {', '.join(allowed)})",
                            )
                        )
            for w_index, word in enumerate(condition.get("text", ())):
                if not re.search(r"\w", word):
                    found.append(((*path, "text", w_index), f"{word!r} has no letters"))
    return found


def _dotted(path: Path) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def check_rules(
    rules: Any, questionnaire: Sequence[Mapping[str, Any]] = (), *, source: str = "rules"
) -> list[str]:
    """Problems of a rule list on its own (an edited version): schema and `rule_problems`.

    Each problem reads "source: key.path: message"; [] when the rules can be used.
    """
    from .topic_definition import schema

    if not isinstance(rules, list):
        return [f"{source}: the rules must be a list (JSON array) of rules"]
    definitions = schema()["$defs"]
    rule_schema = {"$defs": definitions, "type": "array", "items": {"$ref": "#/$defs/safety_rule"}}
    validator = Draft202012Validator(rule_schema)
    problems = [
        f"{source}: {_dotted(('safety_rules', *error.path))}: {error.message}"
        for error in sorted(validator.iter_errors(rules), key=lambda e: list(map(str, e.path)))
    ]
    if problems:
        return problems
    found = rule_problems(rules, questionnaire)
    return [f"{source}: {_dotted(path)}: {message}" for path, message in found]


def same_rules(left: Any, right: Any) -> bool:
    """True when two rule lists are the same data (key order does not count)."""
    return json.dumps(left, sort_keys=True) == json.dumps(right, sort_keys=True)
