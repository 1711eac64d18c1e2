"""The import service: parsed literature into the evidence base in one transaction, all or nothing.

`import_path` / `import_stream` / `import_items` run an import: records are read in batches of
`BATCH_SIZE`; for each batch the stored publications that may match are looked up
(`dedupe.Index`), each copy is matched and merged field by field into what is stored
(`merge.merge`), and the rows are written in bulk (`writer.PublicationWriter`). Curated facts
(cases, appraisal, notes, demo flag) are never touched by an import. NLM deletions remove
publications without curated cases; the changes are recorded in the evidence history; an
`ImportBatch` is written in the same transaction (docs/importing.md).
"""

from __future__ import annotations

import gc
import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from django.conf import settings
from django.db import connection, transaction

from evidencepress.core import content_version
from evidencepress.evidence import history
from evidencepress.evidence.models import Publication, Topic

from . import parsers, pipeline
from .dedupe import Index, Known, first_author_key, known_from_row, known_from_values, same_work
from .exceptions import ImportRejected as ImportRejected
from .merge import BOOKKEEPING, MERGED_FIELDS, merge, record_values, unstorable
from .models import ImportBatch
from .parsers.medline_xml import fingerprint_revision
from .records import (
    DeletedCitations,
    KnownRecords,
    LiteratureParseError,
    ParsedItem,
    ParsedRecord,
    RecordError,
    UnchangedRecord,
)
from .writer import PublicationWriter

__all__ = [
    "BATCH_SIZE",
    "ImportRejected",
    "ImportResult",
    "import_items",
    "import_path",
    "import_stream",
]

logger = logging.getLogger(__name__)

BATCH_SIZE = 1000


@dataclass(frozen=True, slots=True)
class ImportResult:
    new: int
    updated: int
    duplicates: int
    rejected: int
    deleted: int
    errors: tuple[RecordError, ...]
    batch_id: int | None
    reader_process: bool = False  # read by forked reader processes (pipeline.py)

    def summary_line(self) -> str:
        return (
            f"new {self.new}, updated {self.updated}, duplicates {self.duplicates}, "
            f"rejected {self.rejected}"
        )


