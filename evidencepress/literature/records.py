"""Plain data that every literature parser yields. Pure: imports nothing from Django."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import NamedTuple


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


class LiteratureParseError(Exception):
    """The file as a whole cannot be read (malformed, truncated, wrong encoding, unknown format).

    The message names the file and, where known, the record position or line.
    """

    def __init__(self, source: str, message: str, *, position: int | None = None) -> None:
        self.source = source
        self.detail = message
        self.position = position
        where = f" (record {position})" if position is not None else ""
        super().__init__(f"{source}{where}: {message}")


_DOI_PREFIXES = ("https://doi.org/", "http://doi.org/", "https://dx.doi.org/", "doi:")
_DOI_RE = re.compile(r"^10\.\d{4,9}/\S+$")


def normalise_doi(value: str | None) -> str | None:
    """Lower-case a DOI and strip resolver prefixes (DOIs are case-insensitive: DOI Handbook)."""
    if not value:
        return None
    doi = value.strip()
    lowered = doi.lower()
    for prefix in _DOI_PREFIXES:
        if lowered.startswith(prefix):
            doi = doi[len(prefix) :]
            lowered = lowered[len(prefix) :]
    lowered = lowered.strip().rstrip(".")
    return lowered if _DOI_RE.match(lowered) else None


def normalise_pmid(value: str | int | None) -> str | None:
    """Return a PMID as a string of digits without leading zeros, or None."""
    if value is None:
        return None
    digits = str(value).strip()
    if not digits.isdigit():
        return None
    stripped = digits.lstrip("0")
    return stripped or None


_NON_WORD = re.compile(r"[^0-9a-z]+")


_COMBINING = re.compile(r"[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]+")


def normalise_title(title: str) -> str:
    """Fold a title for duplicate detection: accents removed, case folded, punctuation dropped.

    Only Latin letters and digits survive, so a title in another script folds to its digits and
    Latin words (or to nothing, and then only PMID or DOI can match it).
    """
    if title.isascii():
        return _NON_WORD.sub(" ", title.lower()).strip()
    without_marks = _COMBINING.sub("", unicodedata.normalize("NFKD", title))
    return _NON_WORD.sub(" ", without_marks.casefold()).strip()
