"""Plain data that every literature parser yields. Pure: imports nothing from Django."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from itertools import chain
from typing import NamedTuple

# Re-exported: the parsers and the importer name them from here (their home is core, below both
# literature and evidence).
from evidencepress.core.identifiers import normalise_doi as normalise_doi
from evidencepress.core.identifiers import normalise_pmid as normalise_pmid
from evidencepress.core.identifiers import normalise_title as normalise_title

from .exceptions import LiteratureParseError as LiteratureParseError


class Author(NamedTuple):
    """One author in citation order: a person, or a collective (group) author.

    A NamedTuple rather than a frozen dataclass: a 30,000-record baseline file names about
    200,000 authors, and making a tuple costs a quarter of what a frozen dataclass does
    (bench/ingest.py). It is just as immutable and typed.
    """

    last_name: str = ""
    fore_name: str = ""
    initials: str = ""
    collective_name: str = ""

    @property
    def display(self) -> str:
        if self.collective_name:
            return self.collective_name
        return f"{self.last_name} {self.initials}".strip()

    def as_dict(self) -> dict[str, str]:
        return dict(zip(AUTHOR_FIELDS, self, strict=True))


AUTHOR_FIELDS = Author._fields


# The revision of what the readers extract, all formats together. Bump it whenever a change to a
# parser changes what it reads from a file: between copies of equal date and source, the one read
# by newer code wins, so re-importing a file after an upgrade replaces values an older reader got
# wrong (an "UNLABELLED:" heading, initials rebuilt from a full name) instead of keeping them as
# the longer value. 0: rows stored before revisions were recorded.
PARSERS_REVISION = 1


class ParsedRecord(NamedTuple):
    """One bibliographic record read from a file or from E-utilities.

    `position` is the 1-based ordinal of the record in its source, used in error messages.
    A NamedTuple, like Author, rather than a frozen dataclass: it is as immutable and typed, and
    making one costs a quarter as much, which counts once per record of a baseline file.
    """

    source_format: str
    position: int
    title: str
    pmid: str | None = None
    doi: str | None = None
    pmcid: str | None = None
    journal: str = ""
    year: int | None = None
    volume: str = ""
    issue: str = ""
    pages: str = ""
    authors: tuple[Author, ...] = ()
    publication_types: tuple[str, ...] = ()
    mesh_terms: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    abstract: str = ""
    language: str = ""
    retracted: bool = False
    date_revised: date | None = None
    is_book: bool = False
    # A digest of the record exactly as the source wrote it (MEDLINE XML only), so that a re-import
    # can recognise an unchanged record without extracting it again. Empty for other formats.
    fingerprint: str = ""


@dataclass(frozen=True, slots=True)
class DeletedCitations:
    """A MEDLINE update file's <DeleteCitation> block: these PMIDs were withdrawn by NLM."""

    position: int
    pmids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class RecordError:
    """A record that could not be read; the parser goes on to the next one."""

    position: int
    message: str
    identifier: str | None = None  # PMID, citation key or title when known


@dataclass(frozen=True, slots=True)
class UnchangedRecord:
    """A record the evidence base already holds byte for byte (its fingerprint matched)."""

    position: int
    pmid: str


ParsedItem = ParsedRecord | DeletedCitations | RecordError | UnchangedRecord

# Given (pmid, fingerprint) pairs, return the pairs the evidence base already holds unchanged.
KnownRecords = Callable[[Sequence[tuple[str, str]]], set[tuple[str, str]]]


# Caps on one record's fields (issue #14): far above real records, far below what exhausts memory.
# The longest abstracts in PubMed are a few tens of thousands of characters (structured abstracts
# of consensus statements); titles stay under 2,000; author lists of physics collaborations reach
# about 5,000 names.
MAX_ABSTRACT_CHARS = 200_000
MAX_TEXT_CHARS = 20_000  # title, journal and every other text field
MAX_LIST_ITEMS = 20_000  # authors, keywords, MeSH terms, publication types


def oversized(record: ParsedRecord) -> str | None:
    """Why a record is too large to be a real reference, naming the field, or None.

    Runs once per record of a baseline file: one quick test, stricter than the caps, with C-level
    builtins only; a record that fails it is measured field by field."""
    authors = record.authors
    terms = (record.keywords, record.mesh_terms, record.publication_types)
    if (
        len(record.abstract) <= MAX_ABSTRACT_CHARS
        and len(record.title) + len(record.journal) <= MAX_TEXT_CHARS
        and len(record.volume) + len(record.issue) + len(record.pages) + len(record.language)
        <= MAX_TEXT_CHARS
        and len(authors) + len(terms[0]) + len(terms[1]) + len(terms[2]) <= MAX_LIST_ITEMS
        and max(map(len, chain(chain.from_iterable(authors), *terms)), default=0) <= MAX_TEXT_CHARS
    ):
        return None
    return _oversized_field(record)


def _oversized_field(record: ParsedRecord) -> str | None:
    if len(record.abstract) > MAX_ABSTRACT_CHARS:
        return f"the abstract is longer than {MAX_ABSTRACT_CHARS:,} characters"
    for name in ("title", "journal", "volume", "issue", "pages", "language"):
        if len(getattr(record, name)) > MAX_TEXT_CHARS:
            return f"the {name} is longer than {MAX_TEXT_CHARS:,} characters"
    for name, items, texts in (
        ("authors", record.authors, list(chain.from_iterable(record.authors))),
        ("keywords", record.keywords, record.keywords),
        ("MeSH terms", record.mesh_terms, record.mesh_terms),
        ("publication types", record.publication_types, record.publication_types),
    ):
        if len(items) > MAX_LIST_ITEMS:
            return f"more than {MAX_LIST_ITEMS:,} {name}"
        if texts and max(map(len, texts)) > MAX_TEXT_CHARS:
            return f"one of the {name} is longer than {MAX_TEXT_CHARS:,} characters"
    return None


def checked(record: ParsedRecord) -> ParsedRecord | RecordError:
    """The record, or a RecordError naming it and its oversized field."""
    problem = oversized(record)
    if problem is None:
        return record
    return RecordError(record.position, problem, record.pmid or record.title[:80] or None)
