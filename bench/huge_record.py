"""One huge record: the public publication page with a very large abstract, before and after.

    python bench/huge_record.py [--mb 200] [--requests 8]

Builds a throwaway SQLite database (production settings) holding one publication whose abstract
is MB megabytes of words (the shape of the issue #14 finding: an RIS record with a 200 MB
abstract), with one invented case. Then, each in its own subprocess so that peak RSS is its own,
it requests `/evidence/publications/<id>/` REQUESTS times, one after another:

- "deferred": the code as it is (PublicationQuerySet.for_display leaves the abstract unread);
- "loaded": the same with for_display() made a no-op, i.e. every column read, as before the fix.

Reports the median seconds per request and the peak RSS growth over the process after start-up.
Writes bench/results/huge_record.json.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def setup_django(database: Path) -> None:
    from bench.synthesis import setup_django as setup  # imports Django: only in the children

    setup(database)


def build(database: Path, megabytes: int) -> int:
    setup_django(database)
    from evidencepress.evidence.models import Publication, ReportedPatient, Topic

    topic = Topic.objects.create(name="Bench topic", slug="bench", treatment="X", condition="Y")
    words = " lorem" * (megabytes * 1024 * 1024 // 6)
    publication = Publication.objects.create(
        title="A publication with a huge abstract", journal="Bench J", year=2024, abstract=words
    )
    ReportedPatient.objects.create(
        publication=publication, topic=topic, label="Invented case", is_demo=True
    )
    return int(publication.pk)


def measure(database: Path, pk: int, mode: str, requests: int) -> dict[str, Any]:
    setup_django(database)
    from django.conf import settings
    from django.test import Client, override_settings

    from evidencepress.evidence.querysets import PublicationQuerySet

    # No collectstatic here: plain static URLs instead of the production manifest.
    override_settings(
        STORAGES={
            **settings.STORAGES,
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        }
    ).enable()

    if mode == "loaded":
        PublicationQuerySet.for_display = lambda self: self  # type: ignore[method-assign]
    client = Client()
    start_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    seconds = []
    for _ in range(requests):
        started = time.perf_counter()
        response = client.get(f"/evidence/publications/{pk}/", secure=True, HTTP_HOST="localhost")
        seconds.append(time.perf_counter() - started)
        assert response.status_code == 200, response.status_code
    peak_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "mode": mode,
        "requests": requests,
        "median_seconds": round(statistics.median(seconds), 4),
        "max_seconds": round(max(seconds), 4),
        "rss_growth_mb": round((peak_rss - start_rss) / 1024, 1),
        "peak_rss_mb": round(peak_rss / 1024, 1),
        "page_bytes": len(response.content),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=200, help="Size of the abstract in MB.")
    parser.add_argument("--requests", type=int, default=8, help="Requests per mode.")
    parser.add_argument("--build", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--measure", choices=["deferred", "loaded"], help=argparse.SUPPRESS)
    parser.add_argument("--database", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--pk", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.build:
        print(json.dumps(build(args.database, args.mb)))
        return
    if args.measure:
        print(json.dumps(measure(args.database, args.pk, args.measure, args.requests)))
        return

    def run(*options: str) -> Any:
        # Each step in its own process started from this small one: Linux carries a parent's
        # peak RSS over into a forked child's ru_maxrss, so the build must not be the parent.
        output = subprocess.run(
            [sys.executable, __file__, *options], check=False, capture_output=True, text=True
        )
        if output.returncode:
            raise SystemExit(f"{options}: {output.stderr[-2000:]}")
        return json.loads(output.stdout.strip().splitlines()[-1])

    with tempfile.TemporaryDirectory() as directory:
        database = Path(directory) / "huge.sqlite3"
        pk = run("--build", "--database", str(database), "--mb", str(args.mb))
        results = [
            run("--measure", mode, "--database", str(database), "--pk", str(pk),
                "--requests", str(args.requests))
            for mode in ("deferred", "loaded")
        ]  # fmt: skip
    report = {
        "abstract_mb": args.mb,
        "machine": f"{platform.machine()} {platform.python_version()}",
        "results": results,
    }
    out = ROOT / "bench" / "results" / "huge_record.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