class _Importer:
    """One import run: reads items batch by batch, decides for each copy (new, duplicate, update,
    rejected) against the dedupe index, has the writer store each batch, and keeps the counts,
    errors and history entries for the end of the transaction."""

    def __init__(
        self,
        *,
        source: str,
        batch: ImportBatch,
        topic: Topic | None,
        skip_bad: bool,
        progress: Callable[[int], None] | None,
    ) -> None:
        self.source = source
        self.batch = batch
        self.topic = topic
        self.skip_bad = skip_bad
        self.progress = progress
        self.new = self.updated = self.duplicates = self.deleted = 0
        self.errors: list[RecordError] = []
        self.index = Index()
        self.writer = PublicationWriter(batch.pk)
        self.linked: set[int] = set()  # stored publications this import matched (topic links)
        self.holding: list[Known] = []  # known publications whose full values this batch holds
        # PMID -> id of the stored publications reader processes may report unchanged.
        self.stored_ids: dict[str, int] = {}
        self.reader_process = False  # whether reader processes read the items
        self.unreported = 0  # items handled since the last progress report
        # Stored publications this import changed: id -> (fields as they were, as they are now),
        # only the fields that changed; recorded in the evidence history at the end (`record`).
        self.changed: dict[int, tuple[dict[str, Any], dict[str, Any]]] = {}
        self.labels: dict[int, str] = {}  # how each changed publication reads, as it is now
        self.history_source = f"import batch #{batch.pk}"
        self.reason = f"Import batch {batch.pk} ({batch.get_kind_display()} {source})"[:1000]

    # -- reading -----------------------------------------------------------------------------

    def known(self, pairs: Sequence[tuple[str, str]]) -> set[tuple[str, str]]:
        """The (PMID, fingerprint) pairs already stored unchanged (called by the XML parser)."""
        wanted = set(pairs)
        unchanged: set[tuple[str, str]] = set()
        by_pmid = self.index.by_pmid
        for pk, pmid, stored in self.writer.fingerprints(list({pmid for pmid, _ in pairs})):
            if not stored or (pmid, stored) not in wanted:
                continue
            if pmid in by_pmid and by_pmid[pmid].pk != pk:
                continue  # the index knows better (e.g. changed earlier in this import)
            unchanged.add((pmid, stored))
            self.linked.add(pk)
        return unchanged

    def stored_fingerprints(self) -> dict[str, str]:
        """PMID -> source fingerprint of every stored publication that has one.

        Read once, before the reader processes start, so that they can recognise unchanged records
        without a database connection of their own (see pipeline.read_in_parallel).
        """
        fingerprints: dict[str, str] = {}
        rows = Publication.objects.filter(pmid__isnull=False).exclude(source_fingerprint="")
        for pk, pmid, fingerprint in rows.values_list("id", "pmid", "source_fingerprint"):
            fingerprints[pmid] = fingerprint
            self.stored_ids[pmid] = pk
        return fingerprints

    def reject(self, error: RecordError) -> None:
        if not self.skip_bad:
            ident = f" ({error.identifier})" if error.identifier else ""
            raise ImportRejected(
                f"{self.source}: record {error.position}{ident}: {error.message}. "
                "Nothing was imported; fix the file or use --skip-bad to import the good records."
            )
        self.errors.append(error)

    def run(self, items: Iterable[ParsedItem]) -> None:
        pending: list[ParsedRecord] = []
        for item in items:
            if isinstance(item, ParsedRecord):
                pending.append(item)
                if len(pending) >= BATCH_SIZE:
                    self.flush(pending)
                    pending = []
            elif isinstance(item, UnchangedRecord):
                self.duplicates += 1
                if item.pmid in self.stored_ids:  # reported by a reader process (see known)
                    self.linked.add(self.stored_ids[item.pmid])
                self.tick(1)
            elif isinstance(item, RecordError):
                self.reject(item)
                self.tick(1)
            elif isinstance(item, DeletedCitations):
                self.flush(pending)
                pending = []
                self.delete(item)
                self.tick(1)
        self.flush(pending)
        self.link_topic()
        self.tick(0, force=True)

    def tick(self, count: int, *, force: bool = False) -> None:
        self.unreported += count
        if self.progress is not None and (force or self.unreported >= 500) and self.unreported:
            self.progress(self.unreported)
            self.unreported = 0

    # -- deciding ----------------------------------------------------------------------------

    def load(self, batch_values: list[dict[str, Any]]) -> None:
        """Add the stored publications that may match this batch to the index (3-4 queries)."""
        index = self.index
        pmids = {v["pmid"] for v in batch_values if v["pmid"] and v["pmid"] not in index.by_pmid}
        dois = {v["doi"] for v in batch_values if v["doi"] and v["doi"] not in index.by_doi}
        pmcids = {
            v["pmcid"] for v in batch_values if v["pmcid"] and v["pmcid"] not in index.by_pmcid
        }
        titles = {
            v["title_normalized"]
            for v in batch_values
            if v["title_normalized"]
            and v["title_normalized"] not in index.loaded_titles
            and not (v["pmid"] and v["pmid"] in index.by_pmid)
        }
        rows: dict[int, tuple[Any, ...]] = {}
        for column, keys in (
            ("pmid", pmids),
            ("doi", dois),
            ("pmcid", pmcids),
            ("title_normalized", titles),
        ):
            if keys:
                for row in self.writer.lookup(column, list(keys)):
                    rows[row[0]] = row
        index.loaded_titles |= titles
        for pk in sorted(rows):  # oldest first, as on every database (see Index)
            row = rows[pk]
            pmid = row[1]
            if pk in index.by_pk or (pmid and pmid in index.by_pmid):
                continue  # already known (and possibly changed) in this import
            index.add(known_from_row(row))

    def conflict(self, values: dict[str, Any], allowed: Known | None) -> str | None:
        """An identifier of this record that already belongs to another publication."""
        doi, pmcid = values["doi"], values["pmcid"]
        owner = self.index.by_doi.get(doi) if doi else None
        if owner is not None and owner is not allowed:
            return f"DOI {doi} already belongs to another publication (PMID {owner.pmid})"
        owner = self.index.by_pmcid.get(pmcid) if pmcid else None
        if owner is not None and owner is not allowed:
            return f"PMCID {pmcid} already belongs to another publication (PMID {owner.pmid})"
        return None

    def read_stored(self, prepared: list[tuple[ParsedRecord, dict[str, Any]]]) -> None:
        """Read in full, in one query, the stored publications this batch's copies will be merged
        into: those a copy matches without being exactly what is stored."""
        wanted: dict[int, Known] = {}
        for _record, values in prepared:
            match = self.index.find(values)
            if (
                match is not None
                and match.pk is not None
                and match.values is None
                and match.pending is None
                and (match.merged or match.content_hash != values["content_hash"])
            ):
                wanted[match.pk] = match
        if wanted:
            for pk, values in self.writer.stored_values(sorted(wanted)).items():
                wanted[pk].values = values
                self.holding.append(wanted[pk])

    def current(self, match: Known) -> dict[str, Any]:
        """The imported fields a known publication holds now (read from the database if need be:
        rare, a row this import wrote in an earlier batch)."""
        if match.pending is not None:
            return match.pending
        if match.values is None:
            if match.pk is None:
                match.pk = self.lookup_pk(match)
            match.values = self.writer.stored_values([match.pk])[match.pk]
            self.holding.append(match)
        return match.values

    def flush(self, records: list[ParsedRecord]) -> None:
        if not records:
            return
        prepared: list[tuple[ParsedRecord, dict[str, Any]]] = []
        for record in records:
            problem = unstorable(record)
            if problem:
                self.reject(RecordError(record.position, problem, record.pmid or record.doi))
            else:
                prepared.append((record, record_values(record)))
        self.load([values for _, values in prepared])
        self.read_stored(prepared)
        inserts: list[Known] = []
        updates: dict[int, dict[str, Any]] = {}
        bookkeeping: dict[int, dict[str, Any]] = {}
        refreshed: list[tuple[str, int]] = []  # (fingerprint, id) of unchanged publications
        for record, values in prepared:
            match = self.index.find(values)
            if match is None:
                problem = self.conflict(values, None)
                if problem:
                    self.reject(RecordError(record.position, problem, record.pmid or record.doi))
                    continue
                known = known_from_values(None, values, pending=values, inserted_here=True)
                self.index.add(known)
                inserts.append(known)
                self.new += 1
                continue
            if match.pk is not None:
                self.linked.add(match.pk)
            if match.content_hash == values["content_hash"] and not match.merged:
                # Exactly what is stored, from one copy: merging it would change nothing.
                self.duplicates += 1
                if match.pk is not None and self.stale_fingerprint(match, values):
                    match.fingerprint = values["source_fingerprint"]
                    refreshed.append((match.fingerprint, match.pk))
                continue
            stored = self.current(match)
            merged = merge(stored, values)
            if all(merged[name] == stored[name] for name in MERGED_FIELDS):
                if not self.stale_fingerprint(match, values):
                    merged["source_fingerprint"] = self.kept_fingerprint(stored, values)
                # Nothing a reader sees changes (the copy is poorer, or the same content): at
                # most where fields came from, the digest or the fingerprint are brought up to date.
                self.duplicates += 1
                if any(merged[name] != stored[name] for name in BOOKKEEPING):
                    self.note(match, merged, bookkeeping, updates)
                continue
            problem = self.conflict(merged, match)
            if problem:
                self.reject(RecordError(record.position, problem, record.pmid or record.doi))
                continue
            self.replace(match, merged, updates)
            if not match.inserted_here:
                self.remember(match, stored, merged)
        self.writer.insert([k.pending for k in inserts if k.pending is not None])
        for known in inserts:
            known.pending = None
        self.writer.update(list(updates.items()))
        self.writer.refresh_bookkeeping(
            [(values, pk) for pk, values in bookkeeping.items() if pk not in updates]
        )
        self.writer.refresh_fingerprints(refreshed)
        for known in self.holding:
            known.values = None  # read again if a later batch needs it: memory stays flat
        self.holding.clear()
        self.tick(len(records))

    @staticmethod
    def kept_fingerprint(stored: dict[str, Any], values: dict[str, Any]) -> str:
        """The fingerprint a merged row keeps when the incoming copy's does not replace it: the
        incoming one when the row has none, else the stored one."""
        return str(stored["source_fingerprint"] or values["source_fingerprint"])

    @staticmethod
    def stale_fingerprint(match: Known, values: dict[str, Any]) -> bool:
        """Whether a stored publication this record duplicates or updates should take its
        fingerprint.

        A MEDLINE record read in full although its content is what is stored, because an older
        parser took the stored fingerprint (`PARSER_REVISION`), or the publication has none (it
        came from another format). Storing the new one lets the next re-import skip it unread.
        A fingerprint of the same revision is kept: the record is then a copy formatted
        differently (a PubMed download beside an E-utilities fetch), and a second source of the
        same records changes no row (plan E3). Once merged, a copy stays merged whatever comes
        later (the merge is a maximum), so any copy's fingerprint is a safe mark that re-reading
        it changes nothing. Not for a row this import writes: it stores its own copy's.
        """
        incoming = values["source_fingerprint"]
        return bool(
            incoming
            and fingerprint_revision(incoming) != fingerprint_revision(match.fingerprint)
            and not match.inserted_here  # (only such a row is ever pending)
            and not match.counted_update
        )

    def note(
        self,
        match: Known,
        merged: dict[str, Any],
        bookkeeping: dict[int, Any],
        updates: dict[int, Any],
    ) -> None:
        """Bookkeeping for a publication whose visible fields a copy leaves as they are (into
        the row's pending update, when an earlier copy of this batch changed it)."""
        match.content_hash = merged["content_hash"]
        match.merged = bool(merged["field_sources"])
        match.fingerprint = merged["source_fingerprint"]
        if match.pending is not None:
            match.pending = merged
            return
        match.values = merged
        self.holding.append(match)
        if match.pk in updates:
            updates[match.pk] = merged
        elif match.pk is not None:
            bookkeeping[match.pk] = merged

    def replace(self, match: Known, values: dict[str, Any], updates: dict[int, Any]) -> None:
        """The merge of a known publication and a copy that changes it replaces its fields."""
        self.index.forget(match)
        match.pmid, match.doi, match.pmcid = values["pmid"], values["doi"], values["pmcid"]
        match.title_key = (values["title_normalized"], values["year"])
        match.content_hash = values["content_hash"]
        match.date_revised = values["date_revised"]
        match.fingerprint = values["source_fingerprint"]
        match.merged = bool(values["field_sources"])
        match.journal = values["journal"]
        match.author_key = first_author_key(values["authors"])
        if match.pending is not None:
            match.pending = values  # a later copy in this same batch merged into an earlier one
            self.duplicates += 1
        else:
            if match.pk is None:
                match.pk = self.lookup_pk(match)
            updates[match.pk] = values
            match.values = values
            self.holding.append(match)
            if match.counted_update or match.inserted_here:
                # Another copy of a record this import already stored or updated: one publication.
                self.duplicates += 1
            else:
                match.counted_update = True
                self.updated += 1
            self.linked.add(match.pk)
        self.index.add(match)

    def remember(self, match: Known, stored: dict[str, Any], merged: dict[str, Any]) -> None:
        """Keep what an update changes in a publication stored before this import, for its
        history: the first value each field had, and its latest (a second copy in the same import
        may change the row again)."""
        before, after = self.changed.setdefault(match.pk, ({}, {}))  # type: ignore[arg-type]
        for name in MERGED_FIELDS:
            if merged[name] != stored[name]:
                before.setdefault(name, stored[name])
                after[name] = merged[name]
        self.labels[match.pk] = str(  # type: ignore[index]
            Publication(title=merged["title"], authors=merged["authors"], year=merged["year"])
        )

    def record(self, *, reason: str, source: str) -> int:
        """Record the publications this import updated in the evidence history, one entry each
        with the fields' before → after, written in bulk (history.record_changes)."""
        changed = {
            pk: (self.labels[pk], history.publication_changes(before, after))
            for pk, (before, after) in self.changed.items()
        }
        return history.record_changes(changed, reason=reason, source=source)

    def lookup_pk(self, match: Known) -> int:
        """The id of a row this import inserted (rare: a file holding two copies of a record)."""
        rows = Publication.objects.filter(import_batch=self.batch)
        if match.pmid:
            rows = rows.filter(pmid=match.pmid)
        elif match.doi:
            rows = rows.filter(doi=match.doi)
        elif match.title_key:
            rows = rows.filter(title_normalized=match.title_key[0], year=match.title_key[1])
        author = match.first_author()
        for pk, authors, journal in rows.order_by("pk").values_list("id", "authors", "journal"):
            if (
                match.pmid
                or match.doi
                or same_work(author, match.journal, first_author_key(authors), journal)
            ):
                return int(pk)
        raise LookupError(f"no row of this import matches {match.title_key}")

    # -- deletions and topic links -----------------------------------------------------------

    def delete(self, item: DeletedCitations) -> None:
        pmids = list(item.pmids)
        doomed = Publication.objects.filter(pmid__in=pmids, is_demo=False)
        kept = list(doomed.filter(patients__isnull=False).distinct().values_list("pmid", flat=True))
        for pmid in kept:
            # Curated cases are never deleted by an import; an editor decides.
            self.errors.append(
                RecordError(
                    item.position,
                    "NLM deleted this citation, but it has curated cases: kept for an editor",
                    pmid,
                )
            )
        removable = doomed.exclude(pmid__in=kept)
        removed_ids = set(removable.values_list("id", flat=True))
        self.deleted += len(removed_ids)
        self.index.forget_pmids([p for p in pmids if p not in kept])
        self.linked -= removed_ids
        for pk in removed_ids:
            self.changed.pop(pk, None)
        # Through the ORM: the history's receivers record each deleted publication.
        with history.recorded_reason(self.reason, source=self.history_source):
            removable.delete()

    def link_topic(self) -> None:
        if self.topic is None:
            return
        through = Publication.topics.through
        quote = connection.ops.quote_name
        table = quote(through._meta.db_table)
        insert = f"INSERT INTO {table} ({quote('publication_id')}, {quote('topic_id')}) "
        with connection.cursor() as cursor:
            cursor.execute(
                f"{insert}SELECT {quote('id')}, %s FROM {self.writer.table} "  # noqa: S608
                f"WHERE {quote('import_batch_id')} = %s ON CONFLICT DO NOTHING",
                [self.topic.pk, self.batch.pk],
            )
            already = set(
                through.objects.filter(topic_id=self.topic.pk).values_list(
                    "publication_id", flat=True
                )
            )
            missing = sorted(self.linked - already)
            if missing:
                cursor.executemany(
                    f"{insert}VALUES (%s, %s) ON CONFLICT DO NOTHING",
                    [(pk, self.topic.pk) for pk in missing],
                )


