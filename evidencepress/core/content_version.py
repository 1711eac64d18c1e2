"""Versions of the published content, kept by database triggers, for exact cache keys.

Pages show live evidence: a topic's report, its plots and an article's references are computed
from many rows, and one edit anywhere (a case, an adverse event, a publication, an image, a
clinician, a page) can change what a page says. Rather than re-reading every row on every
request to prove nothing changed, the database keeps one row per watched table in
`core_contentversion` (`table_name`, `epoch`, `version`), and a trigger on each watched table
adds 1 to its row's `version` after every insert, update or delete (and truncate on
PostgreSQL). Caches key what they compute on the versions of the tables it is read from:

- Triggers fire for every kind of write: the ORM, `bulk_create`, `QuerySet.update()`, the
  importer's raw SQL, `loaddata`, a restore, a manual `sqlite3` session. On SQLite a bulk import
  bumps the two tables it fills once each, in its own transaction, instead of once a row
  (`one_bump_per_table`).
- The versions are read in the reader's own snapshot, so a key never names content that was
  not committed, and a rolled-back change rolls its increment back with it.
- `epoch` is random and set when a row is (re)created, so a database that was emptied (test
  flushes) or replaced by another one never repeats an earlier key.

Reading costs one small query. Inside a transaction (`connection.in_atomic_block`)
`current_version()` returns None and callers must not cache: the rows may still roll back.

Watched: every table of the `evidence` and `articles` apps (including many-to-many tables) and
Wagtail's pages, sites, images and documents. A migration installs the triggers
(`core/migrations/0002_content_version.py`); a new model in those apps needs a migration that
calls `install_triggers` again (tests/core/test_content_version.py fails until it has one).
"""

from __future__ import annotations

import functools
import re
import secrets
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

from django.db import connections

TRIGGER_PREFIX = "ep_cv_"
WATCHED_APPS = ("evidence", "articles")
WATCHED_WAGTAIL_TABLES = (
    "wagtailcore_page",
    "wagtailcore_site",
    "wagtailimages_image",
    "wagtaildocs_document",
)

Version = tuple[tuple[str, str, int], ...]
T = TypeVar("T")

_SQLITE_BUMP = (
    "INSERT INTO core_contentversion (table_name, epoch, version) "
    "VALUES ('{table}', lower(hex(randomblob(8))), 1) "
    "ON CONFLICT (table_name) DO UPDATE SET version = version + 1"
)
_POSTGRES_FUNCTION = """
CREATE OR REPLACE FUNCTION ep_cv_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO core_contentversion (table_name, epoch, version)
    VALUES (TG_TABLE_NAME, substr(md5(random()::text || clock_timestamp()::text), 1, 16), 1)
    ON CONFLICT (table_name) DO UPDATE SET version = core_contentversion.version + 1;
    RETURN NULL;
END;
$$
"""
_SAFE_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")


def watched_tables(apps: Any) -> list[str]:
    """Tables whose writes change published content (`apps`: the registry or a migration's)."""
    tables: set[str] = set(WATCHED_WAGTAIL_TABLES)
    for label in WATCHED_APPS:
        for model in apps.get_app_config(label).get_models(include_auto_created=True):
            if not model._meta.proxy and model._meta.managed:
                tables.add(model._meta.db_table)
    _refuse_unsafe(tables, "put a content-version trigger")
    return sorted(tables)


def _refuse_unsafe(tables: Iterable[str], action: str) -> None:
    """Table names go into trigger SQL as text: only letters, digits and "_" are accepted."""
    unsafe = [table for table in tables if not _SAFE_NAME.match(table)]
    if unsafe:
        raise ValueError(f"Cannot {action} on {unsafe}.")


def _trigger_name(table: str, operation: str = "") -> str:
    return f"{TRIGGER_PREFIX}{table}{'_' + operation if operation else ''}"


