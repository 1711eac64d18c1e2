"""Online backup under load and the restore drill (G3, PR size); synchronous=FULL (G2)."""

from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection

from evidencepress.core import backup

ROOT = Path(__file__).resolve().parents[2]


def _writer(path: Path, stop: threading.Event, errors: list[str]) -> None:
    conn = sqlite3.connect(path, timeout=20, isolation_level=None)
    try:
        while not stop.is_set():
            conn.execute("BEGIN IMMEDIATE")
            conn.executemany(
                "INSERT INTO events (payload) VALUES (?)", [("x" * 200,) for _ in range(20)]
            )
            conn.execute("COMMIT")
    except sqlite3.Error as exc:  # any error here is a finding
        errors.append(repr(exc))
    finally:
        conn.close()


def test_backup_while_four_writers_insert(tmp_path: Path) -> None:
    source = tmp_path / "live.sqlite3"
    with sqlite3.connect(source) as conn:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("CREATE TABLE events (id INTEGER PRIMARY KEY, payload TEXT NOT NULL)")
    stop, errors = threading.Event(), []
    writers = [threading.Thread(target=_writer, args=(source, stop, errors)) for _ in range(4)]
    for thread in writers:
        thread.start()
    try:
        time.sleep(0.5)
        with sqlite3.connect(source) as conn:
            at_start = conn.execute("SELECT count(*) FROM events").fetchone()[0]
        result = backup.sqlite_backup(source=source, output=tmp_path / "backups" / "b.sqlite3")
        time.sleep(0.3)  # writers keep going after the backup
    finally:
        stop.set()
        for thread in writers:
            thread.join(timeout=30)
    assert errors == []
    assert at_start > 0
    assert result.check == "ok"
    assert backup.sqlite_integrity(result.path) == "ok"
    with sqlite3.connect(result.path) as conn:
        in_backup = conn.execute("SELECT count(*) FROM events").fetchone()[0]
    assert in_backup >= at_start
    assert stat.S_IMODE(result.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(result.path.parent.stat().st_mode) == 0o700
    assert not list(result.path.parent.glob("*.partial"))


def test_backup_refuses_to_overwrite_and_rejects_a_damaged_file(tmp_path: Path) -> None:
    source = tmp_path / "db.sqlite3"
    with sqlite3.connect(source) as conn:
        conn.execute("CREATE TABLE t (x)")
    target = tmp_path / "copy.sqlite3"
    backup.sqlite_backup(source=source, output=target)
    with pytest.raises(backup.BackupError, match="already exists"):
        backup.sqlite_backup(source=source, output=target)
    with pytest.raises(backup.BackupError, match="does not exist"):
        backup.sqlite_backup(source=tmp_path / "missing.sqlite3", output=tmp_path / "m.sqlite3")
    damaged = tmp_path / "damaged.sqlite3"
    damaged.write_bytes(b"SQLite format 3\x00" + b"\xff" * 4000)
    with pytest.raises(backup.BackupError):
        backup.sqlite_restore(backup=damaged, target=tmp_path / "fresh.sqlite3")


def _manage(*args: str, database: Path) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "evidencepress.settings.test",
        "DATABASE_URL": f"sqlite:///{database}",
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )


DRILL = """
import sys
from django.core.management import CommandError, call_command
from django.test import Client

backup_file = sys.argv[-1]
call_command("restore", backup_file)
page = Client().get("/").content.decode()
print("HOME", Client().get("/").status_code, "not medical advice" in page)
try:
    call_command("restore", backup_file)
except CommandError as exc:
    print("REFUSED", exc)
call_command("restore", backup_file, force=True)
"""


@pytest.mark.skipif(
    "postgres" in os.environ.get("DATABASE_URL", ""),
    reason="SQLite drill: on PostgreSQL `backup` writes a pg_dump archive (docs/security.md, G4)",
)
@pytest.mark.django_db(transaction=True)
def test_restore_drill_brings_back_a_working_site(tmp_path: Path) -> None:
    """Back up, restore into an empty database (a new process, as on a new server), serve
    the home page; a second restore is refused unless forced."""
    from evidencepress.demo.loader import ensure_home_page

    ensure_home_page()
    backup_file = tmp_path / "drill.sqlite3"
    call_command("backup", output=backup_file)
    assert stat.S_IMODE(backup_file.stat().st_mode) == 0o600

    script = tmp_path / "drill.py"
    script.write_text(DRILL)
    fresh = tmp_path / "fresh" / "db.sqlite3"
    drill = _manage(
        "shell",
        "-c",
        f"import sys; sys.argv.append({str(backup_file)!r}); exec(open({str(script)!r}).read())",
        database=fresh,
    )
    assert drill.returncode == 0, drill.stderr
    assert "HOME 200 True" in drill.stdout, drill.stdout + drill.stderr
    assert "REFUSED" in drill.stdout and "already holds tables" in drill.stdout
    assert drill.stdout.count("check ok") == 2  # the first restore and the forced one


@pytest.mark.django_db
def test_the_database_holding_requests_syncs_fully_on_every_connection() -> None:
    """synchronous=FULL on the live connection the app uses and on a new one in a thread."""
    if connection.vendor != "sqlite":
        pytest.skip("SQLite pragmas only apply to SQLite")
    from django.db import connections

    with connection.cursor() as cursor:
        cursor.execute("PRAGMA synchronous")
        assert cursor.fetchone()[0] == 2
    seen: list[int] = []

    def other_thread() -> None:
        with connections["default"].cursor() as cursor:
            cursor.execute("PRAGMA synchronous")
            seen.append(cursor.fetchone()[0])
        connections["default"].close()

    thread = threading.Thread(target=other_thread)
    thread.start()
    thread.join()
    assert seen == [2]