def import_items(
    items: Iterable[ParsedItem],
    *,
    source: str,
    kind: str,
    source_format: str,
    topic: Topic | None,
    skip_bad: bool = False,
    progress: Callable[[int], None] | None = None,
) -> ImportResult:
    """Import parsed records in one transaction: every record is stored, or none is.

    With `skip_bad`, records the parser could not read are listed in the result and the rest are
    kept; a file-level error (malformed or truncated file) still rolls back the whole import.
    """
    return _import(
        lambda importer: items,
        source=source,
        kind=kind,
        source_format=source_format,
        topic=topic,
        skip_bad=skip_bad,
        progress=progress,
    )


def _import(
    make_items: Callable[[_Importer], Iterable[ParsedItem]],
    *,
    source: str,
    kind: str,
    source_format: str,
    topic: Topic | None,
    skip_bad: bool,
    progress: Callable[[int], None] | None,
) -> ImportResult:
    written = (Publication._meta.db_table, Publication.topics.through._meta.db_table)
    with _collector_paused(), _sqlite_bulk_cache(), transaction.atomic():
        batch = ImportBatch.objects.create(
            kind=kind, source=source[:500], source_format=source_format, topic=topic
        )
        importer = _Importer(
            source=source, batch=batch, topic=topic, skip_bad=skip_bad, progress=progress
        )
        with content_version.one_bump_per_table(written):
            importer.run(make_items(importer))
        importer.record(reason=importer.reason, source=importer.history_source)
        batch.new_count = importer.new
        batch.updated_count = importer.updated
        batch.duplicate_count = importer.duplicates
        batch.rejected_count = len([e for e in importer.errors if not _is_kept_note(e)])
        batch.deleted_count = importer.deleted
        batch.rejected_detail = "\n".join(
            f"record {e.position}{f' ({e.identifier})' if e.identifier else ''}: {e.message}"
            for e in importer.errors
        ).replace("\x00", "")  # a NUL from a corrupt identifier: PostgreSQL cannot store it
        batch.save()
    logger.info("import of %s committed as batch %s", source, batch.pk)
    return ImportResult(
        new=importer.new,
        updated=importer.updated,
        duplicates=importer.duplicates,
        rejected=batch.rejected_count,
        deleted=importer.deleted,
        errors=tuple(importer.errors),
        batch_id=batch.pk,
        reader_process=importer.reader_process,
    )


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Keep the cyclic garbage collector out of the way of a big import.

    Objects that exist before the import are frozen out of collections (otherwise each full
    collection walks everything Django and its apps hold), and young collections run every 50,000
    allocations instead of every 700: an import allocates millions of short-lived, acyclic
    objects (lxml proxies, tuples, dicts), and reference counting frees those. Both made a
    30,000-record import markedly faster (bench/ingest.py); settings are restored afterwards.
    """
    thresholds = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(max(thresholds[0], 50_000), *thresholds[1:])
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
        gc.unfreeze()


# SQLite's page cache during an import, in KiB (SQLite takes a negative cache_size as KiB).
SQLITE_IMPORT_CACHE_KIB = 16 * 1024  # holds the index pages a 30,000-record import touches


@contextmanager
def _sqlite_bulk_cache() -> Iterator[None]:
    """Give SQLite a larger page cache for the length of an import, then restore it.

    With SQLite's default 2 MiB cache a large transaction keeps spilling index pages into the WAL
    and reading them back. Durability is untouched: journal mode and `synchronous` stay as
    configured, so the commit is exactly as safe as any other. Other databases: no change.
    """
    if connection.vendor != "sqlite":
        yield
        return
    connection.ensure_connection()
    raw = connection.connection  # the sqlite3 connection, usable even inside a failed atomic
    previous = int(raw.execute("PRAGMA cache_size").fetchone()[0])
    # Both values are integers (a constant and int() of the PRAGMA): nothing to inject.
    raw.execute(f"PRAGMA cache_size = {-SQLITE_IMPORT_CACHE_KIB}")  # nosemgrep
    try:
        yield
    finally:
        raw.execute(f"PRAGMA cache_size = {previous}")  # nosemgrep


def _is_kept_note(error: RecordError) -> bool:
    return error.message.startswith("NLM deleted this citation")


def _guarded(items: Iterator[ParsedItem], source: str) -> Iterator[ParsedItem]:
    """Turn unexpected low-level failures while reading into a LiteratureParseError."""
    try:
        yield from items
    except LiteratureParseError:
        raise
    except (OSError, EOFError, UnicodeDecodeError, ValueError) as exc:
        raise LiteratureParseError(source, f"could not be read: {exc}") from exc


def import_path(
    path: Path,
    *,
    topic: Topic | None,
    skip_bad: bool = False,
    progress: Callable[[int], None] | None = None,
) -> ImportResult:
    """Detect a file's format, parse it as a stream and import it (see import_stream)."""
    source = path.name
    if not path.is_file():
        raise LiteratureParseError(str(path), "no such file")
    max_bytes = settings.LITERATURE_MAX_IMPORT_BYTES
    stream, fmt = parsers.open_source(path, max_bytes=max_bytes)
    threshold = settings.LITERATURE_READER_PROCESS_MIN_BYTES
    large = threshold is not None and path.stat().st_size >= threshold

    def reopen() -> BinaryIO:
        return parsers.open_source(path, max_bytes=max_bytes)[0]

    with stream:
        return import_stream(
            stream,
            fmt=fmt,
            source=source,
            kind=ImportBatch.Kind.FILE,
            topic=topic,
            skip_bad=skip_bad,
            progress=progress,
            reopen=reopen if large else None,
        )


