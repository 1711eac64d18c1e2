"""A topic's definition as data: its vocabulary, reader questionnaire, wording, glossary and rules.

Pure: imports nothing from Django, so the pure modules (synthesis, matching, drafting) read a
definition as well as the models, the importers and the commands do.

A definition file is JSON or YAML (JSON is read as YAML, so both give line numbers) and is
checked against `topic_definition.schema.json`, the published JSON Schema, before anything reads
it. Errors name the key path and the line. `parse_definition` turns checked data into a
`TopicDefinition`; `definition_data` gives back the data (load -> export -> load changes nothing).

Ownership of the sections (issue #16 §1, #15 §2):
- `vocabulary`: the values a case's topic-defined fields take, and the words for them;
- `questionnaire`: the reader request form's topic-specific questions;
- `matching`: how reported cases are compared with a reader's situation;
- `wording`: the nouns and phrases pages and drafts use for this topic;
- `glossary`: medical words explained in plain words when a draft uses them;
- `safety_rules`: what a draft must say for a reader's situation (active only once a clinician
  approves the version; see evidence.models.SafetyRuleSet);
- `certainty_wording`: the plain-language wording of each certainty level.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml
from jsonschema import Draft202012Validator

from .safety_rules import rule_problems
from .vocabulary import UNKNOWN, Term, Vocabulary

SCHEMA_PATH = Path(__file__).with_name("topic_definition.schema.json")
FORMAT_VERSION = 1


# Definitions written before `died` and `biopsy_confirmed` existed (the legacy definition that
# migration evidence/0010 stored) meant these values; a definition that names its own wins.
_LEGACY_DIED = ("dod", "doc")
_LEGACY_BIOPSY = ("histological", "clinical_histological")


def _listed_or_legacy(
    vocab: dict[str, Any], key: str, legacy: tuple[str, ...], values: list[str]
) -> tuple[str, ...]:
    """The vocabulary's own list `key`, or (absent) the legacy values it defines."""
    if key in vocab:
        return tuple(vocab[key])
    return tuple(value for value in legacy if value in values)


class TopicDefinitionError(ValueError):
    """A definition that cannot be used; `problems` lists each as "source:line: key: message"."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source = source
        self.problems = problems
        super().__init__("\n".join(problems))


@functools.cache
def schema() -> dict[str, Any]:
    """The published JSON Schema of a topic definition."""
    loaded: dict[str, Any] = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return loaded


# --- the parts of a definition ------------------------------------------------------------------


@dataclass(frozen=True)
class Option:
    """One answer a reader may choose, and the case value it stands for ("" for none)."""

    value: str
    label: str


@dataclass(frozen=True)
class Question:
    """One question of the reader's request form.

    `key` names the situation field the answer fills (e.g. "setting", "lesion_depth", "site").
    `kind` is one of "choice", "text", "number", "yes_no", "treatments". `case_field` is the
    reported case's field the answer is compared with ("" when none).
    """

    key: str
    kind: str
    label: str
    help_text: str = ""
    case_field: str = ""
    options: tuple[Option, ...] = ()
    required: bool = False


@dataclass(frozen=True)
class GlossaryTerm:
    term: str
    meaning: str
    # Other spellings or forms that also count as using the term (lower case).
    forms: tuple[str, ...] = ()


@dataclass(frozen=True)
class Matching:
    """How cases are compared with a reader's situation."""

    weights: Mapping[str, float]
    # Plain names of the features, for "what matched" ("the kind of tumour").
    feature_names: Mapping[str, str]
    # Short labels of a matched feature in a case list ("Same kind of tumour").
    matched_labels: Mapping[str, str]
    # Upper limits in millimetres of the size bands, smallest first; above the last is "large".
    size_bands: tuple[tuple[int, str], ...]
    similar_score: float


@dataclass(frozen=True)
class TopicDefinition:
    """Everything about one topic that is data rather than code."""

    slug: str
    name: str
    kind: str  # "treatment_condition" or "safety"
    treatment: str
    condition: str
    description: str
    vocabulary: Vocabulary
    questionnaire: tuple[Question, ...]
    matching: Matching
    # Nouns and phrases by key ("condition_kind": "the kind of tumour", ...).
    wording: Mapping[str, str]
    glossary: tuple[GlossaryTerm, ...]
    # Safety rules as data; their shape is the schema's `safety_rule` (see summaries.safety).
    safety_rules: tuple[Mapping[str, Any], ...]
    certainty_wording: Mapping[str, str]
    # Words of the treatment in prose (the drug's name, "the cream"), for the claim audit.
    treatment_words: tuple[str, ...] = ()
    data: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def word(self, key: str, default: str = "") -> str:
        """A wording entry, or `default` when the topic does not define it."""
        return self.wording.get(key, default)

    def question(self, key: str) -> Question | None:
        return next((q for q in self.questionnaire if q.key == key), None)


