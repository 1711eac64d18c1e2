"""Fixed-window submission limits in Django's cache, per client address and per email.

Cache keys are keyed HMACs (SECRET_KEY) of the address or the normalised email, so neither
ever appears in the cache in clear.
"""

from __future__ import annotations

import hashlib
import hmac

from django.conf import settings
from django.core.cache import cache


def _key(kind: str, value: str) -> str:
    digest = hmac.new(
        settings.SECRET_KEY.encode(),
        f"summaries-rate:{kind}:{value}".encode(),
        hashlib.sha256,
    ).hexdigest()
    return f"summaries:rate:{kind}:{digest}"


def _normalise(kind: str, value: str) -> str:
    return value.strip().lower() if kind == "email" else value.strip()


def _limit(kind: str) -> tuple[int, int]:
    setting = (
        "SUMMARIES_RATE_LIMIT_PER_EMAIL" if kind == "email" else "SUMMARIES_RATE_LIMIT_PER_ADDRESS"
    )
    count, seconds = getattr(settings, setting)
    return int(count), int(seconds)


def is_limited(kind: str, value: str) -> bool:
    """True when `value` (an address or an email) has used up its submissions this window."""
    count, _seconds = _limit(kind)
    return int(cache.get(_key(kind, _normalise(kind, value)), 0)) >= count


def record(kind: str, value: str) -> None:
    """Count one submission for `value`; the window starts at its first submission."""
    _count, seconds = _limit(kind)
    key = _key(kind, _normalise(kind, value))
    if cache.add(key, 1, seconds):
        return
    try:
        cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, seconds)
