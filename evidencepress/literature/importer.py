"""Import parsed literature into the evidence base: dedupe, merge field by field, all or nothing.

Duplicates are found by PMID, then DOI (case-insensitive), then normalised title + year when the
first author's surname (or, lacking authors, the journal) agrees. Copies of one publication are
merged field by field: each field holds the value of the best copy that has one, copies ranked by
revision date (MEDLINE DateRevised / .nbib LR) and then source quality (MEDLINE XML > .nbib >
RIS/BibTeX); an empty value never replaces a present one. The merge is a maximum over a total
order, so the same copies give the same row in any order, and a copy already merged changes
nothing (docs/importing.md). Curated facts (cases, appraisal, notes, demo flag) are never touched
by an import.
"""

from __future__ import annotations

import gc
import hashlib
import json
import logging
import operator
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from itertools import chain
from pathlib import Path
from typing import Any, BinaryIO

from django.conf import settings
from django.db import connection, models, transaction
from django.utils import timezone

from evidencepress.core import content_version
from evidencepress.evidence import history
from evidencepress.evidence.models import Publication, Topic

from . import parsers, pipeline
from .models import ImportBatch
from .parsers.medline_xml import fingerprint_revision
from .records import (
    AUTHOR_FIELDS,
    PARSERS_REVISION,
    DeletedCitations,
    KnownRecords,
    LiteratureParseError,
    ParsedItem,
    ParsedRecord,
    RecordError,
    UnchangedRecord,
    normalise_doi,
    normalise_title,
)

logger = logging.getLogger(__name__)

BATCH_SIZE = 1000

# Source quality, the second key of a copy's priority (the first is its revision date).
SOURCE_RANK = {"medline_xml": 3, "nbib": 2, "ris": 1, "bibtex": 1}

# The fields merged copy by copy, in the order they are hashed.
_MERGED_FIELDS = (
    "pmid",
    "doi",
    "pmcid",
    "title",
    "journal",
    "year",
    "volume",
    "issue",
    "pages",
    "authors",
    "publication_types",
    "mesh_terms",
    "keywords",
    "abstract",
    "language",
    "retracted",
    "date_revised",
    "source_format",
)

# Bibliographic fields an import owns; everything else on Publication belongs to curators.
_IMPORTED_FIELDS = (
    *_MERGED_FIELDS,
    "title_normalized",
    "content_hash",
    "source_fingerprint",
    "field_sources",
    "parser_revision",
)


class ImportRejected(Exception):
    """A record could not be imported and --skip-bad was not given; nothing was written."""


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


def _digest(values: dict[str, Any], authors: list[tuple[str, ...]] | None = None) -> str:
    """A digest of the merged fields of a row (or of one copy) and of the parser revision that
    read them: equal digests, equal content and equal priority. Authors are hashed as tuples of
    their parts in AUTHOR_FIELDS order (`authors`, when the caller has them already: cheaper)."""
    if authors is None:
        authors = [tuple(author.values()) for author in values["authors"]]
    payload = (
        *(authors if name == "authors" else values[name] for name in _MERGED_FIELDS),
        values["parser_revision"],
    )
    return hashlib.blake2b(repr(payload).encode("utf-8"), digest_size=16).hexdigest()


def content_hash(record: ParsedRecord) -> str:
    """A digest of a record's bibliographic content (not its position in the file)."""
    return _values(record)["content_hash"]


# Widths of the identifier columns: SQLite ignores them, PostgreSQL refuses a longer value.
_IDENTIFIER_LIMITS = (("PMID", 12), ("PMCID", 20), ("DOI", 255))


def _unstorable(record: ParsedRecord) -> str | None:
    """Why a record cannot be stored as read, or None. Found by fuzzing on PostgreSQL (plan E2):
    an identifier longer than its column (a corrupt PMID line), or a NUL character, which
    PostgreSQL text cannot hold; both used to end the import with a database error."""
    identifiers = (record.pmid, record.pmcid, normalise_doi(record.doi))
    for (name, limit), value in zip(_IDENTIFIER_LIMITS, identifiers, strict=True):
        if value and len(value) > limit:
            return f"the {name} is longer than {limit} characters ({value[:24]}...)"
    if record.source_format == "medline_xml":
        return None  # text from an XML parser: XML cannot hold a NUL, not even as &#0;
    texts = (
        record.doi,
        record.pmcid,
        record.title,
        record.journal,
        record.volume,
        record.issue,
        record.pages,
        record.abstract,
        record.language,
        *record.publication_types,
        *record.mesh_terms,
        *record.keywords,
        *chain.from_iterable(record.authors),
    )
    # One search of the joined text: far cheaper, once per record, than one search per string.
    if "\x00" in "".join(filter(None, texts)):
        return "contains a NUL character (byte 0x00), which cannot be stored"
    return None


