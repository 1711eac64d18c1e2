"""Template tags for the wording of evidence.notices ({% demo_label %}, {% not_advice %}, ...)."""

from __future__ import annotations

from django import template

from evidencepress.evidence import notices

register = template.Library()


@register.simple_tag
def demo_label() -> str:
    return notices.DEMO_LABEL


@register.simple_tag
def demo_explanation() -> str:
    return notices.DEMO_EXPLANATION


@register.simple_tag
def not_advice() -> str:
    return notices.NOT_ADVICE


@register.simple_tag
def not_advice_reason() -> str:
    return notices.NOT_ADVICE_REASON
