"""Template filters for invisible formatting characters (evidencepress/core/text.py)."""

from __future__ import annotations

from typing import Any

from django import template

from evidencepress.core import text

register = template.Library()


@register.filter
def reveal_invisible(value: Any) -> str:
    """Show bidirectional controls and zero-width characters as visible [U+XXXX] markers."""
    return text.reveal_invisible(str(value)) if value is not None else ""


@register.filter
def strip_invisible(value: Any) -> str:
    """Drop bidirectional controls and zero-width characters."""
    return text.strip_invisible(str(value)) if value is not None else ""