def _values(record: ParsedRecord) -> dict[str, Any]:
    values = {
        "pmid": record.pmid,
        "doi": normalise_doi(record.doi),
        "pmcid": record.pmcid or None,
        "title": record.title,
        "journal": record.journal[:300],
        "year": record.year,
        "volume": record.volume[:50],
        "issue": record.issue[:50],
        "pages": record.pages[:50],
        "authors": [dict(zip(AUTHOR_FIELDS, author, strict=True)) for author in record.authors],
        "publication_types": list(record.publication_types),
        "mesh_terms": list(record.mesh_terms),
        "keywords": list(record.keywords),
        "abstract": record.abstract,
        "language": record.language[:20],
        "retracted": record.retracted,
        "date_revised": record.date_revised,
        "source_format": record.source_format,
        "title_normalized": normalise_title(record.title)[:500],
        "source_fingerprint": record.fingerprint,
        "field_sources": {},
        "parser_revision": PARSERS_REVISION,
    }
    values["content_hash"] = _digest(values, [tuple(author) for author in record.authors])
    return values


# -- merging copies -------------------------------------------------------------------------

# (revision date as ISO text or "", source rank, parser revision): larger is better.
Priority = tuple[str, int, int]


def priority(revised: date | None, source_format: str, parser_revision: int) -> Priority:
    """How good a copy is: later revision first, then source quality, then newer reading code;
    "" sorts before any date."""
    return (
        revised.isoformat() if revised else "",
        SOURCE_RANK.get(source_format, 0),
        parser_revision,
    )


def _row_priority(values: dict[str, Any]) -> Priority:
    return priority(values["date_revised"], values["source_format"], values["parser_revision"])


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value is False


def _tiebreak(value: Any) -> tuple[int, str]:
    """Between two values of copies of equal priority: the longer, then the larger text.

    Any total order makes the merge independent of import order; this one prefers the fuller
    value (a complete abstract over a truncated one)."""
    size = len(value) if isinstance(value, str | list) else 0
    return size, json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)


def merge(stored: dict[str, Any], incoming: dict[str, Any]) -> dict[str, Any]:
    """The row holding both a stored publication and an incoming copy, field by field.

    A field takes the incoming value when that is present and the stored one is empty, or when
    (incoming priority, value) beats (the stored value's priority, value). A stored value's
    priority is its entry in `field_sources`, else the row's own (its revision date, format and
    parser revision, which are those of the best copy merged). The result records, in
    `field_sources`, only the fields whose copy is not the best one. Derived columns (normalised
    title, digest) follow.
    """
    row_priority = _row_priority(stored)
    sources = stored["field_sources"]
    incoming_priority = _row_priority(incoming)
    merged: dict[str, Any] = {}
    chosen: dict[str, Priority] = {}
    for name in _MERGED_FIELDS:
        old, new = stored[name], incoming[name]
        old_priority = tuple(sources[name]) if name in sources else row_priority
        if _empty(new) or (
            not _empty(old)
            and (old_priority, _tiebreak(old)) >= (incoming_priority, _tiebreak(new))
        ):
            merged[name] = old
            chosen[name] = old_priority  # type: ignore[assignment]
        else:
            merged[name] = new
            chosen[name] = incoming_priority
    best = chosen["source_format"]
    merged["parser_revision"] = best[2]
    merged["field_sources"] = {
        name: list(source)
        for name, source in chosen.items()
        if source != best and not _empty(merged[name])
    }
    merged["title_normalized"] = normalise_title(merged["title"])[:500]
    merged["content_hash"] = _digest(merged)
    merged["source_fingerprint"] = incoming["source_fingerprint"] or stored["source_fingerprint"]
    return merged


def _first_author_key(authors: Any) -> str:
    """The folded surname (or group name) of the first author, "" without authors."""
    if isinstance(authors, str):
        authors = json.loads(authors) if authors else []
    if not authors:
        return ""
    first = authors[0]
    return normalise_title(first.get("last_name") or first.get("collective_name") or "")


def same_work(author_a: str, journal_a: str, author_b: str, journal_b: str) -> bool:
    """Whether two copies sharing a normalised title and year are the same paper: their first
    authors' surnames agree, or, when one lacks authors, their journals do. Generic titles
    ("Cutaneous sarcoma: a case report") are shared by different papers of one year."""
    if author_a and author_b:
        return author_a == author_b
    if journal_a and journal_b:
        return normalise_title(journal_a) == normalise_title(journal_b)
    return False


