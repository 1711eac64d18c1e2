"""Reader for BibTeX files, via bibtexparser 2 (LaTeX accents decoded with pylatexenc).

Read as BibTeX reads a file: field names in any case (`Title`, `TITLE`: older JabRef,
MathSciNet), `@string` macros and `#` concatenation resolved (bibtexparser's own middleware
resolves a field that is one macro only), the standard month macros, and names split into
First von Last, Jr with bibtexparser's name splitter (BibTeX's rules).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any, BinaryIO

import bibtexparser
from bibtexparser.middlewares.names import (
    InvalidNameError,
    parse_single_name_into_parts,
    split_multiple_persons_names,
)
from bibtexparser.model import ParsingFailedBlock
from pylatexenc.latex2text import LatexNodes2Text

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

FORMAT = "bibtex"
RECORD_START = re.compile(rb"(?m)^\s*@")
_LATEX = LatexNodes2Text(math_mode="text", keep_braced_groups=False)
_BARE_AMPERSAND = re.compile(r"(?<!\\)&")
_PMID = re.compile(r"(?:PMID|pubmed)\W{0,3}(\d{1,9})\b|\b(\d{1,9})\s*\[pmid\]", re.IGNORECASE)
_MONTHS = {
    "jan": "January",
    "feb": "February",
    "mar": "March",
    "apr": "April",
    "may": "May",
    "jun": "June",
    "jul": "July",
    "aug": "August",
    "sep": "September",
    "oct": "October",
    "nov": "November",
    "dec": "December",
}


def _plain(value: str) -> str:
    """LaTeX markup to plain text: accents decoded, braces dropped, whitespace folded.

    A bare `&` is text in a field ("Oil & Gas Journal"), not LaTeX's alignment mark."""
    if not value:
        return ""
    value = _BARE_AMPERSAND.sub(r"\\&", value)
    try:
        text = _LATEX.latex_to_text(value)
    except Exception:  # pylatexenc raises assorted errors on odd input
        text = value.replace("{", "").replace("}", "")
    return " ".join(text.split())


def _pieces(raw: str) -> list[str]:
    """A field's value split on `#` outside braces and quotes."""
    pieces: list[str] = []
    depth = 0
    quoted = False
    current: list[str] = []
    for character in raw:
        if character == "{":
            depth += 1
        elif character == "}":
            depth -= 1
        elif character == '"' and depth == 0:
            quoted = not quoted
        elif character == "#" and depth == 0 and not quoted:
            pieces.append("".join(current).strip())
            current = []
            continue
        current.append(character)
    pieces.append("".join(current).strip())
    return pieces


def _resolve(raw: str, macros: dict[str, str]) -> str:
    """A field's raw value as BibTeX reads it: `{…}` and `"…"` are text, a number is itself, a
    name is a macro (@string, or a month), and `#` joins them."""
    parts = []
    for piece in _pieces(raw.strip()):
        if len(piece) >= 2 and (piece[0], piece[-1]) in (("{", "}"), ('"', '"')):
            parts.append(piece[1:-1])
        elif piece.isdigit():
            parts.append(piece)
        else:
            parts.append(macros.get(piece.lower(), piece))
    return "".join(parts)


def _split_names(value: str) -> list[str]:
    """The names of an author field (split on " and " outside braces, BibTeX's rule)."""
    return [name for name in split_multiple_persons_names(value) if name.strip()]


def _author(name: str) -> Author:
    """One name, First von Last, Jr (BibTeX's forms "First von Last", "von Last, First",
    "von Last, Jr, First"). A name in braces is a group ({World Health Organization})."""
    name = name.strip()
    if name.startswith("{") and name.endswith("}") and _balanced_inside(name):
        return Author(collective_name=_plain(name[1:-1]))
    try:
        parts = parse_single_name_into_parts(name, strict=False)
    except InvalidNameError:
        return Author(collective_name=_plain(name))
    last = _plain(" ".join([*parts.von, *parts.last]))
    fore = _plain(" ".join(parts.first))
    if not last and fore:
        last, fore = fore, ""
    return Author(last_name=last, fore_name=fore, initials=initials_of(fore))


