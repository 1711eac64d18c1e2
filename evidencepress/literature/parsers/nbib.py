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
    normalise_doi,
    normalise_pmid,
)

from ._text import first_year, read_utf8

FORMAT = "nbib"
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


def _record(position: int, fields: list[tuple[str, str]]) -> ParsedItem:
    tags: dict[str, list[str]] = {}
    authors: list[Author] = []
    for tag, value in fields:
        tags.setdefault(tag, []).append(value)
        if tag == "FAU":
            last, _, fore = value.partition(",")
            fore = fore.strip()
            initials = "".join(part[0] for part in fore.replace("-", " ").split() if part)
            authors.append(Author(last_name=last.strip(), fore_name=fore, initials=initials))
        elif tag == "CN":
            authors.append(Author(collective_name=value))

    def one(tag: str) -> str:
        return tags.get(tag, [""])[0]

    if not any(a.last_name for a in authors) and "AU" in tags:
        persons = [
            Author(last_name=v.rsplit(" ", 1)[0], initials=v.rsplit(" ", 1)[-1]) for v in tags["AU"]
        ]
        authors = persons + [a for a in authors if a.collective_name]
    pmid = normalise_pmid(one("PMID"))
    title = one("TI") or one("BTI")
    if pmid is None:
        return RecordError(position, "record has no PMID", title[:80] or None)
    if not title:
        return RecordError(position, "record has no title", pmid)
    ids = tags.get("AID", []) + tags.get("LID", [])
    types = tuple(tags.get("PT", []))
    pmcid = one("PMC") or _bracketed(ids, "pmc") or None
    return ParsedRecord(
        source_format=FORMAT,
        position=position,
        title=title,
        pmid=pmid,
        doi=normalise_doi(_bracketed(ids, "doi")),
        pmcid=pmcid,
        journal=one("JT") or one("TA"),
        year=first_year(one("DP")),
        volume=one("VI"),
        issue=one("IP"),
        pages=one("PG"),
        authors=tuple(authors),
        publication_types=types,
        mesh_terms=tuple(v.split("/")[0].lstrip("*").strip() for v in tags.get("MH", [])),
        keywords=tuple(tags.get("OT", [])),
        abstract=one("AB"),
        language=one("LA"),
        retracted="Retracted Publication" in types,
        date_revised=_revised(one("LR")),
        is_book="BTI" in tags and "TI" not in tags,
    )


def parse(stream: BinaryIO, *, source: str) -> Iterator[ParsedItem]:
    """Yield one item per MEDLINE record."""
    text = read_utf8(stream, source=source)
    for position, (_line, fields) in enumerate(_records(text, source), start=1):
        yield _record(position, fields)