@dataclass(slots=True)
class _Known:
    """What the importer needs to know of a stored publication, or of one it is about to store.

    `pk` is None for a row written in this import by the bulk insert (looked up again only if a
    later copy in the same import must update it); `pending` holds the values of a row not yet
    written, `values` those of a stored row read in full for a merge (dropped after each batch).
    `fingerprint` is the stored source fingerprint (MEDLINE XML only, else ""). `merged` says the
    row holds fields from more than one copy (`field_sources` not empty). `authors` and `journal`
    serve the title rule (same_work): `authors` is the stored JSON text of a row read from the
    database, folded into `author_key` on first use (a row this import writes has its key only, so
    that the index does not keep every record's author list alive).
    """

    pk: int | None
    pmid: str | None
    doi: str | None
    pmcid: str | None
    title_key: tuple[str, int | None] | None
    content_hash: str
    date_revised: date | None
    pending: dict[str, Any] | None = None
    counted_update: bool = False
    inserted_here: bool = False
    fingerprint: str = ""
    merged: bool = False
    authors: Any = None
    journal: str = ""
    values: dict[str, Any] | None = None
    author_key: str | None = None

    def first_author(self) -> str:
        if self.author_key is None:
            self.author_key = _first_author_key(self.authors)
        return self.author_key


def _known(pk: int | None, values: dict[str, Any], **extra: Any) -> _Known:
    return _Known(
        pk,
        values["pmid"],
        values["doi"],
        values["pmcid"],
        (values["title_normalized"], values["year"]),
        values["content_hash"],
        values["date_revised"],
        fingerprint=values["source_fingerprint"],
        merged=bool(values["field_sources"]),
        journal=values["journal"],
        author_key=_first_author_key(values["authors"]),
        **extra,
    )


def _age(known: _Known) -> tuple[bool, int]:
    """Oldest first: stored publications by id, then the ones this import writes, in order."""
    return (known.pk is None, known.pk or 0)


class _Index:
    """Lookups from identifiers to known publications.

    Several publications may share a normalised title and year (an erratum, a record without its
    PMID beside one with it, two case reports with a generic title), so a title leads to every one
    of them, oldest first: a record takes the first whose PMID does not contradict its own and
    whose first author (or journal) agrees. The order is the same on every database.
    """

    def __init__(self) -> None:
        self.by_pk: dict[int, _Known] = {}
        self.by_pmid: dict[str, _Known] = {}
        self.by_doi: dict[str, _Known] = {}
        self.by_pmcid: dict[str, _Known] = {}
        self.by_title: dict[tuple[str, int | None], list[_Known]] = {}
        self.loaded_titles: set[str] = set()

    def add(self, known: _Known) -> None:
        if known.pk is not None:
            self.by_pk[known.pk] = known
        if known.pmid:
            self.by_pmid[known.pmid] = known
        if known.doi:
            self.by_doi[known.doi] = known
        if known.pmcid:
            self.by_pmcid[known.pmcid] = known
        if known.title_key and known.title_key[0]:
            same_title = self.by_title.setdefault(known.title_key, [])
            if not any(other is known for other in same_title):
                same_title.append(known)
                if len(same_title) > 1:  # stored ones by id, then those this import writes
                    same_title.sort(key=_age)

    def forget(self, known: _Known) -> None:
        """Take a known publication out of every lookup (before it changes, or once deleted)."""
        if known.pk is not None and self.by_pk.get(known.pk) is known:
            del self.by_pk[known.pk]
        for table, key in (
            (self.by_pmid, known.pmid),
            (self.by_doi, known.doi),
            (self.by_pmcid, known.pmcid),
        ):
            if key is not None and table.get(key) is known:
                del table[key]
        if known.title_key in self.by_title:
            same_title = [o for o in self.by_title[known.title_key] if o is not known]
            if same_title:
                self.by_title[known.title_key] = same_title
            else:
                del self.by_title[known.title_key]

    def forget_pmids(self, pmids: Iterable[str]) -> None:
        for pmid in pmids:
            known = self.by_pmid.get(pmid)
            if known is not None:
                self.forget(known)

    def find(self, values: dict[str, Any]) -> _Known | None:
        pmid = values["pmid"]
        if pmid and pmid in self.by_pmid:
            return self.by_pmid[pmid]
        doi = values["doi"]
        if doi and doi in self.by_doi:
            found = self.by_doi[doi]
            # A DOI match with a different PMID is not the same record.
            if not (pmid and found.pmid and found.pmid != pmid):
                return found
        candidates = self.by_title.get((values["title_normalized"], values["year"]))
        if candidates:
            author = _first_author_key(values["authors"])
            for found in candidates:
                if pmid and found.pmid and found.pmid != pmid:
                    continue
                if same_work(author, values["journal"], found.first_author(), found.journal):
                    return found
        return None


_LOOKUP_COLUMNS = (
    "id",
    "pmid",
    "doi",
    "pmcid",
    "title_normalized",
    "year",
    "content_hash",
    "date_revised",
    "source_fingerprint",
    "field_sources",
    "authors",
    "journal",
)


