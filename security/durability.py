"""Crash durability of acknowledged writes (plan G2, nightly): kill -9 a writer, lose nothing.

A child process inserts rows into a SQLite database with the production pragmas (WAL,
synchronous=FULL, IMMEDIATE transactions) and prints each row's id only after COMMIT
returned. The parent kills it with SIGKILL at a random moment, then checks that every id the
child acknowledged is in the database and that PRAGMA integrity_check is "ok".

    python security/durability.py [--runs 30] [--dir PATH]

Prints one JSON line with the figures; exit status 1 if any run lost a row.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PRAGMAS = "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA busy_timeout=20000;"

CHILD = """
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.executescript(sys.argv[2])
n = 0
while True:
    conn.execute("BEGIN IMMEDIATE")
    cur = conn.execute("INSERT INTO acked (payload) VALUES (?)", ("x" * 500,))
    conn.execute("COMMIT")
    print(cur.lastrowid, flush=True)
"""


def one_run(db: Path, rng: random.Random) -> dict[str, object]:
    child = subprocess.Popen(  # noqa: S603
        [sys.executable, "-c", CHILD, str(db), PRAGMAS], stdout=subprocess.PIPE, text=True
    )
    assert child.stdout is not None
    first = child.stdout.readline()  # the writer is up and has committed once
    time.sleep(rng.uniform(0.05, 0.6))
    os.kill(child.pid, signal.SIGKILL)
    out, _ = child.communicate()
    acked = {int(line) for line in (first + out).split() if line.isdigit()}
    conn = sqlite3.connect(db)
    try:
        stored = {row[0] for row in conn.execute("SELECT id FROM acked")}
        check = conn.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        conn.close()
    return {"acked": len(acked), "lost": len(acked - stored), "integrity": check}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30, help="Number of kill -9 runs.")
    parser.add_argument("--dir", type=Path, default=None, help="Where to put the database.")
    args = parser.parse_args()
    work = args.dir or Path(tempfile.mkdtemp(prefix="durability-"))
    db = work / "durability.sqlite3"
    with sqlite3.connect(db) as conn:
        conn.executescript(PRAGMAS)
        conn.execute("CREATE TABLE IF NOT EXISTS acked (id INTEGER PRIMARY KEY, payload TEXT)")
    rng = random.Random(20261125)  # noqa: S311 - timing jitter, not security
    runs = [one_run(db, rng) for _ in range(args.runs)]
    summary = {
        "runs": len(runs),
        "acknowledged_rows": sum(r["acked"] for r in runs),  # type: ignore[misc]
        "lost_rows": sum(r["lost"] for r in runs),  # type: ignore[misc]
        "integrity_failures": sum(r["integrity"] != "ok" for r in runs),
    }
    print(json.dumps(summary))
    return 0 if summary["lost_rows"] == 0 and summary["integrity_failures"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
