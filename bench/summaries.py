"""Summary-drafting benchmark: one tailored draft against a topic of 10,000 reported patients.

    python bench/summaries.py [--patients 10000] [--publications 500] [--repeat 15]

Builds a throwaway SQLite database (production settings) and fills one topic with synthetic
publications and patients (`bench/synthesis.py`'s fill(); all marked is_demo: invented data),
gives them varied sites, depths, sizes and surgery answers so that matching has work to do, and
stores the side-effect facts of `evidencepress/demo/data/facts.json` on a synthetic source.
Then it measures the median time of `summaries.evidence_inputs.draft_for_topic` (select the
cases, synthesise, match, synthesise the matches, draft, grade) for a short and a detailed
request, the pure part alone, and the SQL queries per draft at several sizes (must not grow).
Target (issue 4): a draft in under 200 ms median on 10,000 patients.
Writes bench/results/summaries.json.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.synthesis import fill, setup_django  # noqa: E402

RESULTS = ROOT / "bench" / "results"
TARGET_MS = 200.0
SITES = ("scalp", "forehead", "nose", "cheek", "breast", "chest wall", "upper arm", "")
DEPTHS = ("superficial", "nodular", "deep", "widespread", "unknown")


def vary_cases(topic: Any, seed: int = 11) -> None:
    """Give the synthetic cases the features matching compares (fill() leaves them empty)."""
    from evidencepress.evidence.models import ReportedPatient

    rng = random.Random(seed)
    patients = list(ReportedPatient.objects.filter(topic=topic).order_by("pk"))
    for patient in patients:
        patient.site = rng.choice(SITES)
        patient.lesion_depth = rng.choice(DEPTHS)
        patient.lesion_size_mm = rng.randint(5, 120) if rng.random() < 0.8 else None
        patient.surgery_candidate = rng.choice((True, False, None))
        patient.regimen_frequency_per_week = rng.choice((3, 5, 7, None))
    ReportedPatient.objects.bulk_update(
        patients,
        [
            "site",
            "lesion_depth",
            "lesion_size_mm",
            "surgery_candidate",
            "regimen_frequency_per_week",
        ],
        batch_size=500,
    )


def add_facts(topic: Any) -> int:
    """The demo's sourced facts, on one synthetic (is_demo) source, for the bench topic."""
    from evidencepress.evidence.models import EvidenceFact, Publication

    source = Publication.objects.create(
        title="Synthetic fact source", title_normalized="synthetic fact source", is_demo=True
    )
    records = json.loads((ROOT / "evidencepress/demo/data/facts.json").read_text("utf-8"))
    skip = {"key", "topic", "publication"}
    EvidenceFact.objects.bulk_create(
        [
            EvidenceFact(
                topic=topic,
                publication=source,
                key=record["key"],
                **{k: v for k, v in record.items() if k not in skip},
            )
            for record in records
        ]
    )
    return len(records)


