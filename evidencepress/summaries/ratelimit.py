"""Submission limits of the request form, per client address and per email (`core.ratelimit`).

Counted in the shared `ratelimit` store that every app server process uses, each submission
counted before it is decided on, so of simultaneous submissions exactly `limit` pass (plan test
I2, burst). Values are hashed with SECRET_KEY by `core.ratelimit`: neither an address nor
`email_identity(email)` is ever stored in clear, and `same.person+1@…`, `Same.Person+2@…` count
as one mailbox. Finished windows expire by themselves.
"""

from __future__ import annotations

import contextlib

from django.conf import settings

from evidencepress.core import ratelimit


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


def is_limited(kind: str, value: str) -> bool:
    """True when `value` (an address or an email) has used up its submissions this window.
    A cheap early refusal only: `take` decides."""
    limit, seconds = _limit(kind)
    return ratelimit.used(f"summaries-{kind}", _normalise(kind, value), seconds=seconds) >= limit


def take(kind: str, value: str) -> bool:
    """Count one submission for `value`; False when it is over the limit (refuse it)."""
    limit, seconds = _limit(kind)
    scope = f"summaries-{kind}"
    return ratelimit.hit(scope, _normalise(kind, value), limit=limit, seconds=seconds).allowed


def used(kind: str, value: str) -> int:
    """Submissions counted for `value` in the current window, refused ones included."""
    return ratelimit.used(f"summaries-{kind}", _normalise(kind, value), seconds=_limit(kind)[1])
