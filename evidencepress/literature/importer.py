"""Import parsed literature into the evidence base: dedupe, insert or update, all or nothing.

Duplicates are found by PMID, then DOI (case-insensitive), then normalised title + year. A record
whose content is unchanged is a duplicate; a changed record updates the stored publication unless
the stored one was revised later (MEDLINE DateRevised). Curated facts (cases, appraisal, notes,
demo flag) are never touched by an import.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import transaction

from evidencepress.evidence.models import Publication, Topic

from . import parsers
from .models import ImportBatch
from .records import (
    DeletedCitations,
    LiteratureParseError,
    ParsedItem,
    ParsedRecord,
    RecordError,
    normalise_doi,
    normalise_title,
)

logger = logging.getLogger(__name__)

BATCH_SIZE = 1000

# Bibliographic fields an import owns; everything else on Publication belongs to curators.
_IMPORTED_FIELDS = (
    "pmid",
    "doi",
    "pmcid",
    "title",
    "title_normalized",
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
    "content_hash",
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

    def summary_line(self) -> str:
        return (
            f"new {self.new}, updated {self.updated}, duplicates {self.duplicates}, "
            f"rejected {self.rejected}"
        )


def content_hash(record: ParsedRecord) -> str:
    """A digest of a record's bibliographic content (not its position in the file)."""
    payload = (
        record.pmid,
        record.doi,
        record.pmcid,
        record.title,
        record.journal,
        record.year,
        record.volume,
        record.issue,
        record.pages,
        record.authors,
        record.publication_types,
        record.mesh_terms,
        record.keywords,
        record.abstract,
        record.language,
        record.retracted,
        record.date_revised,
    )
    return hashlib.blake2b(repr(payload).encode("utf-8"), digest_size=16).hexdigest()


def _values(record: ParsedRecord, digest: str) -> dict[str, object]:
    return {
        "pmid": record.pmid,
        "doi": normalise_doi(record.doi),
        "pmcid": record.pmcid or None,
        "title": record.title,
        "title_normalized": normalise_title(record.title)[:500],
        "journal": record.journal[:300],
        "year": record.year,
        "volume": record.volume[:50],
        "issue": record.issue[:50],
        "pages": record.pages[:50],
        "authors": [a.as_dict() for a in record.authors],
        "publication_types": list(record.publication_types),
        "mesh_terms": list(record.mesh_terms),
        "keywords": list(record.keywords),
        "abstract": record.abstract,
        "language": record.language[:20],
        "retracted": record.retracted,
        "date_revised": record.date_revised,
        "source_format": record.source_format,
        "content_hash": digest,
    }


