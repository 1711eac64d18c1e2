"""Topic definitions in the database: apply one (all-or-nothing, versioned), export one.

`apply_definition` is the one way a definition reaches `Topic.definition`: the `load_topic`
command, the admin's definition editor and the demo loader all call it. It

- creates the topic or brings its name, treatment, condition and description in line;
- refuses a vocabulary that would leave stored case values without a definition (the error lists
  the cases), unless the file's `value_map` renames the old values to new ones, in which case
  the cases are rewritten in the same transaction;
- records a `TopicVersion` and sends `evidence.signals.topic_definition_applied` when the stored
  definition changed, and does nothing more when it is applied again unchanged.

`value_map` is used while loading and never stored.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.db.models import Max

from .exceptions import DefinitionRejected, KeyPath
from .history import recorded_reason
from .models import AdverseEvent, ReportedPatient, Topic, TopicVersion
from .signals import topic_definition_applied
from .topic_definition import (
    TopicDefinition,
    TopicDefinitionError,
    default_definition,
    definition_data,
    key_lines,
    read_definition,
    schema,
)

# The vocabulary lists that case fields take their values from: (list, model, field).
VOCABULARY_FIELDS: tuple[tuple[str, type[Any], str], ...] = (
    ("settings", ReportedPatient, "setting"),
    ("extents", ReportedPatient, "lesion_depth"),
    ("outcomes", ReportedPatient, "response"),
    ("assessments", ReportedPatient, "response_assessment"),
    ("statuses", ReportedPatient, "status_at_last_follow_up"),
    ("severities", AdverseEvent, "severity"),
)
# Topic columns that repeat the definition's own keys (kept in line by apply_definition).
TOPIC_COLUMNS = ("name", "treatment", "condition", "description")
# The note of the version the migration stored for every topic that existed before definitions
# (evidence/migrations/0010_store_legacy_definitions.py says the same; a test checks).
LEGACY_NOTE = "The vocabulary every topic used before topics were defined as data (migration)."
_LISTED_CASES = 20  # an orphan error names at most this many cases, then counts the rest


def _stored(definition: TopicDefinition) -> tuple[dict[str, Any], dict[str, dict[str, str]]]:
    """The data to store (without value_map) and the value_map."""
    data = definition_data(definition)
    value_map = data.pop("value_map", None) or {}
    return data, value_map


def _values(data: Mapping[str, Any], name: str) -> set[str]:
    return {term["value"] for term in data["vocabulary"].get(name, [])}


def _map_problems(
    data: Mapping[str, Any], value_map: Mapping[str, Mapping[str, str]]
) -> list[tuple[KeyPath, str]]:
    problems: list[tuple[KeyPath, str]] = []
    for name, renames in value_map.items():
        defined = _values(data, name)
        for old, new in renames.items():
            if new not in defined:
                problems.append(
                    (("value_map", name, old), f"{new!r} is not a value of vocabulary.{name}")
                )
    return problems


def _case_name(patient: ReportedPatient) -> str:
    return f"{patient.label!r} (case #{patient.pk}, publication #{patient.publication_id})"


def _orphans(
    topic: Topic, data: Mapping[str, Any], value_map: Mapping[str, Mapping[str, str]]
) -> list[tuple[KeyPath, str]]:
    """Stored case values the new vocabulary lacks (after value_map), with the cases named."""
    problems: list[tuple[KeyPath, str]] = []
    for name, model, field in VOCABULARY_FIELDS:
        allowed = _values(data, name) | set(value_map.get(name, {}))
        rows = model.objects.filter(**_topic_filter(model, topic)).exclude(
            **{f"{field}__in": allowed}
        )
        by_value: dict[str, list[ReportedPatient]] = {}
        if model is AdverseEvent:
            for event in rows.select_related("patient").order_by("patient_id", "pk"):
                by_value.setdefault(event.severity, []).append(event.patient)
        else:
            for patient in rows.order_by("publication_id", "label", "pk"):
                by_value.setdefault(getattr(patient, field), []).append(patient)
        for value, patients in sorted(by_value.items()):
            unique = list({p.pk: p for p in patients}.values())
            named = ", ".join(_case_name(p) for p in unique[:_LISTED_CASES])
            more = len(unique) - _LISTED_CASES
            what = "adverse events of " if model is AdverseEvent else ""
            problems.append(
                (
                    ("vocabulary", name),
                    f"{field} {value!r} is stored for {what}{len(unique)} case(s) but is not "
                    f"defined here; add it back, or map it to a new value in value_map.{name}: "
                    f"{named}" + (f" and {more} more" if more > 0 else ""),
                )
            )
    return problems


def _topic_filter(model: type[Any], topic: Topic) -> dict[str, Any]:
    return {"patient__topic": topic} if model is AdverseEvent else {"topic": topic}


def _rewrite_cases(topic: Topic, value_map: Mapping[str, Mapping[str, str]]) -> int:
    """Rename case values as value_map says, one save per row (so history records each)."""
    rewritten = 0
    with recorded_reason(f"Topic definition applied with value_map ({topic.slug})"):
        for name, model, field in VOCABULARY_FIELDS:
            renames = {old: new for old, new in value_map.get(name, {}).items() if old != new}
            if not renames:
                continue
            rows = model.objects.filter(
                **_topic_filter(model, topic), **{f"{field}__in": list(renames)}
            ).order_by("pk")
            for row in rows:
                setattr(row, field, renames[getattr(row, field)])
                row.save(
                    update_fields=[field, *(["updated_at"] if model is ReportedPatient else [])]
                )
                rewritten += 1
    return rewritten


@transaction.atomic
def apply_definition(
    *, definition: TopicDefinition, user: Any = None, note: str = ""
) -> tuple[Topic, TopicVersion | None]:
    """Store a checked definition for its topic (by slug), creating the topic if needed.

    All-or-nothing: raises `DefinitionRejected` (nothing written) when the vocabulary would
    orphan stored case values not renamed by the definition's value_map, when value_map names a
    value the vocabulary does not define, or when another topic has the name. Returns the topic
    and the new version, or None as the version when the stored definition was already equal
    (idempotent: no version, no signal).
    """
    data, value_map = _stored(definition)
    source = f"topic {definition.slug!r}"
    topic = Topic.objects.select_for_update().filter(slug=definition.slug).first()
    problems = _map_problems(data, value_map)
    if topic is not None and not problems:
        problems += _orphans(topic, data, value_map)
    if Topic.objects.filter(name=data["name"]).exclude(slug=definition.slug).exists():
        problems.append((("name",), f"another topic is already called {data['name']!r}"))
    if problems:
        raise DefinitionRejected(source, problems)

    columns = {name: data.get(name, "") for name in TOPIC_COLUMNS}
    if topic is None:
        topic = Topic(slug=definition.slug, **columns)
    unchanged = topic.pk is not None and topic.definition == data
    if unchanged and all(getattr(topic, k) == v for k, v in columns.items()):
        return topic, None
    if topic.pk is not None:
        _rewrite_cases(topic, value_map)
    for name, value in columns.items():
        setattr(topic, name, value)
    topic.definition = data
    topic.full_clean()
    topic.save()
    if unchanged:
        return topic, None
    last = topic.versions.aggregate(last=Max("number"))["last"] or 0
    version = TopicVersion.objects.create(
        topic=topic, number=last + 1, data=data, created_by=user, note=note[:300]
    )
    topic_definition_applied.send(sender=Topic, topic=topic, version=version, definition=definition)
    return topic, version


def load_definition_text(
    text: str,
    *,
    source: str,
    user: Any = None,
    note: str = "",
    expected_slug: str | None = None,
) -> tuple[Topic, TopicVersion | None]:
    """Read a definition file's text (JSON or YAML) and apply it; every error names the source,
    the line and the key (TopicDefinitionError, or DefinitionRejected for stored data).
    With `expected_slug` (the admin's editor of one topic), a file of another topic is refused."""
    definition = read_definition(text, source=source)
    if expected_slug is not None and definition.slug != expected_slug:
        message = f"is {definition.slug!r}, but this is the definition of topic {expected_slug!r}"
        raise DefinitionRejected(source, [(("slug",), message)], key_lines(text))
    try:
        return apply_definition(definition=definition, user=user, note=note)
    except DefinitionRejected as error:
        raise DefinitionRejected(source, error.items, key_lines(text)) from None


# --- export -------------------------------------------------------------------------------------


def _resolve(node: Mapping[str, Any]) -> Mapping[str, Any]:
    ref = node.get("$ref", "")
    if ref.startswith("#/$defs/"):
        return _resolve(schema()["$defs"][ref.removeprefix("#/$defs/")])
    return node


def _ordered(value: Any, node: Mapping[str, Any]) -> Any:
    """`value` with object keys in the schema's order (the file reads as documented, whatever
    order the database kept: PostgreSQL's jsonb sorts keys)."""
    node = _resolve(node)
    if isinstance(value, list):
        items = node.get("items", {})
        return [_ordered(item, items) for item in value]
    if not isinstance(value, dict):
        return value
    properties: Mapping[str, Any] = node.get("properties", {})
    rest = node.get("additionalProperties")
    order = {name: index for index, name in enumerate(properties)}
    keys = sorted(value, key=lambda k: (order.get(k, len(order)), k if k not in order else ""))
    return {
        key: _ordered(value[key], properties.get(key, rest if isinstance(rest, dict) else {}))
        for key in keys
    }


def export_data(topic: Topic) -> dict[str, Any]:
    """The topic's definition as data for a file: the stored one (or the neutral default for a
    topic without its own), with the topic's slug, name, treatment, condition and description."""
    # The stored data as the database kept it (SQLite keeps the file's order of free maps).
    data: dict[str, Any] = (
        json.loads(json.dumps(topic.definition))
        if topic.definition
        else definition_data(default_definition())
    )
    had_description = "description" in data
    data["slug"] = topic.slug
    data.update({name: getattr(topic, name) for name in TOPIC_COLUMNS})
    if not data["description"] and not had_description:
        del data["description"]
    ordered: dict[str, Any] = _ordered(data, schema())
    return ordered


def export_definition(topic: Topic) -> str:
    """The topic's definition file (JSON, two-space indent, keys in the schema's order)."""
    return json.dumps(export_data(topic), indent=2, ensure_ascii=False) + "\n"


__all__ = [
    "LEGACY_NOTE",
    "VOCABULARY_FIELDS",
    "DefinitionRejected",
    "TopicDefinitionError",
    "apply_definition",
    "export_data",
    "export_definition",
    "load_definition_text",
]
