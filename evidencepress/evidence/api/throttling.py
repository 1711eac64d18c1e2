"""How many requests each client address may make: `EVIDENCE_API_RATE_LIMIT = (requests,
seconds)`, default 60 a minute, a fixed window counted by `core.ratelimit` in the `ratelimit`
cache that every process shares (the address is stored only as a keyed digest)."""

from __future__ import annotations

import logging

from django.conf import settings
from django.http import HttpRequest

from evidencepress.core import ratelimit
from evidencepress.core.exceptions import RateLimitUnavailable

logger = logging.getLogger(__name__)

DEFAULT_RATE_LIMIT = (60, 60)  # requests, seconds
SCOPE = "evidence-api"


def rate_limit() -> tuple[int, int]:
    """(requests, seconds) from the settings."""
    count, seconds = getattr(settings, "EVIDENCE_API_RATE_LIMIT", DEFAULT_RATE_LIMIT)
    return int(count), int(seconds)


def seconds_to_wait(request: HttpRequest) -> int | None:
    """Count this request against its address; None when it may be answered, else the seconds
    until the address's window ends (for a 429 with Retry-After)."""
    limit, seconds = rate_limit()
    address = request.META.get("REMOTE_ADDR", "") or "unknown"
    try:
        decision = ratelimit.hit(SCOPE, address, limit=limit, seconds=seconds)
    except RateLimitUnavailable as error:
        # Public data only: serve it uncounted rather than fail while the store is down.
        logger.error("API request not counted: %s", error)
        return None
    return None if decision.allowed else max(1, decision.retry_after)
