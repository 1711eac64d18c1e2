"""A topic's safety rules as reviewed, versioned data: propose, edit, approve (issue #15 §2).

Services (keyword-only, atomic, audited) and the selector drafting uses. A version is proposed
as a draft (from a topic definition as it is applied, or by a Summary editor starting from the
active version); a draft may be edited; a clinician reviewer approves it, which retires the
version approved before. Only the approved version is active. Who may edit is decided by the
caller's view (Summary editors); who may approve is checked here: the permission
`evidence.approve_safetyruleset` (the Clinician reviewers role), and not the person who last
edited the draft.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.http import HttpRequest
from django.utils import timezone

from evidencepress.core.audit import audit_record

from .models import SafetyRuleSet, Topic
from .safety_rules import same_rules

Status = SafetyRuleSet.Status
APPROVE_PERMISSION = "evidence.approve_safetyruleset"


class SafetyRulesError(ValueError):
    """A change the rules' workflow does not allow (the message says why, in plain words)."""


def _audit(
    rule_set: SafetyRuleSet,
    action: str,
    *,
    user: Any = None,
    request: HttpRequest | None = None,
    **detail: Any,
) -> None:
    audit_record(
        action=f"safety_rules.{action}",
        actor=user,
        request=request,
        object_type="safety_rule_set",
        object_id=str(rule_set.pk),
        detail={
            "topic": rule_set.topic.slug,
            "version": rule_set.version,
            "status": rule_set.status,
            "rules": len(rule_set.rules),
            **detail,
        },
    )


def _validated(rule_set: SafetyRuleSet) -> SafetyRuleSet:
    try:
        rule_set.full_clean()
    except ValidationError as error:
        problems = error.message_dict.get("rules") or error.messages
        raise SafetyRulesError("The rules cannot be used: " + "; ".join(problems)) from None
    return rule_set


def latest_rule_set(topic: Topic) -> SafetyRuleSet | None:
    return topic.safety_rule_sets.order_by("-version").first()


def active_rule_set(topic: Topic) -> SafetyRuleSet | None:
    """The topic's approved version, or None (no rules apply until a clinician approves)."""
    return topic.safety_rule_sets.filter(status=Status.APPROVED).first()


def active_safety_rules(topic: Topic) -> tuple[Mapping[str, Any], ...]:
    """The rules drafting applies for `topic`: the approved version's, or none."""
    rule_set = active_rule_set(topic)
    return tuple(rule_set.rules) if rule_set is not None else ()


@transaction.atomic
def safety_rules_propose(
    *,
    topic: Topic,
    rules: list[dict[str, Any]],
    user: Any = None,
    note: str = "",
    request: HttpRequest | None = None,
) -> SafetyRuleSet | None:
    """A new draft version of `topic`'s rules, or None when they equal the latest version's.

    An earlier draft is retired (it was never used): at most one draft per topic.
    """
    Topic.objects.select_for_update().filter(pk=topic.pk).first()  # one proposer at a time
    latest = latest_rule_set(topic)
    if latest is None and not rules:
        return None
    if latest is not None and same_rules(latest.rules, rules):
        return None
    number = (topic.safety_rule_sets.aggregate(top=Max("version"))["top"] or 0) + 1
    # Retired first: the new draft must be the only one (rolled back if it is refused).
    for old in topic.safety_rule_sets.filter(status=Status.DRAFT):
        old.status = Status.RETIRED  # a draft never approved: closed, not used
        old.save(update_fields=["status"])
        _audit(old, "retired", user=user, request=request, replaced_by=number)
    rule_set = _validated(
        SafetyRuleSet(
            topic=topic,
            version=number,
            rules=copy.deepcopy(rules),
            note=note,
            edited_by=user if getattr(user, "is_authenticated", False) else None,
            edited_at=timezone.now(),
        )
    )
    rule_set.save()
    _audit(rule_set, "drafted", user=user, request=request)
    return rule_set


