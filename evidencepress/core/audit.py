"""Write the audit trail: one append-only AuditEvent per security-relevant action.

Callers pass only non-personal facts in `detail` (ids, statuses, counts, reason codes), never
an email address, free text or health detail.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from .client import client_ip
from .models import AuditEvent


def _source_ip(request: HttpRequest | None) -> str | None:
    """The client's address (behind trusted proxies, not the proxy's: core/client.py)."""
    return None if request is None else client_ip(request)


def audit_record(
    *,
    action: str,
    actor: Any = None,
    request: HttpRequest | None = None,
    object_type: str = "",
    object_id: str = "",
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    """Store one audit event (UTC time, actor id and username, action, object, source IP).

    The actor defaults to `request.user`; anonymous users are recorded without an id.
    """
    if actor is None and request is not None:
        actor = getattr(request, "user", None)
    authenticated = actor is not None and getattr(actor, "is_authenticated", False)
    event = AuditEvent(
        actor_id=actor.pk if authenticated else None,
        actor_username=actor.get_username() if authenticated else "",
        action=action[:64],
        object_type=object_type[:64],
        object_id=str(object_id)[:64],
        source_ip=_source_ip(request),
        detail=detail or {},
    )
    event.full_clean()
    event.save()
    return event
