"""The one rate limiter: fixed windows counted in a cache that every process shares.

Used by the evidence API (per client address, every GET) and the summaries request form (per
address and per email). Counts live in the `ratelimit` cache alias, which settings make a shared
store: Redis (`django.core.cache.backends.redis.RedisCache`) when REDIS_URL is set, otherwise
the database (`core.cache.CounterDatabaseCache`, an atomic `incr`). A per-process cache would
give each worker its own limit; the system check evidencepress.S030 warns if one is configured.

Each call counts first and decides on the returned count, so simultaneous requests each get
their own number and exactly `limit` of a burst pass. A window's key expires a second after the
window could last end, so a key in use never expires underneath its window and finished
windows are forgotten without a purge job (`purge_expired` tidies the database store).

When the store cannot count (a read-only or full database, Redis down) `hit` raises
`RateLimitUnavailable`: the request form then fails closed (503, nothing stored), the API serves
its public data anyway and logs the error.

Keys are keyed HMACs (SECRET_KEY) of the scope and value: an address or an email is never
stored in clear.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import BaseCache, caches

from .exceptions import RateLimitUnavailable

CACHE_ALIAS = "ratelimit"


@dataclass(frozen=True, slots=True)
class Decision:
    """The outcome of counting one request."""

    allowed: bool
    count: int  # requests counted in this window, this one included
    retry_after: int  # seconds until the window ends (0 when allowed)


def store() -> BaseCache:
    """The shared cache the counts live in."""
    return caches[CACHE_ALIAS]


def _window(seconds: int, now: float) -> int:
    return int(now // seconds)


def _key(scope: str, value: str, seconds: int, window: int) -> str:
    digest = hmac.new(
        settings.SECRET_KEY.encode(), f"ratelimit:{scope}:{value}".encode(), hashlib.sha256
    ).hexdigest()
    return f"rl:{scope}:{seconds}:{window}:{digest}"


def hit(scope: str, value: str, *, limit: int, seconds: int, now: float | None = None) -> Decision:
    """Count one request of `value` (e.g. an address) in `scope`; allowed while within `limit`
    per `seconds`-long window. Refused requests are counted too."""
    moment = time.time() if now is None else now
    window = _window(seconds, moment)
    key = _key(scope, value, seconds, window)
    cache = store()
    try:
        try:
            count = int(cache.incr(key))
        except ValueError:  # the window's first request, unless another process adds it first
            count = 1 if cache.add(key, 1, timeout=seconds + 1) else int(cache.incr(key))
    except Exception as error:
        # Any failure of the store (DatabaseCache.add hides a database error as False, so a
        # read-only database shows as a key that cannot be added nor found).
        raise RateLimitUnavailable(f"The rate-limit store could not count: {error}") from error
    if count <= limit:
        return Decision(True, count, 0)
    return Decision(False, count, max(1, math.ceil((window + 1) * seconds - moment)))


def used(scope: str, value: str, *, seconds: int, now: float | None = None) -> int:
    """Requests counted for `value` in the current window (read only); 0 when the store cannot
    be read, since this only ever gives an early answer and `hit` decides."""
    moment = time.time() if now is None else now
    key = _key(scope, value, seconds, _window(seconds, moment))
    try:
        return int(store().get(key, 0))
    except Exception:  # e.g. DatabaseCache deleting an expired row in a read-only database
        return 0


def purge_expired() -> int:
    """Delete finished windows from a database store; 0 for stores that expire keys themselves."""
    delete_expired = getattr(store(), "delete_expired", None)
    return int(delete_expired()) if delete_expired is not None else 0
