"""Import benchmark: records/s and peak memory on a 30,000-record baseline-style file.

    python bench/ingest.py [--records 30000] [--repeat 5]

Measures, each in its own subprocess (so peak RSS is that measurement's own):
  (a) floor    - bare lxml iterparse over PubmedArticle end events, clearing each record
  (b) parser   - EvidencePress's MEDLINE XML parser alone (every field extracted)
  (c) import   - the full import into an empty SQLite database (production settings)
  (d) reimport - importing the same file again into that database (all duplicates)
(b), (c) and (d) run as `parse_path` and `import_literature` do: a file this large is read by
forked reader processes in parallel, while the importing process writes (literature/pipeline.py).
Their peak memory counts the readers too: it is the larger of the measured process's own peak RSS
and the largest total, sampled every 0.2 s, of the proportional set size (PSS) of the process and
its readers (pages a forked reader still shares with its parent count once, not once a process).
LITERATURE_READER_PROCESS_MIN_BYTES=off measures (c) and (d) in one process alone.
The median of `--repeat` runs is reported. Each run measures (a) before (b), between (b) and (c),
and after (d); each ratio compares a measurement with the mean of the two floors around it, and the
median of those paired ratios is reported. One untimed floor read comes first (a warm-up).
Written to bench/results/ingest.json.
Targets come from issue 2: b >= 0.5a, c >= 0.25a, d >= 0.5a, peak memory < 300 MB each.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "bench" / "data"
RESULTS = ROOT / "bench" / "results"
TARGETS = {"parser": 0.5, "import": 0.25, "reimport": 0.5}
MEMORY_LIMIT_MB = 300


def _readers(children: resource.struct_rusage) -> int:
    """How many reader processes this process forked and waited for (0 or pipeline.READERS)."""
    from evidencepress.literature import pipeline

    return pipeline.READERS if children.ru_maxrss else 0


def _peak_rss_mb() -> float:
    """Peak resident memory of this process. Linux reports KiB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _pss_mb(pid: int) -> float:
    """The proportional set size of a process and of its children, now (0 once they are gone)."""
    total = 0.0
    pids = [pid]
    while pids:
        current = pids.pop()
        try:
            rollup = Path(f"/proc/{current}/smaps_rollup").read_text()
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
        except OSError:
            continue
        for line in rollup.splitlines():
            if line.startswith("Pss:"):
                total += int(line.split()[1]) / 1024
        pids += [int(child) for child in children]
    return total


def _measure_floor(path: Path) -> int:
    from lxml import etree

    count = 0
    for _event, element in etree.iterparse(
        str(path),
        events=("end",),
        tag="PubmedArticle",
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
    ):
        count += 1
        element.clear()
        while element.getprevious() is not None:
            del element.getparent()[0]
    return count


def _measure_parser(path: Path) -> int:
    from evidencepress.literature.parsers import parse_path
    from evidencepress.literature.records import ParsedRecord

    return sum(1 for item in parse_path(path) if isinstance(item, ParsedRecord))


def _production_env(database: Path) -> dict[str, str]:
    """Production settings on a throwaway database, with throwaway secrets (bench only)."""
    return {
        "DJANGO_SETTINGS_MODULE": "evidencepress.settings.production",
        "DATABASE_URL": f"sqlite:///{database}",
        "DJANGO_SECRET_KEY": os.environ.get("DJANGO_SECRET_KEY", "bench-only-" + "x" * 50),
        "ALLOWED_HOSTS": os.environ.get("ALLOWED_HOSTS", "localhost"),
        # A fixed Fernet key (32 bytes, base64): the benchmark stores no summary requests.
        "SUMMARIES_ENCRYPTION_KEYS": base64.urlsafe_b64encode(
            b"bench-only-key-" + b"0" * 17
        ).decode(),
    }


def _django_setup(database: Path) -> None:
    os.environ.update(_production_env(database))
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def _measure_import(path: Path) -> tuple[int, dict[str, Any]]:
    from evidencepress.evidence.models import Topic
    from evidencepress.literature.importer import import_path

    topic = Topic.objects.get(slug="bench")
    result = import_path(path, topic=topic)
    counts: dict[str, Any] = {
        "new": result.new,
        "updated": result.updated,
        "duplicates": result.duplicates,
        "rejected": result.rejected,
    }
    return result.new + result.updated + result.duplicates, counts