# --- reading ------------------------------------------------------------------------------------


def _line_index(text: str) -> dict[tuple[str | int, ...], int]:
    """The 1-based line of every key path in a YAML/JSON text."""
    lines: dict[tuple[str | int, ...], int] = {}

    def walk(node: yaml.Node, path: tuple[str | int, ...]) -> None:
        lines[path] = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                key = key_node.value
                lines[(*path, key)] = key_node.start_mark.line + 1
                walk(value_node, (*path, key))
                lines[(*path, key)] = key_node.start_mark.line + 1
        elif isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                walk(item, (*path, index))

    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return lines
    if root is not None:
        walk(root, ())
    return lines


def _where(lines: Mapping[tuple[str | int, ...], int], path: tuple[str | int, ...]) -> int:
    while path and path not in lines:
        path = path[:-1]
    return lines.get(path, 1)


def _dotted(path: tuple[str | int, ...]) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def read_definition(text: str, *, source: str = "<definition>") -> TopicDefinition:
    """Parse and check a definition file's text (JSON or YAML); raise TopicDefinitionError."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        raise TopicDefinitionError(source, [f"{source}:{line}: not valid JSON or YAML"]) from None
    return parse_definition(data, source=source, lines=_line_index(text))


def parse_definition(
    data: Any,
    *,
    source: str = "<definition>",
    lines: Mapping[tuple[str | int, ...], int] | None = None,
) -> TopicDefinition:
    """Check `data` against the schema and its own cross-references; build the definition."""
    lines = lines or {}
    problems = []
    validator = Draft202012Validator(schema())
    for error in sorted(validator.iter_errors(data), key=lambda e: list(map(str, e.path))):
        path = tuple(error.path)
        problems.append(f"{source}:{_where(lines, path)}: {_dotted(path)}: {error.message}")
    if problems:
        raise TopicDefinitionError(source, problems)
    for path, message in _cross_check(data):
        problems.append(f"{source}:{_where(lines, path)}: {_dotted(path)}: {message}")
    if problems:
        raise TopicDefinitionError(source, problems)
    return _build(data)


def _terms(items: list[dict[str, Any]]) -> tuple[Term, ...]:
    return tuple(
        Term(i["value"], i["label"], answer=i.get("answer", ""), phrase=i.get("phrase", ""))
        for i in items
    )


def _cross_check(data: dict[str, Any]) -> list[tuple[tuple[str | int, ...], str]]:
    """What the schema cannot say: values that must name other values of the same file."""
    found: list[tuple[tuple[str | int, ...], str]] = []
    vocab = data["vocabulary"]
    for name in (
        "settings",
        "extents",
        "outcomes",
        "assessments",
        "statuses",
        "severities",
        "adverse_event_kinds",
    ):
        values = [t["value"] for t in vocab.get(name, [])]
        for index, value in enumerate(values):
            if values.index(value) != index:
                found.append((("vocabulary", name, index, "value"), f"{value!r} is listed twice"))
        if name != "adverse_event_kinds" and UNKNOWN not in values:
            found.append((("vocabulary", name), f'must include the value "{UNKNOWN}"'))
    extents = [t["value"] for t in vocab["extents"]]
    outcomes = [t["value"] for t in vocab["outcomes"]]
    for index, value in enumerate(vocab.get("beyond_reach", [])):
        if value not in extents:
            found.append((("vocabulary", "beyond_reach", index), f"{value!r} is not an extent"))
    for value, _group in vocab.get("extent_groups", {}).items():
        if value not in extents:
            found.append((("vocabulary", "extent_groups", value), f"{value!r} is not an extent"))
    for key, list_name in (("died", "statuses"), ("biopsy_confirmed", "assessments")):
        listed = [t["value"] for t in vocab[list_name]]
        for index, value in enumerate(vocab.get(key, [])):
            if value not in listed:
                found.append((("vocabulary", key, index), f"{value!r} is not one of {list_name}"))
    for index, value in enumerate(vocab.get("improved", [])):
        if value not in outcomes:
            found.append((("vocabulary", "improved", index), f"{value!r} is not an outcome"))
    for q_index, question in enumerate(data.get("questionnaire", [])):
        field_name = question.get("case_field", "")
        allowed = {
            "setting": [t["value"] for t in vocab["settings"]],
            "lesion_depth": extents,
        }.get(field_name)
        if allowed is None:
            continue
        for o_index, option in enumerate(question.get("options", [])):
            if option["value"] not in (*allowed, "unsure"):
                found.append(
                    (
                        ("questionnaire", q_index, "options", o_index, "value"),
                        f"{option['value']!r} is not a value of {field_name}",
                    )
                )
    found.extend(rule_problems(data.get("safety_rules", []), data.get("questionnaire", [])))
    return found


def _build(data: dict[str, Any]) -> TopicDefinition:
    vocab = data["vocabulary"]
    statuses = [t["value"] for t in vocab["statuses"]]
    assessments = [t["value"] for t in vocab["assessments"]]
    vocabulary = Vocabulary(
        settings=_terms(vocab["settings"]),
        depths=_terms(vocab["extents"]),
        depth_groups=MappingProxyType(dict(vocab.get("extent_groups", {}))),
        extensive_depths=tuple(vocab.get("beyond_reach", ())),
        responses=_terms(vocab["outcomes"]),
        improved_responses=tuple(vocab.get("improved", ())),
        assessments=_terms(vocab["assessments"]),
        statuses=_terms(vocab["statuses"]),
        severities=_terms(vocab["severities"]),
        site_regions=MappingProxyType(dict(vocab.get("site_regions", {}))),
        adverse_event_kinds=_terms(vocab.get("adverse_event_kinds", [])),
        field_labels=MappingProxyType(dict(vocab.get("field_labels", {}))),
        died_statuses=_listed_or_legacy(vocab, "died", _LEGACY_DIED, statuses),
        biopsy_assessments=_listed_or_legacy(
            vocab, "biopsy_confirmed", _LEGACY_BIOPSY, assessments
        ),
    )
    match = data["matching"]
    matching = Matching(
        weights=MappingProxyType({k: float(v) for k, v in match["weights"].items()}),
        feature_names=MappingProxyType(dict(match["feature_names"])),
        matched_labels=MappingProxyType(dict(match["matched_labels"])),
        size_bands=tuple((int(b["up_to_mm"]), b["name"]) for b in match["size_bands"]),
        similar_score=float(match["similar_score"]),
    )
    questionnaire = tuple(
        Question(
            key=q["key"],
            kind=q["kind"],
            label=q["label"],
            help_text=q.get("help_text", ""),
            case_field=q.get("case_field", ""),
            options=tuple(Option(o["value"], o["label"]) for o in q.get("options", [])),
            required=q.get("required", False),
        )
        for q in data["questionnaire"]
    )
    glossary = tuple(
        GlossaryTerm(g["term"], g["meaning"], tuple(g.get("forms", ())))
        for g in data.get("glossary", [])
    )
    return TopicDefinition(
        slug=data["slug"],
        name=data["name"],
        kind=data["kind"],
        treatment=data["treatment"],
        condition=data["condition"],
        description=data.get("description", ""),
        vocabulary=vocabulary,
        questionnaire=questionnaire,
        matching=matching,
        wording=MappingProxyType(dict(data.get("wording", {}))),
        glossary=glossary,
        safety_rules=tuple(MappingProxyType(r) for r in data.get("safety_rules", [])),
        certainty_wording=MappingProxyType(dict(data.get("certainty_wording", {}))),
        treatment_words=tuple(data.get("treatment_words", ())),
        data=MappingProxyType(data),
    )


def definition_data(definition: TopicDefinition) -> dict[str, Any]:
    """The definition as plain data, as it was read (for export and storage)."""
    copied: dict[str, Any] = json.loads(json.dumps(dict(definition.data), default=dict))
    return copied


def dump_definition(definition: TopicDefinition) -> str:
    """The definition as a JSON file's text (stable: sorted as written, two-space indent)."""
    return json.dumps(definition_data(definition), indent=2, ensure_ascii=False) + "\n"


