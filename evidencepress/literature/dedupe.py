"""The dedupe index: which known publication, if any, an incoming copy is a copy of.

Duplicates are found by PMID, then DOI (case-insensitive), then normalised title + year when the
first author's surname (or, lacking authors, the journal) agrees. The index holds what the import
service (`importer.py`) knows of stored publications (read batch by batch, `LOOKUP_COLUMNS`) and
of the ones it is about to store. Pure: nothing from Django.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from .records import normalise_title


def first_author_key(authors: Any) -> str:
    """The folded surname (or group name) of the first author, "" without authors."""
    if isinstance(authors, str):
        authors = json.loads(authors) if authors else []
    if not authors:
        return ""
    first = authors[0]
    return normalise_title(first.get("last_name") or first.get("collective_name") or "")


def same_work(author_a: str, journal_a: str, author_b: str, journal_b: str) -> bool:
    """Whether two copies sharing a normalised title and year are the same paper: their first
    authors' surnames agree, or, when one lacks authors, their journals do. Generic titles
    ("Cutaneous sarcoma: a case report") are shared by different papers of one year."""
    if author_a and author_b:
        return author_a == author_b
    if journal_a and journal_b:
        return normalise_title(journal_a) == normalise_title(journal_b)
    return False


@dataclass(slots=True)
class Known:
    """What the importer needs to know of a stored publication, or of one it is about to store.

    `pk` is None for a row written in this import by the bulk insert (looked up again only if a
    later copy in the same import must update it); `pending` holds the values of a row not yet
    written, `values` those of a stored row read in full for a merge (dropped after each batch).
    `fingerprint` is the stored source fingerprint (MEDLINE XML only, else ""). `merged` says the
    row holds fields from more than one copy (`field_sources` not empty). `authors` and `journal`
    serve the title rule (same_work): `authors` is the stored JSON text of a row read from the
    database, folded into `author_key` on first use (a row this import writes has its key only, so
    that the index does not keep every record's author list alive).
    """

    pk: int | None
    pmid: str | None
    doi: str | None
    pmcid: str | None
    title_key: tuple[str, int | None] | None
    content_hash: str
    date_revised: date | None
    pending: dict[str, Any] | None = None
    counted_update: bool = False
    inserted_here: bool = False
    fingerprint: str = ""
    merged: bool = False
    authors: Any = None
    journal: str = ""
    values: dict[str, Any] | None = None
    author_key: str | None = None

    def first_author(self) -> str:
        if self.author_key is None:
            self.author_key = first_author_key(self.authors)
        return self.author_key


def known_from_values(pk: int | None, values: dict[str, Any], **extra: Any) -> Known:
    return Known(
        pk,
        values["pmid"],
        values["doi"],
        values["pmcid"],
        (values["title_normalized"], values["year"]),
        values["content_hash"],
        values["date_revised"],
        fingerprint=values["source_fingerprint"],
        merged=bool(values["field_sources"]),
        journal=values["journal"],
        author_key=first_author_key(values["authors"]),
        **extra,
    )


def _age(known: Known) -> tuple[bool, int]:
    """Oldest first: stored publications by id, then the ones this import writes, in order."""
    return (known.pk is None, known.pk or 0)


class Index:
    """Lookups from identifiers to known publications.

    Several publications may share a normalised title and year (an erratum, a record without its
    PMID beside one with it, two case reports with a generic title), so a title leads to every one
    of them, oldest first: a record takes the first whose PMID does not contradict its own and
    whose first author (or journal) agrees. The order is the same on every database.
    """

    def __init__(self) -> None:
        self.by_pk: dict[int, Known] = {}
        self.by_pmid: dict[str, Known] = {}
        self.by_doi: dict[str, Known] = {}
        self.by_pmcid: dict[str, Known] = {}
        self.by_title: dict[tuple[str, int | None], list[Known]] = {}
        self.loaded_titles: set[str] = set()

    def add(self, known: Known) -> None:
        if known.pk is not None:
            self.by_pk[known.pk] = known
        if known.pmid:
            self.by_pmid[known.pmid] = known
        if known.doi:
            self.by_doi[known.doi] = known
        if known.pmcid:
            self.by_pmcid[known.pmcid] = known
        if known.title_key and known.title_key[0]:
            same_title = self.by_title.setdefault(known.title_key, [])
            if not any(other is known for other in same_title):
                same_title.append(known)
                if len(same_title) > 1:  # stored ones by id, then those this import writes
                    same_title.sort(key=_age)

    def forget(self, known: Known) -> None:
        """Take a known publication out of every lookup (before it changes, or once deleted)."""
        if known.pk is not None and self.by_pk.get(known.pk) is known:
            del self.by_pk[known.pk]
        for table, key in (
            (self.by_pmid, known.pmid),
            (self.by_doi, known.doi),
            (self.by_pmcid, known.pmcid),
        ):
            if key is not None and table.get(key) is known:
                del table[key]
        if known.title_key in self.by_title:
            same_title = [o for o in self.by_title[known.title_key] if o is not known]
            if same_title:
                self.by_title[known.title_key] = same_title
            else:
                del self.by_title[known.title_key]

    def forget_pmids(self, pmids: Iterable[str]) -> None:
        for pmid in pmids:
            known = self.by_pmid.get(pmid)
            if known is not None:
                self.forget(known)

    def find(self, values: dict[str, Any]) -> Known | None:
        pmid = values["pmid"]
        if pmid and pmid in self.by_pmid:
            return self.by_pmid[pmid]
        doi = values["doi"]
        if doi and doi in self.by_doi:
            found = self.by_doi[doi]
            # A DOI match with a different PMID is not the same record.
            if not (pmid and found.pmid and found.pmid != pmid):
                return found
        candidates = self.by_title.get((values["title_normalized"], values["year"]))
        if candidates:
            author = first_author_key(values["authors"])
            for found in candidates:
                if pmid and found.pmid and found.pmid != pmid:
                    continue
                if same_work(author, values["journal"], found.first_author(), found.journal):
                    return found
        return None


LOOKUP_COLUMNS = (
    "id",
    "pmid",
    "doi",
    "pmcid",
    "title_normalized",
    "year",
    "content_hash",
    "date_revised",
    "source_fingerprint",
    "field_sources",
    "authors",
    "journal",
)


def known_from_row(row: tuple[Any, ...]) -> Known:
    pk, pmid, doi, pmcid, title_normalized, year, digest, revised, fingerprint = row[:9]
    sources, authors, journal = row[9:]
    return Known(
        pk,
        pmid,
        doi,
        pmcid,
        (title_normalized, year),
        digest,
        revised,
        fingerprint=fingerprint,
        merged=bool(sources) and sources not in ("{}", {}),
        authors=authors,
        journal=journal or "",
    )
