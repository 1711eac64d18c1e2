"""schema.org JSON-LD for public pages, built from plain data (no Django imports).

`medical_web_page` turns a `PageFacts` into the dict a search engine reads from
`<script type="application/ld+json">`: a `MedicalWebPage` (https://schema.org/MedicalWebPage)
with `lastReviewed`, `reviewedBy` (a `Person` with credentials), `about` (the topic) and
`citation` (one `ScholarlyArticle` per reference, https://schema.org/ScholarlyArticle).
`json_ld` serialises it so that it can never close the script element it sits in.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from evidencepress.evidence.notices import DEMO_LABEL

DEMO_DESCRIPTION = DEMO_LABEL


@dataclass(frozen=True, slots=True)
class Reviewer:
    name: str
    credentials: str = ""


@dataclass(frozen=True, slots=True)
class Reference:
    """One cited publication, as plain values (authors already formatted as names)."""

    title: str
    authors: tuple[str, ...] = ()
    year: int | None = None
    journal: str = ""
    pmid: str | None = None
    doi: str | None = None
    url: str = ""
    is_demo: bool = False


@dataclass(frozen=True, slots=True)
class TopicFacts:
    name: str
    treatment: str = ""
    condition: str = ""


@dataclass(frozen=True, slots=True)
class PageFacts:
    """What the JSON-LD says about one page."""

    title: str
    url: str
    description: str = ""
    date_published: date | datetime | None = None
    date_modified: date | datetime | None = None
    last_reviewed: date | datetime | None = None
    reviewer: Reviewer | None = None
    topic: TopicFacts | None = None
    references: tuple[Reference, ...] = field(default_factory=tuple)
    publisher: str = "EvidencePress"


def _iso(value: date | datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def scholarly_article(reference: Reference) -> dict[str, Any]:
    """A `ScholarlyArticle` for one reference: name, authors, year, PMID/DOI identifiers, url.

    A demonstration publication carries no identifier (it has none) and says what it is in
    `description`, so that no reader or crawler takes it for a real report.
    """
    article: dict[str, Any] = {"@type": "ScholarlyArticle", "name": reference.title}
    if reference.authors:
        article["author"] = [{"@type": "Person", "name": name} for name in reference.authors]
    if reference.year:
        article["datePublished"] = str(reference.year)
    if reference.journal:
        article["isPartOf"] = {"@type": "Periodical", "name": reference.journal}
    identifiers = []
    if reference.pmid:
        identifiers.append(
            {"@type": "PropertyValue", "propertyID": "PMID", "value": reference.pmid}
        )
    if reference.doi:
        identifiers.append({"@type": "PropertyValue", "propertyID": "DOI", "value": reference.doi})
    if identifiers:
        article["identifier"] = identifiers
    if reference.url:
        article["url"] = reference.url
    elif reference.doi:
        article["url"] = f"https://doi.org/{reference.doi}"
    elif reference.pmid:
        article["url"] = f"https://pubmed.ncbi.nlm.nih.gov/{reference.pmid}/"
    if reference.is_demo:
        article["description"] = DEMO_DESCRIPTION
    return article


def medical_web_page(facts: PageFacts) -> dict[str, Any]:
    """The `MedicalWebPage` JSON-LD object for a page (keys with no value are left out)."""
    data: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "MedicalWebPage",
        "name": facts.title,
        "headline": facts.title,
        "url": facts.url,
        "inLanguage": "en-GB",
        "publisher": {"@type": "Organization", "name": facts.publisher},
    }
    if facts.description:
        data["description"] = facts.description
    for key, value in (
        ("datePublished", facts.date_published),
        ("dateModified", facts.date_modified),
        ("lastReviewed", facts.last_reviewed),
    ):
        if value is not None:
            data[key] = _iso(value)
    if facts.reviewer is not None:
        person: dict[str, Any] = {"@type": "Person", "name": facts.reviewer.name}
        if facts.reviewer.credentials:
            person["hasCredential"] = {
                "@type": "EducationalOccupationalCredential",
                "name": facts.reviewer.credentials,
            }
        data["reviewedBy"] = person
    if facts.topic is not None:
        about: dict[str, Any] = {"@type": "MedicalCondition", "name": facts.topic.name}
        if facts.topic.condition:
            about["name"] = facts.topic.condition
        if facts.topic.treatment:
            about["possibleTreatment"] = {
                "@type": "MedicalTherapy",
                "name": facts.topic.treatment,
            }
        data["about"] = about
        data["keywords"] = facts.topic.name
    if facts.references:
        data["citation"] = [scholarly_article(reference) for reference in facts.references]
    return data


# The characters that could end a <script> element or open an HTML comment inside it are written
# as JSON unicode escapes: the data means the same, and the HTML parser never sees "</script>".
_SCRIPT_SAFE = str.maketrans({"<": "\\u003C", ">": "\\u003E", "&": "\\u0026"})


def json_ld(data: dict[str, Any]) -> str:
    """Serialise JSON-LD for a `<script type="application/ld+json">` element, escaped."""
    return json.dumps(data, ensure_ascii=False, sort_keys=False).translate(_SCRIPT_SAFE)
