"""Write the audit trail: one append-only AuditEvent per security-relevant action.

Callers pass only non-personal facts in `detail` (ids, statuses, counts, reason codes), never
an email address, free text or health detail.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest

from .client import client_ip
from .models import AuditEvent

logger = logging.getLogger("evidencepress.security")


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


def _denied_key(request: HttpRequest) -> str:
    user = getattr(request, "user", None)
    if user is not None and getattr(user, "is_authenticated", False):
        return f"user:{user.pk}"
    return f"ip:{client_ip(request) or 'unknown'}"


def audit_permission_denied(
    *,
    request: HttpRequest,
    what: str,
    action: str = "permission_denied",
    object_type: str = "",
    object_id: str = "",
) -> AuditEvent | None:
    """Record a refused request, at most settings.AUDIT_DENIED_LIMIT events per user (or, for
    the anonymous, per client address) in each window of AUDIT_DENIED_WINDOW seconds.

    Past the limit nothing is stored (so one account cannot flood the log and bury other
    events); the number left out is counted and written, as `suppressed`, into that user's
    next recorded refusal. Returns the event, or None when it was left out. The counts live in
    the default cache: per process with the local-memory cache (use a shared cache, as for the
    API's limit, when running several workers).
    """
    limit = int(getattr(settings, "AUDIT_DENIED_LIMIT", 10))
    window = int(getattr(settings, "AUDIT_DENIED_WINDOW", 60))
    who = _denied_key(request)
    slot = int(time.time()) // window
    count_key = f"audit-denied:{who}:{slot}"
    suppressed_key = f"audit-denied-suppressed:{who}"
    cache.add(count_key, 0, timeout=window * 2)
    try:
        count = cache.incr(count_key)
    except ValueError:  # evicted between add and incr: count this one as the first
        cache.set(count_key, 1, timeout=window * 2)
        count = 1
    if count > limit:
        cache.add(suppressed_key, 0, timeout=None)
        try:
            cache.incr(suppressed_key)
        except ValueError:
            cache.set(suppressed_key, 1, timeout=None)
        if count == limit + 1:
            logger.warning(
                "permission-denied audit events suppressed",
                extra={"who": who, "limit": limit, "window_seconds": window},
            )
        return None
    suppressed = int(cache.get(suppressed_key) or 0)
    detail: dict[str, Any] = {"view": what}
    if suppressed:
        detail["suppressed"] = suppressed
        cache.delete(suppressed_key)
    if count == limit:
        detail["limit_reached"] = True
    return audit_record(
        action=action,
        request=request,
        object_type=object_type,
        object_id=object_id,
        detail=detail,
    )