def child(kind: str, path: Path, database: Path | None) -> None:
    """Run one measurement and print it as JSON (called in a subprocess)."""
    sys.path.insert(0, str(ROOT))
    extra: dict[str, Any] = {}
    if kind in ("import", "reimport"):
        assert database is not None
        _django_setup(database)  # Django start-up is not part of the measured time
    # Memory already held before the measured work (for import: Django and every installed app).
    extra["rss_before_mb"] = round(_peak_rss_mb(), 1)
    faults_before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    started = time.perf_counter()
    if kind == "floor":
        records = _measure_floor(path)
    elif kind == "parser":
        records = _measure_parser(path)
    else:
        records, counts = _measure_import(path)
        extra.update(counts)
    seconds = time.perf_counter() - started
    own = resource.getrusage(resource.RUSAGE_SELF)
    readers = resource.getrusage(resource.RUSAGE_CHILDREN)  # the reader processes, once reaped
    extra["reader_processes"] = _readers(readers)
    # CPU seconds of this process and of its readers: where the time went, across both cores.
    extra["cpu_self_s"] = round(own.ru_utime + own.ru_stime, 2)
    extra["cpu_readers_s"] = round(readers.ru_utime + readers.ru_stime, 2)
    # Page faults (minor: a fresh page mapped in) of the measured work and of the readers: memory
    # the C library hands back and takes again costs one per 4 KiB (pipeline._keep_freed_memory).
    extra["page_faults_self"] = own.ru_minflt - faults_before
    extra["page_faults_readers"] = readers.ru_minflt
    extra["largest_reader_peak_rss_mb"] = round(readers.ru_maxrss / 1024, 1)  # Linux: KiB
    print(
        json.dumps(
            {
                "records": records,
                "seconds": seconds,
                "peak_rss_mb": _peak_rss_mb(),
                **extra,
            }
        )
    )


def _run_child(kind: str, path: Path, database: Path | None = None) -> dict[str, Any]:
    command = [sys.executable, __file__, "--child", kind, "--file", str(path)]
    if database is not None:
        command += ["--database", str(database)]
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        process = subprocess.Popen(command, stdout=out, stderr=err, text=True, cwd=ROOT)
        peak_pss = 0.0
        while process.poll() is None:
            peak_pss = max(peak_pss, _pss_mb(process.pid))
            time.sleep(0.2)
        out.seek(0)
        err.seek(0)
        if process.returncode:
            raise subprocess.CalledProcessError(process.returncode, command, out.read(), err.read())
        result: dict[str, Any] = json.loads(out.read().strip().splitlines()[-1])
    result["peak_pss_total_mb"] = round(peak_pss, 1)
    result["peak_memory_mb"] = max(result["peak_rss_mb"], peak_pss)
    return result


def _empty_database(directory: Path) -> Path:
    """Migrate a fresh SQLite database once and add the benchmark topic; copies are reused."""
    template = directory / "template.sqlite3"
    env = {**os.environ, **_production_env(template)}
    manage = [sys.executable, str(ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "--noinput", "-v", "0"], check=True, env=env, cwd=ROOT)
    code = (
        "from evidencepress.evidence.models import Topic; "
        "Topic.objects.create(name='Benchmark', slug='bench', treatment='t', condition='c')"
    )
    subprocess.run([*manage, "shell", "--no-imports", "-c", code], check=True, env=env, cwd=ROOT)
    # Fold the WAL into the main file so that a copy of the .sqlite3 file is complete.
    import sqlite3

    with sqlite3.connect(template) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return template


def _copy_database(source: Path, target: Path) -> Path:
    for suffix in ("-wal", "-shm"):
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    shutil.copyfile(source, target)
    return target


def _bracketed(before: dict[str, Any], after: dict[str, Any]) -> float:
    """The floor for a measurement taken between two floor runs: the mean of their seconds."""
    return (float(before["seconds"]) + float(after["seconds"])) / 2