def _from_row(row: tuple[Any, ...]) -> _Known:
    pk, pmid, doi, pmcid, title_normalized, year, digest, revised, fingerprint = row[:9]
    sources, authors, journal = row[9:]
    return _Known(
        pk,
        pmid,
        doi,
        pmcid,
        (title_normalized, year),
        digest,
        revised,
        fingerprint=fingerprint,
        merged=bool(sources) and sources not in ("{}", {}),
        authors=authors,
        journal=journal or "",
    )


# The columns read to merge a copy into a stored publication (what merge() takes).
_ROW_COLUMNS = (
    "id",
    *_MERGED_FIELDS,
    "source_fingerprint",
    "field_sources",
    "content_hash",
    "parser_revision",
)
_BOOKKEEPING = ("field_sources", "content_hash", "source_fingerprint", "parser_revision")
_JSON_COLUMNS = frozenset({"authors", "publication_types", "mesh_terms", "keywords"})


def _stored_values(row: tuple[Any, ...]) -> dict[str, Any]:
    """A stored publication's imported fields as _values() gives them for a copy.

    JSON arrives as text on both databases; author keys are put back in their canonical order
    (PostgreSQL's jsonb reorders them), booleans are booleans (SQLite gives 0 or 1).
    """
    values = dict(zip(_ROW_COLUMNS[1:], row[1:], strict=True))
    for name in (*_JSON_COLUMNS, "field_sources"):
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


class _Writer:
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
        self.imported = [meta.get_field(name) for name in _IMPORTED_FIELDS]
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
            if field.primary_key or field.name in _IMPORTED_FIELDS:
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
        """The `_LOOKUP_COLUMNS` of the stored publications whose `column` is one of `keys`."""
        return self.select(_LOOKUP_COLUMNS, column, keys)

    def stored_values(self, pks: list[int]) -> dict[int, dict[str, Any]]:
        """The imported fields of these publications, by id, to merge copies into them."""
        return {row[0]: _stored_values(row) for row in self.select(_ROW_COLUMNS, "id", pks)}

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


class _Importer:
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
        self.index = _Index()
        self.writer = _Writer(batch.pk)
        self.linked: set[int] = set()  # stored publications this import matched (topic links)
        self.holding: list[_Known] = []  # known publications whose full values this batch holds
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
        for pk in sorted(rows):  # oldest first, as on every database (see _Index)
            row = rows[pk]
            pmid = row[1]
            if pk in index.by_pk or (pmid and pmid in index.by_pmid):
                continue  # already known (and possibly changed) in this import
            index.add(_from_row(row))

    def conflict(self, values: dict[str, Any], allowed: _Known | None) -> str | None:
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
        wanted: dict[int, _Known] = {}
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

    def current(self, match: _Known) -> dict[str, Any]:
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
            problem = _unstorable(record)
            if problem:
                self.reject(RecordError(record.position, problem, record.pmid or record.doi))
            else:
                prepared.append((record, _values(record)))
        self.load([values for _, values in prepared])
        self.read_stored(prepared)
        inserts: list[_Known] = []
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
                known = _known(None, values, pending=values, inserted_here=True)
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
            if all(merged[name] == stored[name] for name in _MERGED_FIELDS):
                if not self.stale_fingerprint(match, values):
                    merged["source_fingerprint"] = self.kept_fingerprint(stored, values)
                # Nothing a reader sees changes (the copy is poorer, or the same content): at
                # most where fields came from, the digest or the fingerprint are brought up to date.
                self.duplicates += 1
                if any(merged[name] != stored[name] for name in _BOOKKEEPING):
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
    def stale_fingerprint(match: _Known, values: dict[str, Any]) -> bool:
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
        match: _Known,
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

    def replace(self, match: _Known, values: dict[str, Any], updates: dict[int, Any]) -> None:
        """The merge of a known publication and a copy that changes it replaces its fields."""
        self.index.forget(match)
        match.pmid, match.doi, match.pmcid = values["pmid"], values["doi"], values["pmcid"]
        match.title_key = (values["title_normalized"], values["year"])
        match.content_hash = values["content_hash"]
        match.date_revised = values["date_revised"]
        match.fingerprint = values["source_fingerprint"]
        match.merged = bool(values["field_sources"])
        match.journal = values["journal"]
        match.author_key = _first_author_key(values["authors"])
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

    def remember(self, match: _Known, stored: dict[str, Any], merged: dict[str, Any]) -> None:
        """Keep what an update changes in a publication stored before this import, for its
        history: the first value each field had, and its latest (a second copy in the same import
        may change the row again)."""
        before, after = self.changed.setdefault(match.pk, ({}, {}))  # type: ignore[arg-type]
        for name in _MERGED_FIELDS:
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

    def lookup_pk(self, match: _Known) -> int:
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
                or same_work(author, match.journal, _first_author_key(authors), journal)
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
