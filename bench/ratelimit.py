"""What the shared rate limiter costs an API GET (issue #16: one limiter, one shared store).

    python bench/ratelimit.py [--requests 2000] [--label after]

On a throwaway SQLite database (test settings, WAL, IMMEDIATE transactions) holding only the
cache table, times REQUESTS anonymous GETs of `/api/v1/openapi.json` from one address (the
limit raised so none is refused), then the limiter call alone, for each store the `ratelimit`
alias can be:

- "locmem": a per-process cache (what the API counted in before: wrong across processes);
- "database": core.cache.CounterDatabaseCache, the default without REDIS_URL.

Prints and appends to bench/results/ratelimit.json the median microseconds per request.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results" / "ratelimit.json"
STORES = {
    "locmem": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "database": {
        "BACKEND": "evidencepress.core.cache.CounterDatabaseCache",
        "LOCATION": "core_ratelimit_cache",
        "OPTIONS": {"MAX_ENTRIES": 10**9},
    },
}


def _child(store: str, requests: int) -> dict[str, Any]:
    import django
    from django.conf import settings

    django.setup()
    settings.CACHES["ratelimit"] = STORES[store]
    settings.EVIDENCE_API_RATE_LIMIT = (10**9, 60)
    from django.core.management import call_command
    from django.test import Client

    call_command("createcachetable", verbosity=0)
    from evidencepress.core import ratelimit

    client = Client()
    timings: list[float] = []
    for _ in range(requests):
        start = time.perf_counter()
        response = client.get("/api/v1/openapi.json", REMOTE_ADDR="198.51.100.1")
        timings.append(time.perf_counter() - start)
        assert response.status_code == 200, response.status_code
    calls: list[float] = []
    for _ in range(requests):
        start = time.perf_counter()
        ratelimit.hit("bench", "198.51.100.2", limit=10**9, seconds=60)
        calls.append(time.perf_counter() - start)
    return {
        "store": store,
        "get_median_us": round(statistics.median(timings) * 1e6),
        "limiter_median_us": round(statistics.median(calls) * 1e6),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--label", default="")
    parser.add_argument("--child", default="")
    args = parser.parse_args()
    if args.child:
        print(json.dumps(_child(args.child, args.requests)))
        return
    rows = []
    for store in STORES:
        with tempfile.TemporaryDirectory() as tmp:
            env = {
                **os.environ,
                "DJANGO_SETTINGS_MODULE": "evidencepress.settings.test",
                "DATABASE_URL": f"sqlite:///{tmp}/bench.sqlite3",
            }
            done = subprocess.run(
                [sys.executable, __file__, "--child", store, "--requests", str(args.requests)],
                cwd=ROOT,
                env=env,
                capture_output=True,
                text=True,
                check=True,
            )
            rows.append(json.loads(done.stdout.strip().splitlines()[-1]))
            print(rows[-1])
    runs = json.loads(RESULTS.read_text()) if RESULTS.exists() else []
    runs.append(
        {
            "label": args.label,
            "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "python": platform.python_version(),
            "requests": args.requests,
            "results": rows,
        }
    )
    RESULTS.write_text(json.dumps(runs, indent=2) + "\n")


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
