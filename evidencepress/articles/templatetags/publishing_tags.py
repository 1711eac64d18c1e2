"""Template tags for the admin's publishing screens."""

from __future__ import annotations

from typing import Any

from django import template

from evidencepress.articles.publishing import WITHDRAWAL_REASONS, withdrawal_needs_reason

register = template.Library()


@register.simple_tag
def withdrawal_reasons(page: Any) -> dict[str, str]:
    """The reason codes to choose from when unpublishing `page` ({} if none is needed)."""
    return WITHDRAWAL_REASONS if withdrawal_needs_reason(page.specific) else {}