def trigger_statements(vendor: str, tables: Iterable[str], quote: Any) -> list[str]:
    """The SQL that (re)creates the triggers on `tables`, for 'sqlite' or 'postgresql'."""
    statements: list[str] = []
    if vendor == "sqlite":
        for table in tables:
            for operation in ("insert", "update", "delete"):
                name = quote(_trigger_name(table, operation))
                statements.append(f"DROP TRIGGER IF EXISTS {name}")
                statements.append(
                    f"CREATE TRIGGER {name} AFTER {operation.upper()} ON {quote(table)} "
                    f"FOR EACH ROW BEGIN {_SQLITE_BUMP.format(table=table)}; END"
                )
    elif vendor == "postgresql":
        statements.append(_POSTGRES_FUNCTION)
        for table in tables:
            name = quote(_trigger_name(table))
            statements.append(
                f"CREATE OR REPLACE TRIGGER {name} "
                f"AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {quote(table)} "
                f"FOR EACH STATEMENT EXECUTE FUNCTION {TRIGGER_PREFIX}bump()"
            )
    else:
        raise NotImplementedError(f"No content-version triggers for the {vendor!r} database.")
    return statements


def install_triggers(apps: Any, schema_editor: Any) -> None:
    """Create (or replace) the triggers on every watched table; a migration's RunPython."""
    existing = set(schema_editor.connection.introspection.table_names())
    tables = [table for table in watched_tables(apps) if table in existing]
    _install_triggers(schema_editor.execute, schema_editor.connection, tables)
    _add_version_rows(schema_editor.execute, tables)


def ensure_triggers(using: str = "default", **_: Any) -> list[str]:
    """Install the triggers on any watched table that lacks them, and give every watched table
    its version row; return the tables that lacked triggers. Run after every `migrate` and
    `flush` (a `post_migrate` receiver, core/apps.py): SQLite rebuilds a table for many schema
    changes, and the rebuilt table has no triggers; a flush deletes the version rows (new rows
    get new random epochs, so no key from before the flush can come back)."""
    from django.apps import apps

    connection = connections[using]
    if connection.vendor not in ("sqlite", "postgresql"):
        return []
    existing = set(connection.introspection.table_names())
    if "core_contentversion" not in existing:
        return []  # before core's migration 0002
    watched = [table for table in watched_tables(apps) if table in existing]
    triggered = triggered_tables(using)
    missing = [table for table in watched if table not in triggered]
    with connection.cursor() as cursor:
        if missing:
            _install_triggers(cursor.execute, connection, missing)
        _add_version_rows(cursor.execute, watched)
    return missing


def _install_triggers(execute: Any, connection: Any, tables: list[str]) -> None:
    for statement in trigger_statements(connection.vendor, tables, connection.ops.quote_name):
        execute(statement, None)


def _add_version_rows(execute: Any, tables: list[str]) -> None:
    # One row per table from the start: a missing row then always means "emptied since".
    for table in tables:
        execute(
            "INSERT INTO core_contentversion (table_name, epoch, version) VALUES (%s, %s, 1) "
            "ON CONFLICT (table_name) DO NOTHING",
            [table, secrets.token_hex(8)],
        )


def drop_statements(vendor: str, tables: Iterable[str], quote: Any) -> list[str]:
    """The SQL that drops the triggers of `tables` (names from `watched_tables`, quoted)."""
    statements: list[str] = []
    for table in tables:
        if vendor == "sqlite":
            for operation in ("insert", "update", "delete"):
                statements.append(
                    f"DROP TRIGGER IF EXISTS {quote(_trigger_name(table, operation))}"
                )
        elif vendor == "postgresql":
            statements.append(
                f"DROP TRIGGER IF EXISTS {quote(_trigger_name(table))} ON {quote(table)}"
            )
    if vendor == "postgresql":
        statements.append("DROP FUNCTION IF EXISTS ep_cv_bump()")
    return statements


def remove_triggers(apps: Any, schema_editor: Any) -> None:
    """Drop the triggers (the reverse of install_triggers)."""
    connection = schema_editor.connection
    existing = set(connection.introspection.table_names())
    tables = [table for table in watched_tables(apps) if table in existing]
    for statement in drop_statements(connection.vendor, tables, connection.ops.quote_name):
        schema_editor.execute(statement, params=None)


