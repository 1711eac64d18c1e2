"""Streaming reader for PubMed/MEDLINE XML (PubmedArticleSet, PubmedBookSet, update files).

Reads records with lxml `iterparse` on end events, clearing each record and its earlier siblings so
memory stays flat on a baseline file of 30,000 records. Entities are not resolved, no DTD is loaded
and nothing is fetched from the network (defence against XXE and entity-expansion attacks). Element
names follow NLM's PubMed DTD (pubmed_250101.dtd).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from typing import Any, BinaryIO

from lxml import etree

from evidencepress.literature.records import (
    Author,
    DeletedCitations,
    LiteratureParseError,
    ParsedItem,
    ParsedRecord,
    RecordError,
    normalise_doi,
    normalise_pmid,
)

FORMAT = "medline_xml"
_RECORD_TAGS = ("PubmedArticle", "PubmedBookArticle", "DeleteCitation")
_ROOTS = {"PubmedArticleSet", "PubmedBookSet"}
_YEAR = re.compile(r"(1[89]\d\d|20\d\d|21\d\d)")
_SPACE = re.compile(r"\s+")
_RETRACTED = "Retracted Publication"


def _text(element: Any) -> str:
    """All text of an element, inline markup (<i>, <sup>, …) flattened, whitespace normalised."""
    if element is None:
        return ""
    if len(element) == 0:
        value = element.text
        return _SPACE.sub(" ", value).strip() if value else ""
    return _SPACE.sub(" ", "".join(element.itertext())).strip()


def _year(pub_date: Any) -> int | None:
    if pub_date is None:
        return None
    value = pub_date.findtext("Year") or pub_date.findtext("MedlineDate") or ""
    match = _YEAR.search(value)
    return int(match.group(1)) if match else None


def _date(element: Any) -> date | None:
    if element is None:
        return None
    try:
        return date(
            int(element.findtext("Year")),
            int(element.findtext("Month") or 1),
            int(element.findtext("Day") or 1),
        )
    except (TypeError, ValueError):
        return None


def _authors(author_list: Any) -> tuple[Author, ...]:
    if author_list is None:
        return ()
    authors = []
    for author in author_list.iterfind("Author"):
        if author.get("ValidYN") == "N":
            continue
        collective = author.find("CollectiveName")
        if collective is not None:
            authors.append(Author(collective_name=_text(collective)))
            continue
        authors.append(
            Author(
                last_name=author.findtext("LastName") or "",
                fore_name=author.findtext("ForeName") or "",
                initials=author.findtext("Initials") or "",
            )
        )
    return tuple(authors)


def _abstract(abstract: Any) -> str:
    if abstract is None:
        return ""
    parts = []
    for section in abstract.iterfind("AbstractText"):
        body = _text(section)
        label = section.get("Label")
        parts.append(f"{label}: {body}" if label and body else body)
    return "\n\n".join(p for p in parts if p)


def _article_ids(id_list: Any) -> dict[str, str]:
    ids: dict[str, str] = {}
    if id_list is None:
        return ids
    for article_id in id_list.iterfind("ArticleId"):
        kind = article_id.get("IdType")
        value = (article_id.text or "").strip()
        if kind and value and kind not in ids:
            ids[kind] = value
    return ids


def _pmcid(ids: dict[str, str]) -> str | None:
    value = ids.get("pmc")
    if not value:
        return None
    value = value.upper()
    return value if value.startswith("PMC") else f"PMC{value}"


def _article(element: Any, position: int) -> ParsedItem:
    citation = element.find("MedlineCitation")
    if citation is None:
        return RecordError(position, "PubmedArticle without MedlineCitation")
    pmid = normalise_pmid(citation.findtext("PMID"))
    article = citation.find("Article")
    title = _text(article.find("ArticleTitle")) if article is not None else ""
    if not title and article is not None:
        title = _text(article.find("VernacularTitle"))
    if pmid is None:
        return RecordError(position, "record has no PMID", title[:80] or None)
    if not title:
        return RecordError(position, "record has no title", pmid)
    journal = article.find("Journal")
    issue = journal.find("JournalIssue") if journal is not None else None
    ids = _article_ids(element.find("PubmedData/ArticleIdList"))
    doi = None
    for location in article.iterfind("ELocationID"):
        if location.get("EIdType") == "doi":
            doi = normalise_doi(location.text)
            break
    if doi is None:
        doi = normalise_doi(ids.get("doi"))
    types = tuple(
        _text(t) for t in article.iterfind("PublicationTypeList/PublicationType") if t.text
    )
    mesh = tuple(_text(d) for d in citation.iterfind("MeshHeadingList/MeshHeading/DescriptorName"))
    keywords = tuple(_text(k) for k in citation.iterfind("KeywordList/Keyword") if len(k) or k.text)
    return ParsedRecord(
        source_format=FORMAT,
        position=position,
        title=title,
        pmid=pmid,
        doi=doi,
        pmcid=_pmcid(ids),
        journal=(journal.findtext("Title") or journal.findtext("ISOAbbreviation") or "").strip()
        if journal is not None
        else "",
        year=_year(issue.find("PubDate")) if issue is not None else None,
        volume=(issue.findtext("Volume") or "").strip() if issue is not None else "",
        issue=(issue.findtext("Issue") or "").strip() if issue is not None else "",
        pages=(article.findtext("Pagination/MedlinePgn") or "").strip(),
        authors=_authors(article.find("AuthorList")),
        publication_types=types,
        mesh_terms=mesh,
        keywords=keywords,
        abstract=_abstract(article.find("Abstract")),
        language=article.findtext("Language") or "",
        retracted=_RETRACTED in types,
        date_revised=_date(citation.find("DateRevised")),
    )


def _book(element: Any, position: int) -> ParsedItem:
    document = element.find("BookDocument")
    if document is None:
        return RecordError(position, "PubmedBookArticle without BookDocument")
    pmid = normalise_pmid(document.findtext("PMID"))
    book = document.find("Book")
    title = _text(document.find("ArticleTitle"))
    if not title and book is not None:
        title = _text(book.find("BookTitle"))
    if pmid is None:
        return RecordError(position, "book record has no PMID", title[:80] or None)
    if not title:
        return RecordError(position, "book record has no title", pmid)
    ids = _article_ids(document.find("ArticleIdList"))
    ids.update(_article_ids(element.find("PubmedBookData/ArticleIdList")))
    authors = _authors(document.find("AuthorList"))
    if not authors and book is not None:
        authors = _authors(book.find("AuthorList"))
    types = tuple(_text(t) for t in document.iterfind("PublicationType") if t.text)
    return ParsedRecord(
        source_format=FORMAT,
        position=position,
        title=title,
        pmid=pmid,
        doi=normalise_doi(ids.get("doi")),
        pmcid=_pmcid(ids),
        journal=_text(book.find("BookTitle")) if book is not None else "",
        year=_year(book.find("PubDate")) if book is not None else None,
        authors=authors,
        publication_types=types,
        keywords=tuple(_text(k) for k in document.iterfind("KeywordList/Keyword")),
        abstract=_abstract(document.find("Abstract")),
        language=document.findtext("Language") or "",
        retracted=_RETRACTED in types,
        date_revised=_date(document.find("DateRevised")),
        is_book=True,
    )


def _deleted(element: Any, position: int) -> DeletedCitations:
    pmids = tuple(p for p in (normalise_pmid(e.text) for e in element.iterfind("PMID")) if p)
    return DeletedCitations(position=position, pmids=pmids)


_HANDLERS = {"PubmedArticle": _article, "PubmedBookArticle": _book, "DeleteCitation": _deleted}


def parse(stream: BinaryIO, *, source: str) -> Iterator[ParsedItem]:
    """Yield one item per PubmedArticle, PubmedBookArticle or DeleteCitation, in file order."""
    context = etree.iterparse(
        stream,
        events=("end",),
        tag=_RECORD_TAGS,
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )
    position = 0
    try:
        for _event, element in context:
            parent = element.getparent()
            if position == 0 and (parent is None or parent.tag not in _ROOTS):
                raise LiteratureParseError(
                    source, "not a PubMed XML file (records are not inside PubmedArticleSet)"
                )
            position += 1
            try:
                yield _HANDLERS[element.tag](element, position)
            finally:
                element.clear(keep_tail=False)
                while element.getprevious() is not None:
                    del parent[0]
        root = context.root
        if root is None or root.tag not in _ROOTS:
            raise LiteratureParseError(source, "not a PubMed XML file (no PubmedArticleSet)")
    except etree.XMLSyntaxError as exc:
        line = f" at line {exc.lineno}" if getattr(exc, "lineno", None) else ""
        message = str(exc.msg if hasattr(exc, "msg") and exc.msg else exc)
        raise LiteratureParseError(
            source, f"the XML is malformed or truncated{line}: {message}", position=position + 1
        ) from exc
