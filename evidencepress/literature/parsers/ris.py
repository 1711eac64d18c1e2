"""Reader for RIS files (Research Information Systems tagged format), via rispy.

Lines are `XX  - value` (RIS specification); exporters that write one space or none before the
hyphen are read too, as Zotero's RIS translator does. `A1` and `AU` are both primary authors and
are kept in file order. The full journal name (`JF`, `T2`) is preferred to abbreviations (`JO`,
`JA`, `J2`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any, BinaryIO

import rispy

from evidencepress.literature.records import (
    LiteratureParseError,
    ParsedItem,
    ParsedRecord,
    RecordError,
    checked,
    normalise_doi,
    normalise_pmid,
)

from ._names import person_or_group
from ._text import first_year, read_utf8

FORMAT = "ris"
# "TY  - JOUR", "TY - JOUR", "AU -Name", "ER  -": a tag, spaces, a hyphen (RIS and its variants).
_TAG_LINE = re.compile(
    r"^([A-Z][A-Z0-9])(?:[ \t]{0,3}-(?:[ \t]|$)|[ \t]{1,3}-(?=\S))", re.MULTILINE
)
# A record starts at a TY line: for naming the record an over-long line belongs to.
RECORD_START = re.compile(rb"(?m)^TY[ \t]{0,3}-")
_PMID_NOTE = re.compile(r"PMID:?\s*(\d{1,9})\b|\b(\d{1,9})\s*\[pmid\]", re.IGNORECASE)
# Both author tags into one list, so that a file mixing them keeps every author in order; the
# user fields that PubMed and reference managers put PMIDs in, kept as lists.
_MAPPING = {
    **rispy.TAG_KEY_MAPPING,
    "A1": "authors",
    **{f"U{n}": f"user{n}" for n in range(1, 6)},
    **{f"M{n}": f"misc{n}" for n in range(1, 4)},
    **{f"C{n}": f"custom{n}" for n in range(1, 9)},
}
_LIST_TAGS = [
    *rispy.LIST_TYPE_TAGS,
    *(f"U{n}" for n in range(1, 6)),
    *(f"M{n}" for n in range(1, 4)),
    *(f"C{n}" for n in range(1, 9)),
]
_PMID_FIELDS = (
    "note",
    "notes",
    *(f"user{n}" for n in range(1, 6)),
    *(f"misc{n}" for n in range(1, 4)),
    *(f"custom{n}" for n in range(1, 9)),
    "urls",
)


def _first(entry: dict[str, Any], *keys: str) -> str:
    for key in keys:
        value = entry.get(key)
        if isinstance(value, list):
            value = value[0] if value else None
        if value:
            return " ".join(str(value).split())
    return ""


def _pmid(entry: dict[str, Any]) -> str | None:
    accession = _first(entry, "accession_number")
    if accession.isdigit():
        return normalise_pmid(accession)
    for key in _PMID_FIELDS:
        value = entry.get(key)
        for text in value if isinstance(value, list) else [value]:
            if isinstance(text, str):
                match = _PMID_NOTE.search(text)
                if match:
                    return normalise_pmid(match.group(1) or match.group(2))
                if "pubmed.ncbi.nlm.nih.gov/" in text or "ncbi.nlm.nih.gov/pubmed/" in text:
                    tail = text.strip().rstrip("/").rsplit("/", 1)[-1]
                    if tail.isdigit():
                        return normalise_pmid(tail)
    return None


def _doi(entry: dict[str, Any]) -> str | None:
    doi = normalise_doi(_first(entry, "doi"))
    if doi:
        return doi
    for url in entry.get("urls") or []:
        if isinstance(url, str) and "doi.org/" in url.lower():
            return normalise_doi(url)
    return None


def _record(position: int, entry: dict[str, Any]) -> ParsedItem:
    title = _first(entry, "title", "primary_title")
    pmid = _pmid(entry)
    if not title:
        return RecordError(position, "record has no title (TI or T1)", pmid)
    names = [n for n in entry.get("authors") or [] if isinstance(n, str) and n.strip()]
    start, end = _first(entry, "start_page"), _first(entry, "end_page")
    kind = _first(entry, "type_of_reference")
    return checked(
        ParsedRecord(
            source_format=FORMAT,
            position=position,
            title=title,
            pmid=pmid,
            doi=_doi(entry),
            journal=_first(
                entry,
                "alternate_title3",  # JF: the full name
                "secondary_title",  # T2: the journal, or the book of a chapter
                "journal_name",  # JO
                "alternate_title2",  # JA
                "alternate_title1",  # J2
            ),
            year=first_year(_first(entry, "year", "publication_year", "date")),
            volume=_first(entry, "volume"),
            issue=_first(entry, "number"),
            pages=f"{start}-{end}" if start and end and start != end else start,
            authors=tuple(person_or_group(n) for n in names),
            keywords=tuple(k.strip() for k in entry.get("keywords") or [] if k and k.strip()),
            abstract=_first(entry, "abstract", "notes_abstract"),
            language=_first(entry, "language"),
            publication_types=(kind,) if kind else (),
        )
    )


def _canonical(text: str) -> str:
    """Every tag line written as the specification writes it: `XX  - value`."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")  # Windows and old Mac exports
    return _TAG_LINE.sub(lambda m: f"{m.group(1)}  - ", text)


def parse(stream: BinaryIO, *, source: str) -> Iterator[ParsedItem]:
    """Yield one item per RIS reference (TY … ER)."""
    text = _canonical(read_utf8(stream, source=source, record_start=RECORD_START))
    try:
        entries = rispy.loads(text, skip_unknown_tags=True, mapping=_MAPPING, list_tags=_LIST_TAGS)
    except (OSError, ValueError, KeyError, IndexError, TypeError) as exc:
        raise LiteratureParseError(source, f"not a readable RIS file: {exc}") from exc
    if not entries:
        raise LiteratureParseError(source, "no RIS references found (no TY … ER blocks)")
    for position, entry in enumerate(entries, start=1):
        yield _record(position, entry)
