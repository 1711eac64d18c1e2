"""Deleted means gone from the database files, not only from the tables.

SQLite in WAL mode writes every change to the `-wal` file first and copies it into the
database file at a checkpoint. After a row is deleted, its old page images stay in the WAL
(and in the database file, until the checkpoint overwrites them) for as long as any other
connection holds a read transaction that began before the delete: SQLite keeps them so that
reader still sees its snapshot. Anyone who copies the files then holds the deleted row, and an
encrypted one is decryptable with the current key.

`PRAGMA secure_delete=ON` (settings.SQLITE_OPTIONS) makes SQLite zero the freed space in the
new page images; `scrub_deleted_rows` then waits for older readers to finish (up to
settings.ERASURE_CHECKPOINT_WAIT_SECONDS), copies every WAL frame into the database file and
truncates the WAL to zero bytes (`PRAGMA wal_checkpoint(TRUNCATE)`). Services that delete
personal data call `scrub_deleted_rows_on_commit()`.

PostgreSQL keeps a deleted row's tuple in the table until VACUUM reuses its space, and in the
WAL archive and backups: docs/security.md says what that means for erasure there.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections, transaction

logger = logging.getLogger(__name__)

DEFAULT_WAIT_SECONDS = 20.0


def scrub_deleted_rows(*, using: str = DEFAULT_DB_ALIAS, wait_seconds: float | None = None) -> bool:
    """Checkpoint and truncate SQLite's WAL so no deleted row survives in the files.

    Waits up to `wait_seconds` (default settings.ERASURE_CHECKPOINT_WAIT_SECONDS) for readers
    that began before the delete. Returns True when the WAL was emptied (or the database is not
    SQLite); False, with a warning logged, when a reader still held an old snapshot.
    """
    connection = connections[using]
    if connection.vendor != "sqlite":
        return True
    if connection.in_atomic_block:
        raise RuntimeError("scrub_deleted_rows runs after the deleting transaction commits.")
    if wait_seconds is None:
        wait_seconds = float(
            getattr(settings, "ERASURE_CHECKPOINT_WAIT_SECONDS", DEFAULT_WAIT_SECONDS)
        )
    try:
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA busy_timeout")
            (previous_timeout,) = cursor.fetchone()
            # TRUNCATE calls the busy handler while older readers finish: that is the wait.
            # Both PRAGMA values are int(): nothing to inject (PRAGMAs take no parameters).
            cursor.execute(f"PRAGMA busy_timeout={int(wait_seconds * 1000)}")  # nosemgrep
            try:
                cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                busy, _log_frames, _copied = cursor.fetchone()
            finally:
                cursor.execute(f"PRAGMA busy_timeout={int(previous_timeout)}")  # nosemgrep
    except DatabaseError as error:
        logger.warning("deleted rows may remain in the SQLite WAL: %s", type(error).__name__)
        return False
    if busy:
        logger.warning(
            "deleted rows remain in the SQLite WAL: a reader held an older snapshot for more "
            "than %s s; the next erasure or the daily purge removes them",
            wait_seconds,
        )
        return False
    return True


def scrub_deleted_rows_on_commit(*, using: str = DEFAULT_DB_ALIAS) -> None:
    """Run scrub_deleted_rows once the current transaction commits (never inside it)."""
    transaction.on_commit(lambda: scrub_deleted_rows(using=using), using=using)
