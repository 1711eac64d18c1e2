"""Request-form burst (plan test I2, nightly): do the submission limits hold under automation?

Against the site that `scripts/security-full.sh` starts on 127.0.0.1:$PORT (settings
`security.burst.settings`: the production limits, 5 per client address per hour and 3 per email
per day), this script

1. GETs the request form once and keeps its CSRF cookie, token and the first topic;
2. burst: POSTs valid requests, each with a new email address, from one client address
   (127.0.0.1) as fast as it can, up to 1,000 or 60 seconds, whichever comes first;
3. one email: POSTs 20 valid requests that reuse one email address. The per-address limit
   would stop 20 submissions from one address after 5, before the per-email limit (3) had a
   chance to act, so each of the 20 comes from its own loopback address (127.0.1.1-20): only
   the per-email limit can stop them;
4. honeypot: POSTs 20 requests with the hidden `website` field filled in, each from its own
   loopback address too, so every one reaches the honeypot check instead of the address limit.

It then reads the site's database through the ORM (the step exports DJANGO_SETTINGS_MODULE and
DATABASE_URL) and prints one JSON line. Exit 0 only if the burst stored no more rows than the
per-address limit, the one email no more than the per-email limit, the honeypot none, some
responses were 429 and none was a server error (5xx).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[2]
FORM_PATH = "/summaries/request/"
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
TOPIC = re.compile(r'<select name="topic".*?<option value="([^"]+)"', re.S)
DOMAIN = "burst.example.org"
SAME_EMAIL = f"same-reader@{DOMAIN}"


@dataclass
class Phase:
    """Responses of one phase, counted by status code."""

    submitted: int = 0
    statuses: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, status: str) -> None:
        with self.lock:
            self.submitted += 1
            self.statuses[status] += 1


@dataclass(frozen=True)
class Form:
    """What a submission needs from the form page: CSRF cookie and token, a topic slug."""

    cookies: dict[str, str]
    token: str
    topic: str


def fetch_form(base: str) -> Form:
    """GET the request form; raises SystemExit naming what is missing."""
    with httpx.Client(base_url=base, timeout=30) as client:
        response = client.get(FORM_PATH)
        token, topic = CSRF.search(response.text), TOPIC.search(response.text)
        if response.status_code != 200 or token is None or topic is None:
            raise SystemExit(
                f"{base}{FORM_PATH}: status {response.status_code}, "
                "no CSRF token or topic in the form page"
            )
        return Form(dict(client.cookies), token.group(1), topic.group(1))


def payload(form: Form, *, email: str, honeypot: bool = False) -> dict[str, str]:
    """A valid request (the same fields as the soak's writers), optionally with the honeypot."""
    return {
        "csrfmiddlewaretoken": form.token,
        "topic": form.topic,
        "setting": "scalp_face",
        "site": "scalp",
        "lesion_size_mm": "15",
        "lesion_count": "1",
        "lesion_depth": "superficial",
        "surgery_possible": "no",
        "question": "Burst test question",
        "detail": "short",
        "email": email,
        "consent": "on",
        "website": "https://spam.example.net/" if honeypot else "",
    }


def client_from(base: str, form: Form, address: str) -> httpx.Client:
    """An HTTP client whose connections leave from `address` (any of 127.0.0.0/8 on Linux)."""
    return httpx.Client(
        base_url=base,
        cookies=form.cookies,
        timeout=15,
        transport=httpx.HTTPTransport(local_address=address),
        headers={"Referer": base + FORM_PATH},
    )


def post(client: httpx.Client, data: dict[str, str], phase: Phase) -> None:
    try:
        status = str(client.post(FORM_PATH, data=data).status_code)
    except httpx.HTTPError as exc:
        status = type(exc).__name__
    phase.add(status)


def run_burst(base: str, form: Form, *, total: int, seconds: float, threads: int) -> Phase:
    """Up to `total` valid submissions from 127.0.0.1 in `seconds`, `threads` at a time."""
    phase = Phase()
    deadline = time.monotonic() + seconds
    numbers = iter(range(total))
    take = threading.Lock()

    def worker() -> None:
        with client_from(base, form, "127.0.0.1") as client:
            while time.monotonic() < deadline:
                with take:
                    number = next(numbers, None)
                if number is None:
                    return
                post(client, payload(form, email=f"burst-{number}@{DOMAIN}"), phase)

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return phase


def run_spread(base: str, form: Form, *, count: int, subnet: str, honeypot: bool) -> Phase:
    """`count` submissions, the i-th from address `subnet`.i (one email, or honeypot filled)."""
    phase = Phase()
    for number in range(1, count + 1):
        email = f"honeypot-{number}@{DOMAIN}" if honeypot else SAME_EMAIL
        with client_from(base, form, f"{subnet}.{number}") as client:
            post(client, payload(form, email=email, honeypot=honeypot), phase)
    return phase


def stored_rows() -> tuple[dict[str, int], dict[str, list[int]]]:
    """Rows stored per phase (emails are decrypted by the model), and the configured limits."""
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.conf import settings

    from evidencepress.summaries.models import SummaryRequest

    rows: Counter[str] = Counter()
    for summary_request in SummaryRequest.objects.all():
        email = summary_request.email
        if email == SAME_EMAIL:
            rows["one_email"] += 1
        elif email.startswith("honeypot-") and email.endswith(DOMAIN):
            rows["honeypot"] += 1
        elif email.startswith("burst-") and email.endswith(DOMAIN):
            rows["burst"] += 1
        else:
            rows["other"] += 1
    limits = {
        "per_address": list(settings.SUMMARIES_RATE_LIMIT_PER_ADDRESS),
        "per_email": list(settings.SUMMARIES_RATE_LIMIT_PER_EMAIL),
    }
    return {k: rows[k] for k in ("burst", "one_email", "honeypot", "other")}, limits


def verdict(phases: dict[str, Phase], rows: dict[str, int], limits: dict[str, Any]) -> list[str]:
    """The reasons the run fails (empty when it passes)."""
    problems = []
    if rows["burst"] > limits["per_address"][0]:
        problems.append(f"burst stored {rows['burst']} rows > {limits['per_address'][0]}")
    if rows["one_email"] > limits["per_email"][0]:
        problems.append(f"one email stored {rows['one_email']} rows > {limits['per_email'][0]}")
    if rows["honeypot"]:
        problems.append(f"honeypot stored {rows['honeypot']} rows")
    statuses = sum((phase.statuses for phase in phases.values()), Counter())
    if not statuses["429"]:
        problems.append("no response was 429")
    errors = {s: n for s, n in statuses.items() if not s.isdigit() or s.startswith("5")}
    if errors:
        problems.append(f"server or connection errors: {errors}")
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8765")))
    parser.add_argument("--total", type=int, default=1000, help="burst submissions (max)")
    parser.add_argument("--seconds", type=float, default=60, help="burst time limit")
    parser.add_argument("--threads", type=int, default=8, help="concurrent burst connections")
    parser.add_argument("--spread", type=int, default=20, help="one-email and honeypot count")
    args = parser.parse_args()
    base = f"http://127.0.0.1:{args.port}"

    form = fetch_form(base)
    started = time.monotonic()
    phases = {
        "burst": run_burst(
            base, form, total=args.total, seconds=args.seconds, threads=args.threads
        ),
    }
    burst_seconds = round(time.monotonic() - started, 1)
    phases["one_email"] = run_spread(
        base, form, count=args.spread, subnet="127.0.1", honeypot=False
    )
    phases["honeypot"] = run_spread(base, form, count=args.spread, subnet="127.0.2", honeypot=True)

    rows, limits = stored_rows()
    problems = verdict(phases, rows, limits)
    report = {
        "submitted": sum(phase.submitted for phase in phases.values()),
        "burst_seconds": burst_seconds,
        "statuses": {name: dict(sorted(phase.statuses.items())) for name, phase in phases.items()},
        "rows_stored": rows,
        "limits": limits,
        "pass": not problems,
        "problems": problems,
    }
    print(json.dumps(report))
    return 0 if not problems else 1


if __name__ == "__main__":
    sys.exit(main())
