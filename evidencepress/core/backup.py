"""Online backups and restores of the database (docs/security.md, "Backup and restore").

SQLite: `sqlite3.Connection.backup` copies a consistent snapshot while the site keeps
writing (WAL readers never block writers); a plain `cp` of a live database can copy a torn
file and misses the `-wal` file. PostgreSQL: `pg_dump -Fc` / `pg_restore`. Backup files are
created with mode 0600 (they hold personal data, encrypted or not) and checked after writing.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .exceptions import BackupError

PRIVATE_FILE = 0o600
PRIVATE_DIR = 0o700


@dataclass(frozen=True)
class BackupResult:
    path: Path
    size_bytes: int
    engine: str
    check: str  # "ok" from PRAGMA integrity_check, or the pg_restore --list entry count


def default_backup_path(
    var_dir: Path, alias: str, engine: str, now: datetime | None = None
) -> Path:
    """var/backups/<alias>-<UTC time>.sqlite3 (or .dump for PostgreSQL)."""
    stamp = (now or datetime.now(tz=UTC)).strftime("%Y%m%dT%H%M%SZ")
    suffix = ".sqlite3" if engine == "sqlite" else ".dump"
    return var_dir / "backups" / f"{alias}-{stamp}{suffix}"


def _private_parent(path: Path) -> None:
    if not path.parent.exists():
        path.parent.mkdir(parents=True, mode=PRIVATE_DIR)


def _create_private_file(path: Path) -> None:
    """Create an empty file readable by the owner only; refuse to overwrite."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
    except FileExistsError as exc:
        raise BackupError(f"{path} already exists; choose another --output") from exc
    os.close(fd)


def sqlite_integrity(path: Path) -> str:
    """PRAGMA integrity_check of a SQLite file ("ok" when sound)."""
    try:
        conn = sqlite3.connect(path, timeout=30)
        try:
            rows = conn.execute("PRAGMA integrity_check").fetchall()
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{path} is not a readable SQLite database: {exc}") from exc
    return "; ".join(str(row[0]) for row in rows)


def sqlite_backup(*, source: Path, output: Path) -> BackupResult:
    """Copy a live SQLite database to `output` (mode 0600) and check the copy.

    One backup step (pages=-1) reads a single consistent snapshot; concurrent writers carry on
    in the WAL. The copy is written beside the target and renamed only after it passed
    `PRAGMA integrity_check`, so a failed run never leaves a file that looks like a backup.
    """
    if not source.exists():
        raise BackupError(f"database file {source} does not exist")
    _private_parent(output)
    partial = output.with_name(output.name + ".partial")
    _create_private_file(partial)
    try:
        src = sqlite3.connect(source, timeout=30)
        dst = sqlite3.connect(partial)
        try:
            src.backup(dst, pages=-1)
            dst.execute("PRAGMA journal_mode=DELETE")
        finally:
            dst.close()
            src.close()
        check = sqlite_integrity(partial)
        if check != "ok":
            raise BackupError(f"the backup failed PRAGMA integrity_check: {check}")
        if output.exists():
            raise BackupError(f"{output} already exists; choose another --output")
        os.replace(partial, output)
    finally:
        partial.unlink(missing_ok=True)
    os.chmod(output, PRIVATE_FILE)
    return BackupResult(output, output.stat().st_size, "sqlite", check)


def sqlite_has_tables(path: Path) -> bool:
    """True when the database file exists and holds at least one table."""
    if not path.exists() or path.stat().st_size == 0:
        return False
    conn = sqlite3.connect(path, timeout=30)
    try:
        row = conn.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table'").fetchone()
    finally:
        conn.close()
    return bool(row[0])


def sqlite_restore(*, backup: Path, target: Path) -> BackupResult:
    """Replace the contents of the SQLite database `target` with the backup file.

    Uses the backup API in the other direction (so the target's WAL is handled by SQLite, not
    by file copies) and checks the result. The caller decides whether overwriting is allowed.
    """
    check = sqlite_integrity(backup)
    if check != "ok":
        raise BackupError(f"{backup} failed PRAGMA integrity_check: {check}")
    _private_parent(target)
    if not target.exists():
        _create_private_file(target)
    src = sqlite3.connect(backup, timeout=30)
    dst = sqlite3.connect(target, timeout=30)
    try:
        src.backup(dst, pages=-1)
    finally:
        dst.close()
        src.close()
    result = sqlite_integrity(target)
    if result != "ok":
        raise BackupError(f"the restored database failed PRAGMA integrity_check: {result}")
    return BackupResult(target, target.stat().st_size, "sqlite", result)


def _pg_env(config: dict[str, Any]) -> dict[str, str]:
    env = dict(os.environ)
    for key, name in (
        ("HOST", "PGHOST"),
        ("PORT", "PGPORT"),
        ("USER", "PGUSER"),
        ("PASSWORD", "PGPASSWORD"),
    ):
        if config.get(key):
            env[name] = str(config[key])
    return env


def _pg_tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupError(f"{name} is not on PATH (install the PostgreSQL client tools)")
    return path


def postgres_backup(*, config: dict[str, Any], output: Path) -> BackupResult:
    """`pg_dump -Fc` of the database into `output` (mode 0600), then list it to check it."""
    _private_parent(output)
    _create_private_file(output)
    dump = [_pg_tool("pg_dump"), "-Fc", "--no-owner", "-f", str(output), str(config["NAME"])]
    done = subprocess.run(dump, env=_pg_env(config), capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode != 0:
        output.unlink(missing_ok=True)
        raise BackupError(f"pg_dump failed: {done.stderr.strip()}")
    listing = subprocess.run(  # noqa: S603
        [_pg_tool("pg_restore"), "--list", str(output)], capture_output=True, text=True, check=False
    )
    if listing.returncode != 0:
        raise BackupError(f"pg_restore --list cannot read the dump: {listing.stderr.strip()}")
    entries = sum(1 for line in listing.stdout.splitlines() if line and not line.startswith(";"))
    os.chmod(output, PRIVATE_FILE)
    return BackupResult(output, output.stat().st_size, "postgresql", f"{entries} entries")


def postgres_restore(*, config: dict[str, Any], backup: Path) -> BackupResult:
    """`pg_restore --clean --if-exists` the dump into the configured database."""
    command = [
        _pg_tool("pg_restore"),
        "--clean",
        "--if-exists",
        "--no-owner",
        "--exit-on-error",
        "-d",
        str(config["NAME"]),
        str(backup),
    ]
    done = subprocess.run(command, env=_pg_env(config), capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode != 0:
        raise BackupError(f"pg_restore failed: {done.stderr.strip()}")
    return BackupResult(backup, backup.stat().st_size, "postgresql", "restored")
