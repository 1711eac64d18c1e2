"""AMA-style references (AMA Manual of Style, 11th edition, section 3.13), from plain data.

A publication's reference is knowledge about the evidence, so it lives here: article reference
lists (`articles`), the public publication page (`evidence.public_views`) and the sources of a
reader's summary (`summaries.evidence_inputs`) all format through this module.

Pure: imports nothing from Django, only `core.text` (`reference_data` reads a Publication
through the `PublicationFields` protocol, not the model class). The rules we apply:

- authors as "Surname Initials" without full stops, separated by commas; with more than six
  authors, the first three followed by "et al";
- the article title as stored, ending with a full stop; a title the curators did not see (stored
  as the placeholder `TITLE_NOT_SEEN` followed by their description of the article) is left
  out, never shown to readers as if it were the title;
- the journal abbreviation as stored (italicised by the template), then
  "year;volume(issue):pages." with abbreviated page ranges written in full (845-50 → 845-850);
- "doi:10.xxx" at the end when a DOI is known. PubMed and DOI links are given alongside.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from evidencepress.core.text import strip_invisible

from . import notices

MAX_AUTHORS = 6
# How a record stores a title nobody saw: this placeholder, then the curators' description
# (demo/data/README.md, `untitled_label`).
TITLE_NOT_SEEN = "[Title not seen]"
LISTED_WHEN_TRUNCATED = 3
DEMO_LABEL = notices.DEMO_LABEL


@dataclass(frozen=True, slots=True)
class ReferenceData:
    """One publication, as plain data."""

    authors: Sequence[Mapping[str, str]] = ()
    title: str = ""
    journal: str = ""
    year: int | None = None
    volume: str = ""
    issue: str = ""
    pages: str = ""
    doi: str = ""
    pmid: str = ""
    is_demo: bool = False
    key: str = ""  # an identifier for links (e.g. the publication's primary key)


@dataclass(frozen=True, slots=True)
class FormattedReference:
    number: int
    authors: str  # "Zhang X, Xie Y, Wang L."
    title: str  # "Rare cutaneous side effects of a cream."
    journal: str  # italicised by the template
    details: str  # "2023;13(9):1909-1934."
    doi: str  # "doi:10.1007/..." or ""
    pubmed_url: str
    doi_url: str
    is_demo: bool
    key: str
    back_link: str = ""  # id of the first place the text cites this reference, if it shows one

    @property
    def text(self) -> str:
        """The whole reference as one plain string."""
        parts = [self.authors, self.title, self.journal + "." if self.journal else "", self.details]
        text = " ".join(p for p in parts if p)
        if self.doi:
            text += f" {self.doi}"
        return text

    @property
    def demo_label(self) -> str:
        return DEMO_LABEL if self.is_demo else ""


def _initials(author: Mapping[str, str]) -> str:
    initials = (author.get("initials") or "").replace(".", "").replace(" ", "")
    if initials:
        return initials
    fore = author.get("fore_name") or ""
    return "".join(part[0].upper() for part in re.split(r"[\s.\-]+", fore) if part)


def format_author(author: Mapping[str, str]) -> str:
    """'Surname FM', or a group author's name as given."""
    collective = (author.get("collective_name") or "").strip()
    if collective:
        return collective
    last = (author.get("last_name") or "").strip()
    initials = _initials(author)
    return f"{last} {initials}".strip()


def format_authors(authors: Sequence[Mapping[str, str]]) -> str:
    names = [name for name in (format_author(a) for a in authors) if name]
    if not names:
        return ""
    if len(names) > MAX_AUTHORS:
        names = [*names[:LISTED_WHEN_TRUNCATED], "et al"]
    return ", ".join(names) + "."


def full_page_range(pages: str) -> str:
    """'845-50' → '845-850'; other forms are returned unchanged (AMA gives ranges in full)."""
    pages = pages.strip().replace("–", "-")
    match = re.fullmatch(r"(\d+)-(\d+)", pages)
    if not match:
        return pages
    first, last = match.groups()
    if len(last) < len(first):
        last = first[: len(first) - len(last)] + last
    return f"{first}-{last}"


def _with_stop(text: str) -> str:
    text = " ".join(text.split())
    if text and text[-1] not in ".?!":
        text += "."
    return text


def format_details(data: ReferenceData) -> str:
    """'2023;13(9):1909-1934.' with whatever parts are known."""
    out = str(data.year) if data.year else ""
    if data.volume:
        out += f";{data.volume}" if out else data.volume
    if data.issue:
        out += f"({data.issue})" if data.volume or not out else f";({data.issue})"
    if data.pages:
        out += f":{full_page_range(data.pages)}"
    return out + "." if out else ""


def format_ama(data: ReferenceData, *, number: int) -> FormattedReference:
    """Format one reference in AMA style."""
    doi = data.doi.strip()
    pmid = data.pmid.strip()
    return FormattedReference(
        number=number,
        authors=format_authors(data.authors),
        title=_with_stop(data.title),
        journal=data.journal.strip().rstrip("."),
        details=format_details(data),
        doi=f"doi:{doi}" if doi else "",
        pubmed_url=f"https://pubmed.ncbi.nlm.nih.gov/{pmid}/" if pmid else "",
        doi_url=f"https://doi.org/{doi}" if doi else "",
        is_demo=data.is_demo,
        key=data.key,
    )


class PublicationFields(Protocol):
    """What `reference_data` reads of an `evidence.models.Publication`."""

    pk: Any
    authors: Any
    title: str
    journal: str
    year: int | None
    volume: str
    issue: str
    pages: str
    doi: str | None
    pmid: str | None
    is_demo: bool


def title_seen(title: str) -> bool:
    """False for a stored title that is the "title not seen" placeholder."""
    return not strip_invisible(title or "").lstrip().startswith(TITLE_NOT_SEEN)


def title_for_readers(title: str) -> str:
    """The title as a reader may see it: a placeholder gives the curators' description."""
    text = strip_invisible(title or "").strip()
    if text.startswith(TITLE_NOT_SEEN):
        return text[len(TITLE_NOT_SEEN) :].strip()
    return text


def reference_data(publication: PublicationFields) -> ReferenceData:
    """A Publication as the plain data the AMA formatter takes (without a title nobody saw)."""
    return ReferenceData(
        authors=tuple(publication.authors or ()),
        # An imported title may carry bidi overrides or zero-width characters: never to readers.
        title=strip_invisible(publication.title) if title_seen(publication.title) else "",
        journal=strip_invisible(publication.journal),
        year=publication.year,
        volume=publication.volume,
        issue=publication.issue,
        pages=publication.pages,
        doi=publication.doi or "",
        pmid=publication.pmid or "",
        is_demo=publication.is_demo,
        key=str(publication.pk),
    )


def publication_reference(publication: PublicationFields, *, number: int = 1) -> FormattedReference:
    """One publication formatted in AMA style."""
    return format_ama(reference_data(publication), number=number)