@functools.lru_cache(maxsize=64)
def _parse_cached(text: str) -> TopicDefinition:
    return parse_definition(json.loads(text), source="stored definition")


def definition_from_stored(data: Mapping[str, Any]) -> TopicDefinition:
    """A definition from data already checked when it was stored (cached by content)."""
    return _parse_cached(json.dumps(data, sort_keys=True))


DEFAULT_PATH = Path(__file__).with_name("default_topic.json")


@functools.cache
def default_definition() -> TopicDefinition:
    """The neutral definition of a topic that has none of its own yet (no condition's words)."""
    return read_definition(DEFAULT_PATH.read_text(encoding="utf-8"), source=str(DEFAULT_PATH))


def definition_for(topic: object | None) -> TopicDefinition:
    """The definition of `topic`, an evidence Topic: its stored definition, or the default.

    Typed loosely so that this module stays free of Django. A topic stores its checked
    definition data in `topic.definition` (evidence.models.Topic).
    """
    stored = getattr(topic, "definition", None)
    if isinstance(stored, Mapping) and stored:
        return definition_from_stored(stored)
    return default_definition()


# For callers that find problems after parsing (evidence.topics: orphaned case values) and
# report them the same way: "file:line: key.path: message".
key_lines = _line_index
line_of = _where
dotted_path = _dotted
