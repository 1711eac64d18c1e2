"""Receivers of the evidence app's own signals."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .models import Topic
from .rulesets import safety_rules_propose


def _rules_of(definition: Any) -> list[dict[str, Any]]:
    """The `safety_rules` of a definition given as a TopicDefinition or as its data."""
    data = getattr(definition, "data", definition)
    rules = data.get("safety_rules", []) if isinstance(data, Mapping) else []
    return [dict(rule) for rule in rules]


def record_safety_rules(
    sender: Any, *, topic: Topic, version: Any = None, definition: Any = None, **kwargs: Any
) -> None:
    """On `topic_definition_applied`: a new draft of the topic's safety rules when they changed.

    The draft is not active: a clinician reviewer approves it (evidence.rulesets).
    """
    number = getattr(version, "number", None)
    note = f"From topic definition version {number}." if number else "From the topic definition."
    safety_rules_propose(
        topic=topic,
        rules=_rules_of(definition),
        user=getattr(version, "created_by", None),
        note=note,
    )


def connect() -> None:
    """Connect to `evidence.signals.topic_definition_applied`, once that signal exists."""
    try:
        from .signals import topic_definition_applied  # type: ignore[attr-defined]
    except ImportError:  # the topic-definition storage (#16 §1) is not merged yet
        return
    topic_definition_applied.connect(
        record_safety_rules, sender=Topic, dispatch_uid="evidence.record_safety_rules"
    )
