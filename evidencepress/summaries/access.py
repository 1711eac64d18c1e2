"""Who may see summary requests: members of "Summary editors" and superusers only."""

from __future__ import annotations

from typing import Any

from .models import EDITORS_GROUP


def can_access_requests(user: Any) -> bool:
    """True for active superusers and active members of the Summary editors group."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if user.is_superuser:
        return True
    return bool(user.groups.filter(name=EDITORS_GROUP).exists())


def can_approve_clinically(user: Any) -> bool:
    """A clinician reviewer: a Summary editor who also holds summaries.approve_clinically."""
    return can_access_requests(user) and bool(user.has_perm("summaries.approve_clinically"))
