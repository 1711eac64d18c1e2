"""Identifier and title normalising shared by the importers and the evidence admin.

Below both literature (which reads identifiers from files) and evidence (whose forms take them
typed by an editor), so that a DOI, PMID or title is compared the same way wherever it comes
from. Pure: no Django.
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import unquote

__all__ = ["normalise_doi", "normalise_pmid", "normalise_title"]

# A resolver in front of a DOI: https://doi.org/, http://dx.doi.org/, www.doi.org/, doi.org/,
# and the "doi:" or "DOI " label (DOI Handbook 3.8: the doi: URI scheme and resolver forms).
_DOI_RESOLVER = re.compile(r"^(?:https?://)?(?:www\.|dx\.)?doi\.org/+", re.IGNORECASE)
_DOI_LABEL = re.compile(r"^doi(?::\s*|\s+)", re.IGNORECASE)
# No whitespace and no control character (a NUL from a decoded "%00" cannot be stored).
_DOI_RE = re.compile(r"^10\.\d{4,9}/[^\s\x00-\x1f\x7f]+$")


def normalise_doi(value: str | None) -> str | None:
    """Lower-case a DOI and strip resolver prefixes (DOIs are case-insensitive: DOI Handbook).

    Takes the forms reference managers write: `https://doi.org/…`, `http://dx.doi.org/…`,
    `www.doi.org/…`, `doi:…`, `DOI …`. A resolver URL is URL-decoded (`10.1000%2Fabc`), as is
    a bare DOI whose slash is encoded; a DOI that already reads right is left as it is, so the
    function gives its own output back unchanged.
    """
    if not value:
        return None
    doi = value.strip()
    resolver = _DOI_RESOLVER.match(doi)
    if resolver:
        doi = unquote(doi[resolver.end() :])
    else:
        doi = _DOI_LABEL.sub("", doi, count=1)
        if "/" not in doi and "%2f" in doi.lower():
            doi = unquote(doi)
    lowered = doi.strip().lower().rstrip(".")
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
