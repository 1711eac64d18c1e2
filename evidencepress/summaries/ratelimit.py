"""Fixed-window submission limits per client address and per email, counted in the database.

Each window of each key is one row of `SubmissionCounter`, and a submission is counted with one
atomic statement (`INSERT … ON CONFLICT DO UPDATE SET count = count + 1 … RETURNING count`):
every app server process shares the counts, and submissions arriving at the same moment each
get their own number, so exactly `limit` of them pass (SQLite serialises the writers;
PostgreSQL locks the row). A process-local cache would give each worker its own limit, and a
check followed later by a count lets simultaneous submissions all pass (plan test I2, burst).

Keys are keyed HMACs (SECRET_KEY) of the address or of `email_identity(email)`, so neither is
ever stored in clear, and `same.person+1@…`, `Same.Person+2@…` count as one mailbox; rows of
finished windows are deleted by `purge_requests` (retention.py).
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import time

from django.conf import settings
from django.db import connection

from .models import SubmissionCounter

_TAKE_SQL = (
    'INSERT INTO summaries_submissioncounter ("key", "window_start", "count") '
    "VALUES (%s, %s, 1) "
    'ON CONFLICT ("key", "window_start") '
    'DO UPDATE SET "count" = summaries_submissioncounter."count" + 1 RETURNING "count"'
)


def _key(kind: str, value: str) -> str:
    digest = hmac.new(
        settings.SECRET_KEY.encode(),
        f"summaries-rate:{kind}:{_normalise(kind, value)}".encode(),
        hashlib.sha256,
    ).hexdigest()
    return f"{kind}:{digest}"


def email_identity(address: str) -> str:
    """The mailbox an address reaches, for counting only (delivery uses the address as typed).

    Case-folded; the sub-address tag dropped (`local+tag@domain` is `local@domain`, RFC 5233);
    an internationalised domain and its punycode spelling are the same domain.
    """
    local, at, domain = address.strip().rpartition("@")
    if not at:
        return address.strip().casefold()
    local = local.split("+", 1)[0]
    with contextlib.suppress(UnicodeError):  # not a valid IDN: count it as spelled
        domain = domain.encode("idna").decode("ascii")
    return f"{local.casefold()}@{domain.casefold()}"


def _normalise(kind: str, value: str) -> str:
    return email_identity(value) if kind == "email" else value.strip()


def _limit(kind: str) -> tuple[int, int]:
    setting = (
        "SUMMARIES_RATE_LIMIT_PER_EMAIL" if kind == "email" else "SUMMARIES_RATE_LIMIT_PER_ADDRESS"
    )
    count, seconds = getattr(settings, setting)
    return int(count), int(seconds)


def _window(seconds: int, now: float | None = None) -> int:
    """Start (Unix time) of the fixed window that `now` falls in."""
    moment = int(time.time() if now is None else now)
    return moment - moment % seconds


def is_limited(kind: str, value: str) -> bool:
    """True when `value` (an address or an email) has used up its submissions this window.
    A cheap early refusal only: `take` decides."""
    limit, seconds = _limit(kind)
    used = (
        SubmissionCounter.objects.filter(key=_key(kind, value), window_start=_window(seconds))
        .values_list("count", flat=True)
        .first()
    )
    return (used or 0) >= limit


def take(kind: str, value: str) -> bool:
    """Count one submission for `value`; False when it is over the limit (refuse it)."""
    limit, seconds = _limit(kind)
    with connection.cursor() as cursor:
        cursor.execute(_TAKE_SQL, [_key(kind, value), _window(seconds)])
        (count,) = cursor.fetchone()
    return int(count) <= limit


def purge_counters(now: float | None = None) -> int:
    """Delete the rows of windows that have ended; returns how many."""
    moment = int(time.time() if now is None else now)
    longest = max(_limit("address")[1], _limit("email")[1])
    deleted, _ = SubmissionCounter.objects.filter(window_start__lt=moment - longest).delete()
    return deleted