def _balanced_inside(name: str) -> bool:
    """Whether the outer braces of "{…}" enclose the whole name (not "{A} and {B}")."""
    depth = 0
    for index, character in enumerate(name):
        depth += character == "{"
        depth -= character == "}"
        if depth == 0 and index < len(name) - 1:
            return False
    return True


def _pmid(fields: dict[str, str]) -> str | None:
    value = fields.get("pmid", "").strip()
    if value.isdigit():
        return normalise_pmid(value)
    if fields.get("eprinttype", "").lower() == "pubmed" and fields.get("eprint", "").isdigit():
        return normalise_pmid(fields["eprint"])
    for key in ("pmid", "note", "annote", "annotation", "addendum", "extra"):
        match = _PMID.search(fields.get(key, ""))
        if match:
            return normalise_pmid(match.group(1) or match.group(2))
    return None


def _doi(fields: dict[str, str]) -> str | None:
    doi = normalise_doi(fields.get("doi"))
    if doi:
        return doi
    url = fields.get("url", "")
    return normalise_doi(url) if "doi.org/" in url.lower() else None


def _record(position: int, entry: Any, macros: dict[str, str]) -> ParsedItem:
    fields: dict[str, str] = {}
    for field in entry.fields:  # BibTeX field names are case-insensitive; the last one wins
        value = field.value
        text = value if isinstance(value, str) else str(value)
        fields[field.key.lower()] = _resolve(text, macros).strip()
    title = _plain(fields.get("title", ""))
    if not title:
        return RecordError(position, "entry has no title", entry.key)
    keywords = tuple(
        k.strip() for k in re.split(r"[,;]", _plain(fields.get("keywords", ""))) if k.strip()
    )
    pages = fields.get("pages", "").replace("--", "-").replace("–", "-")
    return checked(
        ParsedRecord(
            source_format=FORMAT,
            position=position,
            title=title,
            pmid=_pmid(fields),
            doi=_doi(fields),
            pmcid=fields.get("pmcid") or None,
            journal=_plain(
                fields.get("journal") or fields.get("journaltitle") or fields.get("booktitle", "")
            ),
            year=first_year(fields.get("year") or fields.get("date")),
            volume=_plain(fields.get("volume", "")),
            issue=_plain(fields.get("number") or fields.get("issue", "")),
            pages=" ".join(pages.split()),
            authors=tuple(_author(n) for n in _split_names(fields.get("author", ""))),
            publication_types=(entry.entry_type.lower(),),
            keywords=keywords,
            abstract=_plain(fields.get("abstract", "")),
            language=_plain(fields.get("language", "")),
        )
    )


def _macros(library: Any) -> dict[str, str]:
    """@string macros, each resolved against the ones before it (names are case-insensitive)."""
    macros = dict(_MONTHS)
    for string in library.strings:
        macros[string.key.lower()] = _resolve(str(string.value), macros)
    return macros


def parse(stream: BinaryIO, *, source: str) -> Iterator[ParsedItem]:
    """Yield one item per BibTeX entry; unparseable blocks become RecordError items."""
    text = read_utf8(stream, source=source, record_start=RECORD_START)
    # No middleware: the raw values keep their braces, quotes and `#`, which _resolve reads.
    library = bibtexparser.parse_string(text, parse_stack=[])  # type: ignore[attr-defined]
    blocks = sorted([*library.entries, *library.failed_blocks], key=lambda b: b.start_line or 0)
    if not blocks:
        raise LiteratureParseError(source, "no BibTeX entries found")
    if not library.entries:
        raise LiteratureParseError(source, "no readable BibTeX entries (every block failed)")
    macros = _macros(library)
    for position, block in enumerate(blocks, start=1):
        if isinstance(block, ParsingFailedBlock):
            key = getattr(block, "key", None)
            yield RecordError(
                position,
                f"unreadable BibTeX entry starting on line {(block.start_line or 0) + 1}: "
                f"{getattr(block, 'error', 'parse error')}",
                str(key) if key else None,
            )
        else:
            yield _record(position, block, macros)