@contextmanager
def one_bump_per_table(tables: Sequence[str], using: str = "default") -> Iterator[None]:
    """Let a bulk write bump each of `tables` once, instead of once a row (SQLite only).

    SQLite has no statement triggers, so every row a bulk import writes ran its table's upsert
    on `core_contentversion`: a third to a half of the time SQLite took to insert a baseline
    file's publications (bench/ingest.py). Inside the caller's transaction this drops the
    triggers of `tables`, runs the block, then bumps each table's version once and creates the
    triggers again. Nobody can see or miss the gap:
    - SQLite's DDL is transactional: a rollback (an error, a rejected file, a killed process)
      brings the triggers back as it brings back the rows, and other connections go on
      reading the schema of the last commit;
    - the transaction holds the database's only write lock from its start (BEGIN IMMEDIATE,
      settings), so no other connection writes to these tables while their triggers are gone.
    On PostgreSQL the triggers already fire once a statement: nothing changes.
    """
    connection = connections[using]
    if connection.vendor != "sqlite":
        yield
        return
    if not connection.in_atomic_block:
        raise RuntimeError("one_bump_per_table() needs a transaction (transaction.atomic).")
    quote = connection.ops.quote_name
    triggered = triggered_tables(using)
    paused = [table for table in tables if table in triggered]
    _refuse_unsafe(paused, "pause content-version triggers")
    with connection.cursor() as cursor:
        for statement in drop_statements("sqlite", paused, quote):
            cursor.execute(statement)
    completed = False
    try:
        yield
        completed = True
    finally:
        with connection.cursor() as cursor:
            if completed:  # after an error the transaction rolls back, bumps and all
                for table in paused:
                    # A table that has a trigger, and a name of letters, digits and "_" (checked
                    # above): nothing to inject, as in trigger_statements.
                    cursor.execute(_SQLITE_BUMP.format(table=table))  # nosemgrep
            for statement in trigger_statements("sqlite", paused, quote):
                cursor.execute(statement)


def current_version(using: str = "default", tables: Iterable[str] = ()) -> Version | None:
    """The versions of `tables` (all watched tables when empty) as this connection sees them,
    as one hashable value. None when a cache must not be used: inside a transaction, or when a
    table has no version row (the rows were deleted, e.g. by a test flush, and nothing has
    been written to that table since, so its content cannot be told apart)."""
    connection = connections[using]
    if connection.in_atomic_block:
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT table_name, epoch, version FROM core_contentversion")
        rows = cursor.fetchall()
    expected = frozenset(tables) or _all_watched()
    found = tuple(sorted((str(t), str(e), int(v)) for t, e, v in rows if t in expected))
    return found if len(found) == len(expected) else None


@functools.cache
def _all_watched() -> frozenset[str]:
    from django.apps import apps

    return frozenset(watched_tables(apps))


def triggered_tables(using: str = "default") -> set[str]:
    """Tables that carry a content-version trigger (for tests and checks)."""
    connection = connections[using]
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(
                "SELECT tbl_name FROM sqlite_master WHERE type = 'trigger' AND name LIKE %s",
                [TRIGGER_PREFIX + "%"],
            )
        else:
            cursor.execute(
                "SELECT event_object_table FROM information_schema.triggers "
                "WHERE trigger_name LIKE %s",
                [TRIGGER_PREFIX + "%"],
            )
        return {str(row[0]) for row in cursor.fetchall()}


class VersionedMemo:
    """Values computed from the content, kept per process under (content version, key).

    `get(version, key, compute)` returns the value stored for that version and key, or calls
    `compute()` and stores its result. With `version` None (inside a transaction, a preview)
    nothing is read or stored. Values are shared by every thread of the process: store only
    what callers never change (strings, tuples, model instances used read-only). Bounded to
    `size` entries, least recently used first out; guarded by a lock.
    """

    def __init__(self, size: int = 256) -> None:
        self.size = size
        self._items: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, version: Version | None, key: Hashable, compute: Callable[[], T]) -> T:
        if version is None:
            return compute()
        full_key = (version, key)
        with self._lock:
            if full_key in self._items:
                self._items.move_to_end(full_key)
                return self._items[full_key]  # type: ignore[no-any-return]
        value = compute()
        with self._lock:
            self._items[full_key] = value
            self._items.move_to_end(full_key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return value

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def __len__(self) -> int:
        return len(self._items)
