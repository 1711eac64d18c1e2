"""Reader for RIS files (Research Information Systems tagged format), via rispy."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any, BinaryIO

import rispy

from evidencepress.literature.records import (
    Author,
    LiteratureParseError,
    ParsedItem,
    ParsedRecord,
    RecordError,
    normalise_doi,
    normalise_pmid,
)

from ._text import first_year, read_utf8

FORMAT = "ris"
_PMID_NOTE = re.compile(r"PMID:?\s*(\d{1,9})", re.IGNORECASE)


def _first(entry: dict[str, Any], *keys: str) -> str:
    for key in keys:
        value = entry.get(key)
        if isinstance(value, list):
            value = value[0] if value else None
        if value:
            return str(value).strip()
    return ""


def _author(name: str) -> Author:
    last, sep, fore = name.partition(",")
    if not sep:
        return Author(collective_name=name.strip())
    fore = fore.strip()
    initials = "".join(p[0] for p in fore.replace(".", " ").replace("-", " ").split() if p)
    return Author(last_name=last.strip(), fore_name=fore, initials=initials)


def _pmid(entry: dict[str, Any]) -> str | None:
    accession = _first(entry, "accession_number")
    if accession.isdigit():
        return normalise_pmid(accession)
    for key in ("note", "custom1", "notes", "urls"):
        value = entry.get(key)
        for text in value if isinstance(value, list) else [value]:
            if isinstance(text, str):
                match = _PMID_NOTE.search(text)
                if match:
                    return normalise_pmid(match.group(1))
                if "pubmed.ncbi.nlm.nih.gov/" in text:
                    tail = text.rstrip("/").rsplit("/", 1)[-1]
                    if tail.isdigit():
                        return normalise_pmid(tail)
    return None


def _record(position: int, entry: dict[str, Any]) -> ParsedItem:
    title = _first(entry, "title", "primary_title")
    pmid = _pmid(entry)
    if not title:
        return RecordError(position, "record has no title (TI or T1)", pmid)
    names = entry.get("authors") or entry.get("first_authors") or []
    start, end = _first(entry, "start_page"), _first(entry, "end_page")
    return ParsedRecord(
        source_format=FORMAT,
        position=position,
        title=" ".join(title.split()),
        pmid=pmid,
        doi=normalise_doi(_first(entry, "doi")),
        journal=_first(entry, "journal_name", "alternate_title3", "secondary_title"),
        year=first_year(_first(entry, "year", "publication_year", "date")),
        volume=_first(entry, "volume"),
        issue=_first(entry, "number"),
        pages=f"{start}-{end}" if start and end else start,
        authors=tuple(_author(n) for n in names if n.strip()),
        keywords=tuple(k for k in entry.get("keywords") or [] if k),
        abstract=_first(entry, "abstract", "notes_abstract"),
        language=_first(entry, "language"),
        publication_types=(_first(entry, "type_of_reference"),),
    )


def parse(stream: BinaryIO, *, source: str) -> Iterator[ParsedItem]:
    """Yield one item per RIS reference (TY … ER)."""
    text = read_utf8(stream, source=source)
    try:
        entries = rispy.loads(text, skip_unknown_tags=True)
    except (OSError, ValueError, KeyError, IndexError, TypeError) as exc:
        raise LiteratureParseError(source, f"not a readable RIS file: {exc}") from exc
    if not entries:
        raise LiteratureParseError(source, "no RIS references found (no TY … ER blocks)")
    for position, entry in enumerate(entries, start=1):
        yield _record(position, entry)