def _summary(runs: list[dict[str, Any]]) -> dict[str, Any]:
    seconds = statistics.median(r["seconds"] for r in runs)
    records = runs[0]["records"]
    summary: dict[str, Any] = {
        "records": records,
        "seconds_median": round(seconds, 3),
        "seconds_all": [round(r["seconds"], 3) for r in runs],
        "records_per_second": round(records / seconds, 1),
        "peak_memory_mb": round(max(r["peak_memory_mb"] for r in runs), 1),
        "peak_rss_mb": round(max(r["peak_rss_mb"] for r in runs), 1),
        "peak_pss_total_mb": round(max(r["peak_pss_total_mb"] for r in runs), 1),
    }
    summary["rss_before_mb"] = round(max(r.get("rss_before_mb", 0.0) for r in runs), 1)
    summary["largest_reader_peak_rss_mb"] = max(r["largest_reader_peak_rss_mb"] for r in runs)
    for key in ("cpu_self_s", "cpu_readers_s", "page_faults_self", "page_faults_readers"):
        summary[f"{key}_median"] = statistics.median(r[key] for r in runs)
    for key in ("reader_processes", "new", "updated", "duplicates", "rejected"):
        if key in runs[0]:
            summary[key] = runs[0][key]
    return summary


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--records", type=int, default=30_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--child", choices=("floor", "parser", "import", "reimport"))
    parser.add_argument("--file", type=Path)
    parser.add_argument("--database", type=Path)
    parser.add_argument("--out", type=Path, default=RESULTS / "ingest.json")
    args = parser.parse_args()
    if args.child:
        child(args.child, args.file, args.database)
        return 0

    sys.path.insert(0, str(ROOT))
    from bench.generate_medline import write

    path = DATA / f"baseline-{args.records}.xml"
    if not path.exists():
        print(f"generating {path} ...", file=sys.stderr)
        write(path, count=args.records)
    runs: dict[str, list[dict[str, Any]]] = {
        k: [] for k in ("floor", "parser", "import", "reimport")
    }
    # The floor each measurement is compared with, one per run: the mean of the floors measured
    # just before and just after it (see _bracketed).
    floors: dict[str, list[float]] = {kind: [] for kind in TARGETS}
    with tempfile.TemporaryDirectory(prefix="ep-bench-") as tmp:
        directory = Path(tmp)
        template = _empty_database(directory)
        _run_child("floor", path)  # warm-up, not counted: the file in the page cache for all
        for attempt in range(args.repeat):
            before = _run_child("floor", path)
            runs["parser"].append(_run_child("parser", path))
            between = _run_child("floor", path)
            database = _copy_database(template, directory / f"run{attempt}.sqlite3")
            runs["import"].append(_run_child("import", path, database))
            runs["reimport"].append(_run_child("reimport", path, database))
            after = _run_child("floor", path)
            runs["floor"] += [before, between, after]
            floors["parser"].append(_bracketed(before, between))
            floors["import"].append(_bracketed(between, after))
            floors["reimport"].append(_bracketed(between, after))
            print(
                f"run {attempt + 1}/{args.repeat}: floor "
                + "/".join(f"{r['seconds']:.2f}" for r in (before, between, after))
                + "s, "
                + ", ".join(f"{k} {runs[k][-1]['seconds']:.2f}s" for k in TARGETS),
                file=sys.stderr,
            )
    results = {kind: _summary(values) for kind, values in runs.items()}
    checks = {}
    quickest = min(r["seconds"] for r in runs["floor"])  # for the pessimistic figure below
    for kind, target in TARGETS.items():
        # Paired ratios: each measurement against the floor measured around it, then the median.
        # The machine is shared and its speed drifts within minutes (the floor alone took 2.5-4.7 s
        # within one run); a ratio of medians taken at different moments is noisier.
        paired = [f / r["seconds"] for f, r in zip(floors[kind], runs[kind], strict=True)]
        ratio = statistics.median(paired)
        results[kind]["ratio_to_floor"] = round(ratio, 3)
        results[kind]["ratio_to_floor_each_run"] = [round(x, 3) for x in paired]
        results[kind]["floor_seconds_each_run"] = [round(x, 3) for x in floors[kind]]
        # A pessimistic figure beside it: the quickest floor of the whole run against the median.
        results[kind]["ratio_quickest_floor_to_median"] = round(
            quickest / results[kind]["seconds_median"], 3
        )
        checks[kind] = {
            "target_ratio": target,
            "ratio": round(ratio, 3),
            "met": ratio >= target,
        }
    for kind, values in results.items():
        checks[f"{kind}_memory"] = {
            "limit_mb": MEMORY_LIMIT_MB,
            "peak_memory_mb": values["peak_memory_mb"],
            "met": values["peak_memory_mb"] < MEMORY_LIMIT_MB,
        }
    report = {
        "benchmark": "ingest",
        "file": {
            "name": path.name,
            "records": args.records,
            "bytes": path.stat().st_size,
        },
        "repeat": args.repeat,
        "machine": {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
        },
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "results": results,
        "targets": checks,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    for kind, values in results.items():
        ratio = values.get("ratio_to_floor", 1.0)
        print(
            f"{kind:9s} {values['records_per_second']:>10,.0f} records/s  "
            f"ratio {ratio:5.2f}  peak {values['peak_memory_mb']:6.1f} MB"
        )
    missed = [k for k, v in checks.items() if not v["met"]]
    print("targets: " + ("all met" if not missed else "missed " + ", ".join(missed)))
    print(f"written to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
