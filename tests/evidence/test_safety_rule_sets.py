"""A topic's safety rules as reviewed, versioned data (SafetyRuleSet, evidence.rulesets)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db import IntegrityError, transaction
from django.utils import timezone

from evidencepress.core.models import AuditEvent
from evidencepress.evidence.models import SafetyRuleSet, Topic
from evidencepress.evidence.receivers import record_safety_rules
from evidencepress.evidence.rulesets import (
    SafetyRulesError,
    active_safety_rules,
    safety_rules_approve,
    safety_rules_edit,
    safety_rules_propose,
)

pytestmark = pytest.mark.django_db

DEMO_FILE = (
    Path(__file__).resolve().parents[2]
    / "evidencepress/demo/data/topics/imiquimod-angiosarcoma.json"
)
RULES: list[dict[str, Any]] = json.loads(DEMO_FILE.read_text(encoding="utf-8"))["safety_rules"]
Status = SafetyRuleSet.Status


@pytest.fixture
def topic() -> Topic:
    return Topic.objects.create(
        name="Imiquimod for cutaneous angiosarcoma",
        slug="imiquimod-angiosarcoma",
        treatment="Imiquimod",
        condition="Cutaneous angiosarcoma",
    )


def user(name: str, *, clinician: bool = False, **extra: Any) -> Any:
    made = get_user_model().objects.create_user(name, f"{name}@staff.example.org", "pw-123456789")
    for key, value in extra.items():
        setattr(made, key, value)
    made.save()
    if clinician:
        made.user_permissions.add(Permission.objects.get(codename="approve_safetyruleset"))
    return get_user_model().objects.get(pk=made.pk)


def test_propose_makes_a_draft_and_nothing_when_unchanged(topic: Topic) -> None:
    first = safety_rules_propose(topic=topic, rules=RULES)
    assert first is not None and (first.version, first.status) == (1, Status.DRAFT)
    assert safety_rules_propose(topic=topic, rules=copy.deepcopy(RULES)) is None
    assert safety_rules_propose(topic=Topic.objects.get(pk=topic.pk), rules=[]) is not None
    assert list(topic.safety_rule_sets.values_list("version", "status")) == [
        (2, Status.DRAFT),
        (1, Status.RETIRED),
    ]
    assert active_safety_rules(topic) == ()  # a draft is never active


def test_no_rules_and_no_versions_makes_nothing(topic: Topic) -> None:
    assert safety_rules_propose(topic=topic, rules=[]) is None
    assert not SafetyRuleSet.objects.exists()


def test_bad_rules_are_refused_and_nothing_is_stored(topic: Topic) -> None:
    bad = copy.deepcopy(RULES)
    bad[0]["statements"] = ["Use it 5 times a week."]
    with pytest.raises(SafetyRulesError, match="must not give a dose"):
        safety_rules_propose(topic=topic, rules=bad)
    assert not SafetyRuleSet.objects.exists()
    draft = safety_rules_propose(topic=topic, rules=RULES)
    assert draft is not None
    with pytest.raises(SafetyRulesError, match="'flag' is a required property"):
        safety_rules_edit(rule_set=draft, rules=[{"id": "x"}], user=user("ed"))
    draft.refresh_from_db()
    assert draft.rules == RULES


def test_only_a_clinician_who_did_not_edit_it_approves(topic: Topic) -> None:
    editor = user("editor")
    clinician = user("clinician", clinician=True)
    other_clinician = user("other", clinician=True)
    draft = safety_rules_propose(topic=topic, rules=RULES, user=editor)
    assert draft is not None
    with pytest.raises(PermissionError):
        safety_rules_approve(rule_set=draft, user=editor)
    with pytest.raises(PermissionError):
        safety_rules_approve(rule_set=draft, user=user("gone", clinician=True, is_active=False))
    edited = copy.deepcopy(RULES)[:2]
    safety_rules_edit(rule_set=draft, rules=edited, user=clinician, note="Two rules first")
    with pytest.raises(SafetyRulesError, match="another clinician"):
        safety_rules_approve(rule_set=draft, user=clinician)
    assert active_safety_rules(topic) == ()
    approved = safety_rules_approve(rule_set=draft, user=other_clinician)
    assert approved.status == Status.APPROVED and approved.approved_by == other_clinician
    assert [r["id"] for r in active_safety_rules(topic)] == [r["id"] for r in edited]
    with pytest.raises(SafetyRulesError, match="only a draft can be edited"):
        safety_rules_edit(rule_set=approved, rules=RULES, user=editor)
    with pytest.raises(SafetyRulesError, match="only a draft can be approved"):
        safety_rules_approve(rule_set=approved, user=clinician)


def test_approving_a_new_version_retires_the_old_one(topic: Topic) -> None:
    clinician = user("clinician", clinician=True)
    first = safety_rules_propose(topic=topic, rules=RULES[:1])
    assert first is not None
    safety_rules_approve(rule_set=first, user=clinician)
    second = safety_rules_propose(topic=topic, rules=RULES)
    assert second is not None
    assert len(active_safety_rules(topic)) == 1  # still the first until approved
    safety_rules_approve(rule_set=second, user=clinician)
    first.refresh_from_db()
    assert first.status == Status.RETIRED
    assert len(active_safety_rules(topic)) == len(RULES)


def test_every_step_is_audited_without_the_rules_text(topic: Topic) -> None:
    clinician = user("clinician", clinician=True)
    draft = safety_rules_propose(topic=topic, rules=RULES)
    assert draft is not None
    safety_rules_edit(rule_set=draft, rules=RULES[:3], user=user("editor"))
    safety_rules_approve(rule_set=draft, user=clinician)
    events = list(AuditEvent.objects.filter(action__startswith="safety_rules.").order_by("pk"))
    assert [e.action for e in events] == [
        "safety_rules.drafted",
        "safety_rules.edited",
        "safety_rules.approved",
    ]
    assert events[-1].actor_username == "clinician"
    assert events[-1].detail == {
        "topic": topic.slug,
        "version": 1,
        "status": "approved",
        "rules": 3,
    }


def test_the_database_allows_one_approved_and_one_draft_version(topic: Topic) -> None:
    now = timezone.now()
    SafetyRuleSet.objects.create(topic=topic, version=1, status="approved", approved_at=now)
    with pytest.raises(IntegrityError), transaction.atomic():
        SafetyRuleSet.objects.create(topic=topic, version=2, status="approved", approved_at=now)
    SafetyRuleSet.objects.create(topic=topic, version=3)
    with pytest.raises(IntegrityError), transaction.atomic():
        SafetyRuleSet.objects.create(topic=topic, version=4)
    SafetyRuleSet.objects.create(topic=topic, version=5, status="retired", approved_at=None)
    with pytest.raises(IntegrityError), transaction.atomic():
        SafetyRuleSet.objects.filter(version=5).update(status="approved")


def test_a_definition_applied_records_a_draft_of_its_rules(topic: Topic) -> None:
    loader = user("loader")
    version = SimpleNamespace(number=3, created_by=loader)
    definition = SimpleNamespace(data={"safety_rules": RULES})
    record_safety_rules(Topic, topic=topic, version=version, definition=definition)
    draft = topic.safety_rule_sets.get()
    assert (draft.status, draft.edited_by, draft.note) == (
        Status.DRAFT,
        loader,
        "From topic definition version 3.",
    )
    # Applying the same definition again adds nothing.
    record_safety_rules(Topic, topic=topic, version=version, definition={"safety_rules": RULES})
    assert topic.safety_rule_sets.count() == 1


def test_the_receiver_is_connected_to_the_signal_when_it_exists(topic: Topic) -> None:
    signals = pytest.importorskip("evidencepress.evidence.signals")
    signal = signals.topic_definition_applied
    signal.send(
        sender=Topic,
        topic=topic,
        version=SimpleNamespace(number=1, created_by=None),
        definition={"safety_rules": RULES},
    )
    assert topic.safety_rule_sets.get().rules == RULES


def test_the_demo_loader_approves_the_demo_rules_as_demo_and_removes_them() -> None:
    from evidencepress.demo.loader import DEMO_TOPIC_SLUG, load_demo, remove_demo

    load_demo()
    topic = Topic.objects.get(slug=DEMO_TOPIC_SLUG)
    active = topic.safety_rule_sets.get(status=Status.APPROVED)
    assert active.is_demo and active.approved_by is None and "not by a clinician" in active.note
    assert list(active_safety_rules(topic)) == RULES
    versions = topic.safety_rule_sets.count()
    load_demo()
    assert topic.safety_rule_sets.count() == versions
    assert remove_demo()["safety_rule_sets"] == versions
    assert not SafetyRuleSet.objects.filter(is_demo=True).exists()
