"""The values one copy of a publication brings, and the field-by-field merge of copies.

Copies of one publication are merged field by field: each field holds the value of the best copy
that has one, copies ranked by revision date (MEDLINE DateRevised / .nbib LR) and then source
quality (MEDLINE XML > .nbib > RIS/BibTeX); an empty value never replaces a present one. The
merge is a maximum over a total order, so the same copies give the same row in any order, and a
copy already merged changes nothing (docs/importing.md).

Pure: plain dicts in and out, nothing from Django. Which stored publication a copy is a copy of
is `dedupe.py`'s question; writing the rows is `writer.py`'s; the import service that runs them
in one transaction is `importer.py`.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date
from itertools import chain
from typing import Any

from .records import AUTHOR_FIELDS, PARSERS_REVISION, ParsedRecord, normalise_doi, normalise_title

# Source quality, the second key of a copy's priority (the first is its revision date).
SOURCE_RANK = {"medline_xml": 3, "nbib": 2, "ris": 1, "bibtex": 1}

# The fields merged copy by copy, in the order they are hashed.
MERGED_FIELDS = (
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
IMPORTED_FIELDS = (
    *MERGED_FIELDS,
    "title_normalized",
    "content_hash",
    "source_fingerprint",
    "field_sources",
    "parser_revision",
)

# Fields that only record where values came from: a change to them alone is bookkeeping.
BOOKKEEPING = ("field_sources", "content_hash", "source_fingerprint", "parser_revision")


def digest(values: dict[str, Any], authors: list[tuple[str, ...]] | None = None) -> str:
    """A digest of the merged fields of a row (or of one copy) and of the parser revision that
    read them: equal digests, equal content and equal priority. Authors are hashed as tuples of
    their parts in AUTHOR_FIELDS order (`authors`, when the caller has them already: cheaper)."""
    if authors is None:
        authors = [tuple(author.values()) for author in values["authors"]]
    payload = (
        *(authors if name == "authors" else values[name] for name in MERGED_FIELDS),
        values["parser_revision"],
    )
    return hashlib.blake2b(repr(payload).encode("utf-8"), digest_size=16).hexdigest()


def content_hash(record: ParsedRecord) -> str:
    """A digest of a record's bibliographic content (not its position in the file)."""
    return str(record_values(record)["content_hash"])


# Widths of the identifier columns: SQLite ignores them, PostgreSQL refuses a longer value.
_IDENTIFIER_LIMITS = (("PMID", 12), ("PMCID", 20), ("DOI", 255))


def unstorable(record: ParsedRecord) -> str | None:
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


def record_values(record: ParsedRecord) -> dict[str, Any]:
    """A parsed record as the row values an import writes (texts cut to their columns' widths,
    identifiers normalised, the digest of its content)."""
    values: dict[str, Any] = {
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
    values["content_hash"] = digest(values, [tuple(author) for author in record.authors])
    return values


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


def row_priority(values: dict[str, Any]) -> Priority:
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
    stored_priority = row_priority(stored)
    sources = stored["field_sources"]
    incoming_priority = row_priority(incoming)
    merged: dict[str, Any] = {}
    chosen: dict[str, Priority] = {}
    for name in MERGED_FIELDS:
        old, new = stored[name], incoming[name]
        old_priority = tuple(sources[name]) if name in sources else stored_priority
        if _empty(new) or (
            not _empty(old)
            and (old_priority, _tiebreak(old)) >= (incoming_priority, _tiebreak(new))
        ):
            merged[name] = old
            chosen[name] = old_priority
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
    merged["content_hash"] = digest(merged)
    merged["source_fingerprint"] = incoming["source_fingerprint"] or stored["source_fingerprint"]
    return merged