@transaction.atomic
def safety_rules_edit(
    *,
    rule_set: SafetyRuleSet,
    rules: list[dict[str, Any]],
    user: Any,
    note: str = "",
    request: HttpRequest | None = None,
) -> SafetyRuleSet:
    """Change a draft's rules (an approved or retired version never changes: propose anew)."""
    rule_set = SafetyRuleSet.objects.select_for_update().get(pk=rule_set.pk)
    if rule_set.status != Status.DRAFT:
        raise SafetyRulesError(
            f"Version {rule_set.version} is {rule_set.get_status_display().lower()}: only a "
            "draft can be edited. Start a new draft from it."
        )
    rule_set.rules = copy.deepcopy(rules)
    rule_set.note = note or rule_set.note
    rule_set.edited_by = user
    rule_set.edited_at = timezone.now()
    _validated(rule_set).save()
    _audit(rule_set, "edited", user=user, request=request)
    return rule_set


def can_approve_rules(user: Any) -> bool:
    return bool(
        user is not None
        and getattr(user, "is_authenticated", False)
        and user.is_active
        and user.has_perm(APPROVE_PERMISSION)
    )


def _approve(rule_set: SafetyRuleSet, *, user: Any, demo: bool) -> SafetyRuleSet:
    now = timezone.now()
    for old in SafetyRuleSet.objects.filter(topic=rule_set.topic, status=Status.APPROVED):
        old.status = Status.RETIRED
        old.save(update_fields=["status"])
        _audit(old, "retired", user=user, replaced_by=rule_set.version)
    rule_set.status = Status.APPROVED
    rule_set.approved_by = user
    rule_set.approved_at = now
    rule_set.is_demo = demo
    _validated(rule_set).save()
    return rule_set


@transaction.atomic
def safety_rules_approve(
    *, rule_set: SafetyRuleSet, user: Any, request: HttpRequest | None = None
) -> SafetyRuleSet:
    """A clinician reviewer approves a draft: it becomes the topic's active rules."""
    if not can_approve_rules(user):
        raise PermissionError("Only a clinician reviewer can approve a topic's safety rules.")
    rule_set = SafetyRuleSet.objects.select_for_update().select_related("topic").get(pk=rule_set.pk)
    if rule_set.status != Status.DRAFT:
        raise SafetyRulesError(
            f"Version {rule_set.version} is {rule_set.get_status_display().lower()}: only a "
            "draft can be approved."
        )
    if rule_set.edited_by_id is not None and rule_set.edited_by_id == user.pk:
        raise SafetyRulesError("You edited this version; another clinician must approve it.")
    _approve(rule_set, user=user, demo=False)
    _audit(rule_set, "approved", user=user, request=request)
    return rule_set


@transaction.atomic
def safety_rules_approve_for_demo(
    *, topic: Topic, rules: list[dict[str, Any]]
) -> SafetyRuleSet | None:
    """The demo loader's stand-in for a clinician: the demo rules, approved and marked demo.

    Idempotent: nothing changes when the active version already has these rules. Never used
    outside `load_demo`; a real topic's rules are approved only by `safety_rules_approve`.
    """
    active = active_rule_set(topic)
    if active is not None and same_rules(active.rules, rules):
        return None
    draft = safety_rules_propose(topic=topic, rules=rules, note="Demo rules, from load_demo.")
    if draft is None:
        # The latest version has these rules already: approve it if it is the draft.
        draft = topic.safety_rule_sets.filter(status=Status.DRAFT).first()
    if draft is None or not same_rules(draft.rules, rules):
        number = (topic.safety_rule_sets.aggregate(top=Max("version"))["top"] or 0) + 1
        draft = SafetyRuleSet(topic=topic, version=number, rules=copy.deepcopy(rules))
    draft.note = "Demo rules: approved by load_demo to show the feature, not by a clinician."
    _approve(draft, user=None, demo=True)
    _audit(draft, "approved", demo=True)
    return draft
