"""Bulk reads and writes of publications for the import service, in raw SQL with kept statements.

The ORM's bulk_create prepares every field of every row in Python, which made it the slowest
step of a 30,000-record import (bench/ingest.py); `PublicationWriter` prepares only the fields
that need it (JSON, dates) through the fields' own get_db_prep_save, so it stays correct on
SQLite and PostgreSQL. Raw SQL sends no signals: the content-version triggers
(core/content_version.py) still see every write, and the import service records the evidence
history itself.
"""

from __future__ import annotations

import json
import operator
from collections.abc import Callable
from typing import Any

from django.db import connection, models
from django.utils import timezone

from evidencepress.evidence.models import Publication

from .dedupe import LOOKUP_COLUMNS
from .merge import IMPORTED_FIELDS, MERGED_FIELDS
from .records import AUTHOR_FIELDS

# The columns read to merge a copy into a stored publication (what merge() takes).
ROW_COLUMNS = (
    "id",
    *MERGED_FIELDS,
    "source_fingerprint",
    "field_sources",
    "content_hash",
    "parser_revision",
)
JSON_COLUMNS = frozenset({"authors", "publication_types", "mesh_terms", "keywords"})


def row_values(row: tuple[Any, ...]) -> dict[str, Any]:
    """A stored publication's imported fields as record_values() gives them for a copy.

    JSON arrives as text on both databases; author keys are put back in their canonical order
    (PostgreSQL's jsonb reorders them), booleans are booleans (SQLite gives 0 or 1).
    """
    values = dict(zip(ROW_COLUMNS[1:], row[1:], strict=True))
    for name in (*JSON_COLUMNS, "field_sources"):
        raw = values[name]
        values[name] = json.loads(raw) if isinstance(raw, str | bytes) else raw
    values["authors"] = [
        {field: author.get(field, "") for field in AUTHOR_FIELDS}
        for author in values["authors"] or []
    ]
    for name in ("publication_types", "mesh_terms", "keywords"):
        values[name] = list(values[name] or [])
    values["field_sources"] = values["field_sources"] or {}
    values["retracted"] = bool(values["retracted"])
    for name in ("title", "journal", "volume", "issue", "pages", "abstract", "language"):
        values[name] = values[name] or ""
    values["source_format"] = values["source_format"] or ""
    values["source_fingerprint"] = values["source_fingerprint"] or ""
    values["parser_revision"] = int(values["parser_revision"] or 0)
    values["pmid"] = values["pmid"] or None
    values["doi"] = values["doi"] or None
    values["pmcid"] = values["pmcid"] or None
    return values


