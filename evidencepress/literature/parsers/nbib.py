"""Reader for MEDLINE tagged format (.nbib, PubMed's "PubMed format" export).

Each line is a tag padded to four characters, "- ", and a value; continuation lines start with
six spaces; records are separated by blank lines (NLM, MEDLINE/PubMed Data Element descriptions).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from typing import BinaryIO

from evidencepress.literature.records import (
    Author,
    LiteratureParseError,
    ParsedItem,
    ParsedRecord,
    RecordError,
    checked,
    normalise_doi,
    normalise_pmid,
)

from ._names import initials_of
from ._text import first_year, read_utf8

FORMAT = "nbib"
RECORD_START = re.compile(rb"(?m)^PMID-")
_LINE = re.compile(r"^([A-Z][A-Z0-9]{0,3})\s*- ?(.*)$")


def _records(text: str, source: str) -> Iterator[tuple[int, list[tuple[str, str]]]]:
    fields: list[tuple[str, str]] = []
    start_line = 0
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            if fields:
                yield start_line, fields
                fields = []
            continue
        if line.startswith("      ") and fields:
            tag, value = fields[-1]
            fields[-1] = (tag, f"{value} {line.strip()}")
            continue
        match = _LINE.match(line)
        if match is None:
            raise LiteratureParseError(source, f"line {number} is not a MEDLINE tag line: {line!r}")
        if not fields:
            start_line = number
        fields.append((match.group(1), match.group(2).strip()))
    if fields:
        yield start_line, fields


def _bracketed(values: list[str], kind: str) -> str | None:
    suffix = f"[{kind}]"
    for value in values:
        if value.endswith(suffix):
            return value[: -len(suffix)].strip()
    return None


def _revised(value: str | None) -> date | None:
    if not value or len(value) < 8 or not value[:8].isdigit():
        return None
    try:
        return date(int(value[:4]), int(value[4:6]), int(value[6:8]))
    except ValueError:
        return None


def _au_line(value: str) -> tuple[str, str]:
    """An AU line, "Saqi MA": the surname and MEDLINE's initials (no initials: "Madonna")."""
    surname, space, initials = value.strip().rpartition(" ")
    if space and initials.isalpha() and initials.isupper() and len(initials) <= 4:
        return surname, initials
    return value.strip(), ""


def _authors(fields: list[tuple[str, str]]) -> tuple[Author, ...]:
    """Authors in order: FAU gives the names, the AU line after it MEDLINE's own initials (so
    that "Saqi, Mansoor A" has "MA", as in the XML); CN a group. A record with AU lines only
    (before 2002) takes surname and initials from them."""
    has_full = any(tag == "FAU" for tag, _ in fields)
    authors: list[Author] = []
    awaiting = False  # the last author came from FAU and its AU line has not been seen
    for tag, value in fields:
        if tag == "FAU":
            last, _, fore = value.partition(",")
            fore = fore.strip()
            authors.append(
                Author(last_name=last.strip(), fore_name=fore, initials=initials_of(fore))
            )
            awaiting = True
        elif tag == "AU":
            surname, initials = _au_line(value)
            if awaiting:
                if initials:
                    authors[-1] = authors[-1]._replace(initials=initials)
            elif not has_full:
                authors.append(Author(last_name=surname, initials=initials))
            awaiting = False
        elif tag == "CN":
            authors.append(Author(collective_name=value))
            awaiting = False
    return tuple(authors)


_UNLABELLED = re.compile(r"(^|\s)UNLABELLED:\s*")


def _record(position: int, fields: list[tuple[str, str]]) -> ParsedItem:
    tags: dict[str, list[str]] = {}
    for tag, value in fields:
        tags.setdefault(tag, []).append(value)
    authors = _authors(fields)

    def one(tag: str) -> str:
        return tags.get(tag, [""])[0]

    pmid = normalise_pmid(one("PMID"))
    title = one("TI") or one("BTI")
    if pmid is None:
        return RecordError(position, "record has no PMID", title[:80] or None)
    if not title:
        return RecordError(position, "record has no title", pmid)
    ids = tags.get("AID", []) + tags.get("LID", [])
    types = tuple(tags.get("PT", []))
    pmcid = one("PMC") or _bracketed(ids, "pmc") or None
    return checked(
        ParsedRecord(
            source_format=FORMAT,
            position=position,
            title=title,
            pmid=pmid,
            doi=normalise_doi(_bracketed(ids, "doi")),
            pmcid=pmcid,
            journal=one("JT") or one("TA") or one("BTI") or one("CTI"),
            year=first_year(one("DP")),
            volume=one("VI"),
            issue=one("IP"),
            pages=one("PG"),
            authors=tuple(authors),
            publication_types=types,
            mesh_terms=tuple(v.split("/")[0].lstrip("*").strip() for v in tags.get("MH", [])),
            keywords=tuple(tags.get("OT", [])),
            abstract=_UNLABELLED.sub(r"\1", one("AB")),
            language=one("LA"),
            retracted="Retracted Publication" in types,
            date_revised=_revised(one("LR")),
            is_book="BTI" in tags,
        )
    )


def parse(stream: BinaryIO, *, source: str) -> Iterator[ParsedItem]:
    """Yield one item per MEDLINE record."""
    text = read_utf8(stream, source=source, record_start=RECORD_START)
    for position, (_line, fields) in enumerate(_records(text, source), start=1):
        yield _record(position, fields)
