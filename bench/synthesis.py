"""Synthesis benchmark: one topic summary and its swimmer plot on 10,000 synthetic patients.

    python bench/synthesis.py [--patients 10000] [--publications 500] [--repeat 15]

Builds a throwaway SQLite database (production settings), fills topics of 100, 1,000 and 10,000
synthetic patients (marked is_demo: invented data), counts the SQL queries of one summary at each
size (the first, which reads every row, and a repeat, which reads rows from the row cache), then
measures on the largest: `topic_report` (selection + synthesis + appraisal + certainty + gaps),
the same with the row cache emptied before each run, and the swimmer plot. Wall-clock and CPU
medians are both recorded, with the load average: the machine may be shared.
Target (issue 3): summary under 100 ms median on 10,000 patients; constant query count.
Writes bench/results/synthesis.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
TARGET_MS = 100.0


def setup_django(database: Path) -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "evidencepress.settings.production"
    os.environ["DATABASE_URL"] = f"sqlite:///{database}"
    os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only-" + "x" * 50)
    os.environ.setdefault("ALLOWED_HOSTS", "localhost")
    if not os.environ.get("SUMMARIES_ENCRYPTION_KEYS"):
        from cryptography.fernet import Fernet

        # Production settings refuse to start without a key; the bench stores no requests.
        os.environ["SUMMARIES_ENCRYPTION_KEYS"] = Fernet.generate_key().decode()
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def fill(topic: Any, patients: int, publications: int, seed: int = 7) -> None:
    from decimal import Decimal

    from evidencepress.evidence.models import (
        AdverseEvent,
        Appraisal,
        Publication,
        ReportedPatient,
        Treatment,
    )

    rng = random.Random(seed)
    treatments = [
        Treatment.objects.get_or_create(slug=slug, defaults={"name": slug, "category": category})[0]
        for slug, category in (("radiotherapy-b", "radiotherapy"), ("paclitaxel-b", "chemotherapy"))
    ]
    pubs = Publication.objects.bulk_create(
        [
            Publication(
                title=f"Synthetic series {i}",
                title_normalized=f"synthetic series {i}",
                year=2000 + i % 25,
                is_demo=True,
            )
            for i in range(publications)
        ]
    )
    for pub in pubs:
        pub.topics.add(topic)
    Appraisal.objects.bulk_create(
        [Appraisal(publication=pub, demographics="yes", intervention="yes") for pub in pubs[::2]]
    )
    responses = ["complete", "partial", "stable", "progression", "unknown"]
    rows = []
    for i in range(patients):
        rows.append(
            ReportedPatient(
                publication=pubs[i % publications],
                topic=topic,
                label=f"Case {i}",
                is_demo=True,
                response=rng.choice(responses),
                setting=rng.choice(["scalp_face", "radiation", "unknown"]),
                follow_up_months=Decimal(rng.randint(1, 60)) if rng.random() < 0.8 else None,
                time_to_response_weeks=Decimal(rng.randint(2, 20)) if rng.random() < 0.5 else None,
                regimen_duration_weeks=Decimal(rng.randint(4, 24)) if rng.random() < 0.6 else None,
                regimen_strength="5% cream",
            )
        )
    created = ReportedPatient.objects.bulk_create(rows, batch_size=500)
    through = ReportedPatient.concurrent_treatments.through
    through.objects.bulk_create(
        [
            through(reportedpatient_id=p.pk, treatment_id=rng.choice(treatments).pk)
            for p in created[::5]
        ],
        batch_size=500,
    )
    AdverseEvent.objects.bulk_create(
        [
            AdverseEvent(patient=p, kind="Local skin reaction", severity="mild")
            for p in created[::3]
        ],
        batch_size=500,
    )


def timed(function: Any, repeat: int, before: Any = None) -> dict[str, Any]:
    """Median wall-clock and CPU milliseconds of `function` over `repeat` runs."""
    wall, cpu = [], []
    for _ in range(repeat):
        if before is not None:
            before()
        started, started_cpu = time.perf_counter(), time.process_time()
        function()
        wall.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
    return {
        "median_ms": round(statistics.median(wall), 1),
        "median_cpu_ms": round(statistics.median(cpu), 1),
        "all_ms": [round(t, 1) for t in wall],
    }


def count_queries(function: Any) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        function()
    return len(captured.captured_queries)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--patients", type=int, default=10_000)
    parser.add_argument("--publications", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--out", type=Path, default=RESULTS / "synthesis.json")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ep-bench-synthesis-") as tmp:
        setup_django(Path(tmp) / "bench.sqlite3")
        from evidencepress.evidence.models import Topic
        from evidencepress.evidence.plots import swimmer_plot_svg
        from evidencepress.evidence.topic_reports import _report_cache, _row_cache, topic_report

        def forget() -> None:
            _row_cache.clear()
            _report_cache.clear()

        # Queries per summary, first (rows read) and repeated (rows from the row cache).
        queries: dict[str, dict[str, int]] = {}
        sizes = (100, 1_000, args.patients)
        for size in sizes:
            topic = Topic.objects.create(
                name=f"Bench {size}", slug=f"bench-{size}", treatment="t", condition="c"
            )
            fill(topic, size, max(1, size * args.publications // args.patients), seed=size)
            queries[str(size)] = {
                "first": count_queries(lambda topic=topic: topic_report(topic)),
                "repeated": count_queries(lambda topic=topic: topic_report(topic)),
            }
        counts = {(q["first"], q["repeated"]) for q in queries.values()}
        summary = timed(lambda: topic_report(topic), args.repeat)
        uncached = timed(lambda: topic_report(topic), max(3, args.repeat // 3), forget)
        report = topic_report(topic)
        from evidencepress.evidence.plots import _swimmer_svg

        plot = timed(lambda: swimmer_plot_svg(report.cases, title="Bench"), args.repeat)
        plot_first = timed(
            lambda: swimmer_plot_svg(report.cases, title="Bench"),
            max(3, args.repeat // 5),
            _swimmer_svg.cache_clear,
        )
        results: dict[str, Any] = {
            "summary": {
                **summary,
                "what": "topic_report: selection, synthesis, appraisal, certainty, gaps",
                "target_ms": TARGET_MS,
                "met": summary["median_ms"] < TARGET_MS,
                # Wall-clock time depends on what else the machine runs; CPU time much less.
                "cpu_under_target": summary["median_cpu_ms"] < TARGET_MS,
            },
            "summary_rows_not_cached": {
                **uncached,
                "what": "the same with the row and report caches emptied first (as after a "
                "restart): every row read, everything computed",
            },
            "queries_per_summary": queries,
            "queries_constant": len(counts) == 1,
            "swimmer_plot": {
                **plot,
                "what": "swimmer_plot_svg on the report's cases, repeated (drawn charts are kept)",
                "first_draw": plot_first,
                "patients": len(report.cases),
                "bars_drawn": min(len(report.cases), 80),
                "svg_bytes": len(swimmer_plot_svg(report.cases, title="Bench").encode()),
            },
        }
    document = {
        "benchmark": "synthesis",
        "patients": args.patients,
        "publications": args.publications,
        "repeat": args.repeat,
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "load_average_1min": round(os.getloadavg()[0], 2),
        },
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "results": results,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
