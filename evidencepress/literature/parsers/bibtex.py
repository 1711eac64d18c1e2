"""Reader for BibTeX files, via bibtexparser 2 (LaTeX accents decoded with pylatexenc)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, BinaryIO

import bibtexparser
from bibtexparser.model import ParsingFailedBlock
from pylatexenc.latex2text import LatexNodes2Text

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

FORMAT = "bibtex"
_LATEX = LatexNodes2Text(math_mode="text", keep_braced_groups=False)


def _plain(value: str) -> str:
    """LaTeX markup to plain text: accents decoded, braces dropped, whitespace folded."""
    if not value:
        return ""
    try:
        text = _LATEX.latex_to_text(value)
    except Exception:  # pylatexenc raises assorted errors on odd input
        text = value.replace("{", "").replace("}", "")
    return " ".join(text.split())


def _split_names(value: str) -> list[str]:
    """Split an author field on ' and ' outside braces (BibTeX's rule)."""
    names: list[str] = []
    current: list[str] = []
    depth = 0
    tokens = value.replace("\n", " ").split(" ")
    for token in tokens:
        depth += token.count("{") - token.count("}")
        if token.lower() == "and" and depth == 0:
            names.append(" ".join(current).strip())
            current = []
        else:
            current.append(token)
    names.append(" ".join(current).strip())
    return [n for n in names if n]


def _author(name: str) -> Author:
    if name.startswith("{") and name.endswith("}") and name.count("{") == 1:
        return Author(collective_name=_plain(name[1:-1]))
    if "," in name:
        last, _, fore = name.partition(",")
    else:
        fore, _, last = name.rpartition(" ")
    last, fore = _plain(last), _plain(fore)
    initials = "".join(p[0] for p in fore.replace(".", " ").replace("-", " ").split() if p)
    return Author(last_name=last, fore_name=fore, initials=initials)


def _field(entry: Any, key: str) -> str:
    field = entry.fields_dict.get(key)
    return str(field.value).strip() if field is not None and field.value is not None else ""


def _record(position: int, entry: Any) -> ParsedItem:
    title = _plain(_field(entry, "title"))
    pmid = normalise_pmid(_field(entry, "pmid"))
    if not title:
        return RecordError(position, "entry has no title", entry.key)
    keywords = tuple(k.strip() for k in _plain(_field(entry, "keywords")).split(",") if k.strip())
    return ParsedRecord(
        source_format=FORMAT,
        position=position,
        title=title,
        pmid=pmid,
        doi=normalise_doi(_field(entry, "doi")),
        pmcid=_field(entry, "pmcid") or None,
        journal=_plain(_field(entry, "journal") or _field(entry, "booktitle")),
        year=first_year(_field(entry, "year") or _field(entry, "date")),
        volume=_field(entry, "volume"),
        issue=_field(entry, "number"),
        pages=_field(entry, "pages").replace("--", "-"),
        authors=tuple(_author(n) for n in _split_names(_field(entry, "author"))),
        publication_types=(entry.entry_type,),
        keywords=keywords,
        abstract=_plain(_field(entry, "abstract")),
        language=_field(entry, "language"),
    )


def parse(stream: BinaryIO, *, source: str) -> Iterator[ParsedItem]:
    """Yield one item per BibTeX entry; unparseable blocks become RecordError items."""
    text = read_utf8(stream, source=source)
    library = bibtexparser.parse_string(text)  # type: ignore[attr-defined]
    blocks = sorted([*library.entries, *library.failed_blocks], key=lambda b: b.start_line or 0)
    if not blocks:
        raise LiteratureParseError(source, "no BibTeX entries found")
    if not library.entries:
        raise LiteratureParseError(source, "no readable BibTeX entries (every block failed)")
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
            yield _record(position, block)