class PublicationWriter:
    """Bulk INSERT and UPDATE of publications with executemany.

    The ORM's bulk_create prepares every field of every row in Python, which made it the slowest
    step of a 30,000-record import (see bench/ingest.py); this writer prepares only the fields
    that need it (JSON, dates) through the fields' own get_db_prep_save, so it stays correct on
    SQLite and PostgreSQL.
    """

    def __init__(self, batch_id: int) -> None:
        meta = Publication._meta
        quote = connection.ops.quote_name
        now = timezone.now()
        self.table = quote(meta.db_table)
        self.imported = [meta.get_field(name) for name in IMPORTED_FIELDS]
        operations = connection.ops
        # Bound once: `connection` is a thread-local proxy, slow to go through for every value.
        self.adapt_json = operations.adapt_json_value
        self.empty_json = self.adapt_json([], None)
        self.empty_object = self.adapt_json({}, None)
        # (field name, how to adapt its value): None for values the driver takes as they are.
        self.columns: list[tuple[str, Callable[[Any], Any] | None]] = []
        for field in self.imported:
            if isinstance(field, models.JSONField):
                self.columns.append((field.name, self._json))
            elif isinstance(field, models.DateField):
                self.columns.append((field.name, operations.adapt_datefield_value))
            else:
                self.columns.append((field.name, None))
        fixed: dict[str, Any] = {}
        for field in meta.concrete_fields:
            if field.primary_key or field.name in IMPORTED_FIELDS:
                continue
            if field.name == "import_batch":
                value: Any = batch_id
            elif field.name in ("created_at", "updated_at"):
                value = now
            else:
                value = field.get_default()
            fixed[field.column] = field.get_db_prep_save(value, connection)
        self.fixed_values = tuple(fixed.values())
        columns = [field.column for field in self.imported] + list(fixed)
        # Table and column names come from the model's metadata and are quoted; values are always
        # passed as parameters.
        self.insert_sql = (
            f"INSERT INTO {self.table} ({', '.join(quote(c) for c in columns)}) "  # noqa: S608
            f"VALUES ({', '.join(['%s'] * len(columns))})"
        )
        updated = [field.column for field in self.imported] + ["import_batch_id", "updated_at"]
        self.update_sql = (
            f"UPDATE {self.table} SET {', '.join(f'{quote(c)} = %s' for c in updated)} "  # noqa: S608
            f"WHERE {quote('id')} = %s"
        )
        self.batch_id = batch_id
        self.select_sql: dict[tuple[tuple[str, ...], str, int], str] = {}
        self.now = fixed.get("updated_at")
        # The row builder: most values go to the driver as they are, a few need adapting.
        self.getter = operator.itemgetter(*(name for name, _adapt in self.columns))
        self.adapters = [
            (position, adapt)
            for position, (_name, adapt) in enumerate(self.columns)
            if adapt is not None
        ]

    def fingerprints(self, pmids: list[str]) -> list[tuple[Any, ...]]:
        """(id, PMID, source fingerprint) of the stored publications with these PMIDs (asked once
        per small chunk of records, the parser's)."""
        return self.select(("id", "pmid", "source_fingerprint"), "pmid", pmids)

    def lookup(self, column: str, keys: list[Any]) -> list[tuple[Any, ...]]:
        """The `LOOKUP_COLUMNS` of the stored publications whose `column` is one of `keys`."""
        return self.select(LOOKUP_COLUMNS, column, keys)

    def stored_values(self, pks: list[int]) -> dict[int, dict[str, Any]]:
        """The imported fields of these publications, by id, to merge copies into them."""
        return {row[0]: row_values(row) for row in self.select(ROW_COLUMNS, "id", pks)}

    def select(
        self, columns: tuple[str, ...], column: str, keys: list[Any]
    ) -> list[tuple[Any, ...]]:
        """`columns` of the stored publications whose `column` is one of `keys`.

        One kept statement per question and number of keys: through the ORM, each query was
        built and each of its keys prepared again, for every chunk or batch (about 0.4 s of CPU
        in a 30,000-record import).
        """
        if not keys:
            return []
        sql = self.select_sql.get((columns, column, len(keys)))
        if sql is None:
            quote = connection.ops.quote_name
            selected = ", ".join(quote(name) for name in columns)
            marks = ", ".join(["%s"] * len(keys))
            # Names from this module's constants, quoted; the keys are always parameters.
            sql = (
                f"SELECT {selected} FROM {self.table} "  # noqa: S608
                f"WHERE {quote(column)} IN ({marks})"
            )
            self.select_sql[(columns, column, len(keys))] = sql
        with connection.cursor() as cursor:
            cursor.execute(sql, keys)
            rows: list[tuple[Any, ...]] = cursor.fetchall()
        return rows

    def _json(self, value: Any) -> Any:
        if value:
            return self.adapt_json(value, None)
        return self.empty_object if isinstance(value, dict) else self.empty_json

    def _row(self, values: dict[str, Any]) -> list[Any]:
        row = list(self.getter(values))
        for position, adapt in self.adapters:
            row[position] = adapt(row[position])
        return row

    def insert(self, rows: list[dict[str, Any]]) -> None:
        if rows:
            with connection.cursor() as cursor:
                cursor.executemany(
                    self.insert_sql, [(*self._row(values), *self.fixed_values) for values in rows]
                )

    def update(self, rows: list[tuple[int, dict[str, Any]]]) -> None:
        if rows:
            with connection.cursor() as cursor:
                cursor.executemany(
                    self.update_sql,
                    [(*self._row(values), self.batch_id, self.now, pk) for pk, values in rows],
                )

    def refresh_bookkeeping(self, rows: list[tuple[dict[str, Any], int]]) -> None:
        """Store what changed of publications whose visible fields did not: where a field came
        from, the digest, the source fingerprint ((values, id) pairs). Neither the import batch
        nor `updated_at` changes."""
        if rows:
            quote = connection.ops.quote_name
            with connection.cursor() as cursor:
                cursor.executemany(
                    f"UPDATE {self.table} SET {quote('field_sources')} = %s, "  # noqa: S608
                    f"{quote('content_hash')} = %s, {quote('source_fingerprint')} = %s, "
                    f"{quote('parser_revision')} = %s WHERE {quote('id')} = %s",
                    [
                        (
                            self._json(values["field_sources"]),
                            values["content_hash"],
                            values["source_fingerprint"],
                            values["parser_revision"],
                            pk,
                        )
                        for values, pk in rows
                    ],
                )

    def refresh_fingerprints(self, rows: list[tuple[str, int]]) -> None:
        """Store new source fingerprints, (fingerprint, id), of publications whose content is
        unchanged: bookkeeping only, so neither the import batch nor `updated_at` changes."""
        if rows:
            quote = connection.ops.quote_name
            with connection.cursor() as cursor:
                cursor.executemany(
                    f"UPDATE {self.table} SET {quote('source_fingerprint')} = %s "  # noqa: S608
                    f"WHERE {quote('id')} = %s",
                    rows,
                )