def import_stream(
    stream: BinaryIO,
    *,
    fmt: str,
    source: str,
    kind: str,
    topic: Topic | None,
    skip_bad: bool = False,
    progress: Callable[[int], None] | None = None,
    reopen: Callable[[], BinaryIO] | None = None,
) -> ImportResult:
    """Parse a binary stream in a known format and import it in one transaction.

    For MEDLINE XML the parser asks the importer which records are already stored unchanged
    and skips extracting them, so re-importing a baseline file is about as fast as reading it.
    `source` names the file or query in error messages and in the import batch.

    With `reopen` (a function that opens the same file again; MEDLINE XML, where
    pipeline.available()), forked readers read and extract the records, in parallel, while this
    process writes them: see pipeline.py.
    """

    def read(source_stream: BinaryIO, known: KnownRecords | None) -> Iterator[ParsedItem]:
        items = parsers.parse_stream(source_stream, fmt=fmt, source=source, known=known)
        return _guarded(items, source)

    def items(importer: _Importer) -> Iterable[ParsedItem]:
        if reopen is not None and fmt == "medline_xml" and pipeline.available():
            importer.reader_process = True
            return pipeline.read_in_parallel(
                reopen,
                read,
                stored=importer.stored_fingerprints(),
                known=importer.known,
            )
        return read(stream, importer.known)

    return _import(
        items,
        source=source,
        kind=kind,
        source_format=fmt,
        topic=topic,
        skip_bad=skip_bad,
        progress=progress,
    )