def timed(function: Any, repeat: int) -> tuple[float, list[float]]:
    """Median wall time in ms, and every run's."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), times


def cpu_timed(function: Any, repeat: int) -> float:
    """Median CPU time of this process, in ms: less swayed than wall time on a busy machine."""
    times = []
    for _ in range(repeat):
        started = time.process_time()
        function()
        times.append((time.process_time() - started) * 1000)
    return statistics.median(times)


def new_topic(slug: str) -> Any:
    from evidencepress.evidence.models import Topic

    definition = json.loads(
        (ROOT / "evidencepress/demo/data/topics/imiquimod-angiosarcoma.json").read_text("utf-8")
    )
    fields: dict[str, Any] = {
        "name": f"Bench {slug}",
        "slug": slug,
        "treatment": "Imiquimod",
        "condition": "Cutaneous angiosarcoma",
    }
    if any(f.name == "definition" for f in Topic._meta.get_fields()):
        fields["definition"] = definition
    topic = Topic.objects.create(**fields)
    # Drafting reads the definition from the topic object (`definition_for`): set on the object
    # too, for a checkout whose Topic does not store one yet.
    topic.definition = definition
    return topic


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--patients", type=int, default=10_000, help="patients in the topic")
    parser.add_argument("--publications", type=int, default=500, help="publications they are in")
    parser.add_argument("--repeat", type=int, default=15, help="timed drafts per measurement")
    parser.add_argument("--out", type=Path, default=RESULTS / "summaries.json", help="results")
    args = parser.parse_args()
    # Production settings need an encryption key; the benchmark stores no summary requests.
    os.environ.setdefault(
        "SUMMARIES_ENCRYPTION_KEYS",
        base64.urlsafe_b64encode(b"bench-only-key-" + b"0" * 17).decode(),
    )
    with tempfile.TemporaryDirectory(prefix="ep-bench-summaries-") as tmp:
        setup_django(Path(tmp) / "bench.sqlite3")
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        from evidencepress.evidence.synthesis import synthesise
        from evidencepress.evidence.topic_reports import topic_report
        from evidencepress.summaries.drafting import draft_summary
        from evidencepress.summaries.evidence_inputs import draft_for_topic, draft_inputs
        from evidencepress.summaries.matching import Situation, match_cases

        short = Situation(
            setting="scalp_face",
            site="scalp",
            lesion_size_mm=15,
            lesion_count=1,
            lesion_depth="superficial",
            surgery_possible=False,
            prior_treatments=(),
            current_treatments=("paclitaxel-b",),
            question="What dose should I use?",
            detail="short",
        )
        detailed = replace(short, detail="detailed")

        queries: dict[str, int] = {}
        for size in (100, 1_000):
            small = new_topic(f"q{size}")
            fill(small, size, max(1, size // 20), seed=size)
            vary_cases(small, seed=size)
            add_facts(small)
            with CaptureQueriesContext(connection) as captured:
                draft_for_topic(small, short)
            queries[str(size)] = len(captured.captured_queries)

        topic = new_topic("bench")
        fill(topic, args.patients, args.publications)
        vary_cases(topic)
        facts = add_facts(topic)
        with CaptureQueriesContext(connection) as captured:
            draft = draft_for_topic(topic, detailed)
        queries[str(args.patients)] = len(captured.captured_queries)

        short_ms, short_all = timed(lambda: draft_for_topic(topic, short), args.repeat)
        detailed_ms, detailed_all = timed(lambda: draft_for_topic(topic, detailed), args.repeat)
        report_ms, _ = timed(lambda: topic_report(topic), args.repeat)
        report = topic_report(topic)
        inputs = draft_inputs(report, detailed)

        def pure() -> None:
            matches = match_cases(detailed, report.cases, inputs.definition)
            synthesise([m.case for m in matches])
            draft_summary(detailed, inputs)

        pure_ms, _ = timed(pure, args.repeat)
        cpu_ms = cpu_timed(lambda: draft_for_topic(topic, detailed), args.repeat)
        results: dict[str, Any] = {
            "draft_short": {
                "median_ms": round(short_ms, 1),
                "all_ms": [round(t, 1) for t in short_all],
                "target_ms": TARGET_MS,
                "met": short_ms < TARGET_MS,
            },
            "draft_detailed": {
                "median_ms": round(detailed_ms, 1),
                "all_ms": [round(t, 1) for t in detailed_all],
                "target_ms": TARGET_MS,
                "met": detailed_ms < TARGET_MS,
            },
            "draft_detailed_cpu_median_ms": round(cpu_ms, 1),
            "of_which_topic_report_median_ms": round(report_ms, 1),
            "of_which_match_synthesise_draft_median_ms": round(pure_ms, 1),
            "matched_cases": len(draft.matches),
            "facts": facts,
            "draft_grade": round(draft.grade, 1),
            "queries_per_draft": queries,
            "queries_constant": len(set(queries.values())) == 1,
        }
    document = {
        "benchmark": "summaries",
        "patients": args.patients,
        "publications": args.publications,
        "repeat": args.repeat,
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "load_average_1_5_15": [round(x, 1) for x in os.getloadavg()],
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
