"""The demo topics' safety rules: read from their definition files, approved as demo data.

A real topic's rules are active only after a clinician approves them (evidence.rulesets); the
demo approves its own so that a demo site shows the rules at work, and marks that version
`is_demo` (note: "approved by load_demo ..., not by a clinician").
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

from evidencepress.evidence.models import SafetyRuleSet, Topic
from evidencepress.evidence.rulesets import safety_rules_approve_for_demo

TOPICS_DIR = Path(__file__).with_name("data") / "topics"


def load_demo_safety_rules(topics: Mapping[str, Topic]) -> int:
    """Approve each demo topic's rules as demo data; returns how many versions were added."""
    added = 0
    for slug, topic in sorted(topics.items()):
        path = TOPICS_DIR / f"{slug}.json"
        if not path.exists():
            continue
        rules = json.loads(path.read_text(encoding="utf-8")).get("safety_rules", [])
        if rules and safety_rules_approve_for_demo(topic=topic, rules=rules) is not None:
            added += 1
    return added


def remove_demo_safety_rules(slugs: list[str]) -> int:
    """Delete the versions the demo loader approved (and drafts made from demo files)."""
    deleted, _ = SafetyRuleSet.objects.filter(topic__slug__in=slugs, is_demo=True).delete()
    return deleted