class _Index:
    """Lookups from identifiers to publications, for the current batch and this import."""

    def __init__(self) -> None:
        self.by_pmid: dict[str, Publication] = {}
        self.by_doi: dict[str, Publication] = {}
        self.by_title: dict[tuple[str, int | None], Publication] = {}

    def add(self, pub: Publication) -> None:
        if pub.pmid:
            self.by_pmid[pub.pmid] = pub
        if pub.doi:
            self.by_doi[pub.doi.lower()] = pub
        if pub.title_normalized:
            self.by_title[(pub.title_normalized, pub.year)] = pub

    def find(self, values: dict[str, object]) -> Publication | None:
        pmid = values["pmid"]
        if isinstance(pmid, str) and pmid in self.by_pmid:
            return self.by_pmid[pmid]
        doi = values["doi"]
        if isinstance(doi, str) and doi in self.by_doi:
            found = self.by_doi[doi]
            # A DOI match with a different PMID is not the same record.
            if not (pmid and found.pmid and found.pmid != pmid):
                return found
        key = (values["title_normalized"], values["year"])
        found = self.by_title.get(key)  # type: ignore[arg-type]
        if found is not None and not (pmid and found.pmid and found.pmid != pmid):
            return found
        return None


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
        self.seen = _Index()  # publications created or matched during this import
        self.topic_links: set[int] = set()

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
            elif isinstance(item, RecordError):
                self.reject(item)
            elif isinstance(item, DeletedCitations):
                self.flush(pending)
                pending = []
                self.delete(item)
        self.flush(pending)
        self.link_topic()

    def existing_for(self, batch_values: list[dict[str, object]]) -> _Index:
        index = _Index()
        pmids = {v["pmid"] for v in batch_values if v["pmid"]}
        dois = {v["doi"] for v in batch_values if v["doi"]}
        titles = {v["title_normalized"] for v in batch_values if v["title_normalized"]}
        for field, keys in (("pmid", pmids), ("doi", dois), ("title_normalized", titles)):
            if keys:
                for pub in Publication.objects.filter(**{f"{field}__in": keys}).only(
                    "id", "pmid", "doi", "title_normalized", "year", "content_hash", "date_revised"
                ):
                    index.add(pub)
        return index

    def flush(self, records: list[ParsedRecord]) -> None:
        if not records:
            return
        prepared = [(r, _values(r, content_hash(r))) for r in records]
        existing = self.existing_for([v for _, v in prepared])
        to_create: list[Publication] = []
        to_update: list[Publication] = []
        for record, values in prepared:
            match = self.seen.find(values) or existing.find(values)
            if match is None:
                conflict = self.identifier_conflict(values, existing)
                if conflict:
                    self.reject(RecordError(record.position, conflict, record.pmid or record.doi))
                    continue
                pub = Publication(**values, import_batch=self.batch)
                to_create.append(pub)
                self.seen.add(pub)
                self.new += 1
            elif match.content_hash == values["content_hash"]:
                self.duplicates += 1
                self.seen.add(match)
            elif self.is_newer(values, match):
                conflict = self.identifier_conflict(values, existing, allowed=match)
                if conflict:
                    self.reject(RecordError(record.position, conflict, record.pmid or record.doi))
                    continue
                for field, value in values.items():
                    setattr(match, field, value)
                match.import_batch = self.batch
                if match.pk is not None and match not in to_update:
                    to_update.append(match)
                    self.updated += 1
                elif match.pk is None:
                    self.duplicates += 1  # a later copy in this same import replaced an earlier one
                self.seen.add(match)
            else:
                self.duplicates += 1
                self.seen.add(match)
        if to_create:
            Publication.objects.bulk_create(to_create, batch_size=500)
        if to_update:
            Publication.objects.bulk_update(
                to_update, [*_IMPORTED_FIELDS, "import_batch"], batch_size=500
            )
        if self.topic is not None:
            for pub in [*to_create, *to_update]:
                self.topic_links.add(pub.pk)
            for _, values in prepared:
                match = self.seen.find(values)
                if match is not None and match.pk is not None:
                    self.topic_links.add(match.pk)
        if self.progress is not None:
            self.progress(len(records))

    @staticmethod
    def identifier_conflict(
        values: dict[str, object], existing: _Index, allowed: Publication | None = None
    ) -> str | None:
        doi = values["doi"]
        if isinstance(doi, str) and doi in existing.by_doi:
            owner = existing.by_doi[doi]
            if owner is not allowed:
                return f"DOI {doi} already belongs to another publication (PMID {owner.pmid})"
        return None

    @staticmethod
    def is_newer(values: dict[str, object], stored: Publication) -> bool:
        incoming = values["date_revised"]
        if incoming is None or stored.date_revised is None:
            return True
        return incoming >= stored.date_revised  # type: ignore[operator]

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
        self.deleted += removable.count()
        removable.delete()

    def link_topic(self) -> None:
        if self.topic is None or not self.topic_links:
            return
        through = Publication.topics.through
        through.objects.bulk_create(
            [through(publication_id=pk, topic_id=self.topic.pk) for pk in self.topic_links],
            ignore_conflicts=True,
            batch_size=500,
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
    with transaction.atomic():
        batch = ImportBatch.objects.create(
            kind=kind, source=source[:500], source_format=source_format, topic=topic
        )
        importer = _Importer(
            source=source, batch=batch, topic=topic, skip_bad=skip_bad, progress=progress
        )
        importer.run(items)
        batch.new_count = importer.new
        batch.updated_count = importer.updated
        batch.duplicate_count = importer.duplicates
        batch.rejected_count = len([e for e in importer.errors if not _is_kept_note(e)])
        batch.deleted_count = importer.deleted
        batch.rejected_detail = "\n".join(
            f"record {e.position}{f' ({e.identifier})' if e.identifier else ''}: {e.message}"
            for e in importer.errors
        )
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
    )


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
    """Detect a file's format, parse it as a stream and import it (see import_items)."""
    source = path.name
    if not path.is_file():
        raise LiteratureParseError(str(path), "no such file")
    stream, fmt = parsers.open_source(path, max_bytes=settings.LITERATURE_MAX_IMPORT_BYTES)
    with stream:
        return import_items(
            _guarded(parsers.parse_stream(stream, fmt=fmt, source=source), source),
            source=source,
            kind=ImportBatch.Kind.FILE,
            source_format=fmt,
            topic=topic,
            skip_bad=skip_bad,
            progress=progress,
        )
