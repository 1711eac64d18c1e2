"""An import killed with SIGKILL midway leaves the database as it was; a re-run completes it.

Runs the real `import_literature` command in a subprocess against its own SQLite file (WAL mode,
as in production), so it checks process-level atomicity whatever database the suite runs on.
"""

from __future__ import annotations

import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def counts(db: Path) -> tuple[int, int, int, str]:
    with sqlite3.connect(db) as conn:
        pubs = conn.execute("select count(*) from evidence_publication").fetchone()[0]
        batches = conn.execute("select count(*) from literature_importbatch").fetchone()[0]
        links = conn.execute("select count(*) from evidence_publication_topics").fetchone()[0]
        integrity = conn.execute("pragma integrity_check").fetchone()[0]
    return pubs, batches, links, integrity


def content_version_triggers(db: Path) -> int:
    """The content-version triggers on the two tables an import writes (an import pauses them)."""
    with sqlite3.connect(db) as conn:
        found = conn.execute(
            "select count(*) from sqlite_master where type = 'trigger' "
            "and name like 'ep\\_cv\\_evidence\\_publication%' escape '\\'"
        ).fetchone()[0]
    return int(found)


def generate(path: Path, records: int, seed: int) -> None:
    subprocess.run(
        [
            sys.executable,
            "bench/generate_medline.py",
            "--records",
            str(records),
            "--out",
            str(path),
            "--seed",
            str(seed),
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
        timeout=300,
    )


def test_sigkill_midway_then_rerun_completes_exactly(tmp_path: Path) -> None:
    db = tmp_path / "kill.sqlite3"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "evidencepress.settings.test",
        "DATABASE_URL": f"sqlite:///{db}",
        "PYTHONUNBUFFERED": "1",
    }
    assert manage(env, "migrate", "--noinput").returncode == 0
    create_topic = (
        "from evidencepress.evidence.models import Topic; "
        "Topic.objects.create(name='T', slug='t', treatment='x', condition='y')"
    )
    assert manage(env, "shell", "-c", create_topic).returncode == 0

    small, big = tmp_path / "small.xml", tmp_path / "big.xml"
    generate(small, 50, seed=1)
    generate(big, 12_000, seed=2)
    first = manage(env, "import_literature", str(small), "--topic", "t", "--no-progress")
    assert first.returncode == 0, first.stderr
    before = counts(db)
    assert before == (50, 1, 50, "ok")

    proc = subprocess.Popen(
        [sys.executable, "manage.py", "import_literature", str(big), "--topic", "t"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    assert proc.stderr is not None
    seen = b""
    deadline = time.monotonic() + 240
    # Wait until at least 3,000 records were written inside the open transaction, then kill.
    while time.monotonic() < deadline:
        chunk = os.read(proc.stderr.fileno(), 4096)
        if not chunk:
            break
        seen += chunk
        progress = [int(n) for n in re.findall(rb"(\d+) records", seen)]
        if progress and max(progress) >= 3000:
            break
    assert proc.poll() is None, "the import finished before it could be killed"
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL

    assert counts(db) == before  # nothing of the killed run is visible, and the file is intact
    assert content_version_triggers(db) == 6  # insert, update, delete on both tables

    rerun = manage(env, "import_literature", str(big), "--topic", "t", "--no-progress")
    assert rerun.returncode == 0, rerun.stderr
    assert rerun.stdout.strip().splitlines()[-1] == (
        "new 12000, updated 0, duplicates 0, rejected 0"
    )
    assert counts(db) == (12_050, 2, 12_050, "ok")

    again = manage(env, "import_literature", str(big), "--topic", "t", "--no-progress")
    assert again.stdout.strip().splitlines()[-1] == (
        "new 0, updated 0, duplicates 12000, rejected 0"
    )
    assert counts(db)[0] == 12_050
