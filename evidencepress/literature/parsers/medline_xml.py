"""Streaming reader for PubMed/MEDLINE XML (PubmedArticleSet, PubmedBookSet, update files).

Reads records with lxml `iterparse` on end events, clearing each record and its earlier siblings so
memory stays flat on a baseline file of 30,000 records. Entities are not resolved, no DTD is loaded
and nothing is fetched from the network (defence against XXE and entity-expansion attacks). Element
names follow NLM's PubMed DTD (pubmed_250101.dtd).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from datetime import date
from typing import Any, BinaryIO

from lxml import etree

from evidencepress.literature.medline_bytes import (
    RECORD_TAGS,
    ROOT_START,
    find_opener,
)
from evidencepress.literature.records import (
    Author,
    DeletedCitations,
    KnownRecords,
    LiteratureParseError,
    ParsedItem,
    ParsedRecord,
    RecordError,
    UnchangedRecord,
    checked,
    normalise_doi,
    normalise_pmid,
)

FORMAT = "medline_xml"
# PubmedBookArticleSet: the root NLM's DTD gives a set of book records; PubmedBookSet: older tools.
_ROOTS = {"PubmedArticleSet", "PubmedBookSet", "PubmedBookArticleSet"}
_YEAR = re.compile(r"(1[89]\d\d|20\d\d|21\d\d)")
_SPACE = re.compile(r"\s+")
_RETRACTED = "Retracted Publication"
# Part of every fingerprint: change it whenever a change to this module changes what is extracted,
# so that the next import re-reads records instead of trusting fingerprints from older code.
PARSER_REVISION = 4
PARSER_VERSION = f"evidencepress medline_xml {PARSER_REVISION}".encode()
# Every fingerprint starts with the revision that took it (revision 3 on): the importer replaces
# a fingerprint an older parser took, and keeps one of a copy formatted differently.
FINGERPRINT_PREFIX = f"{PARSER_REVISION}:"
_CHUNK = 64


def _text(element: Any) -> str:
    """All text of an element, inline markup (<i>, <sup>, …) flattened, whitespace normalised.

    Markup that carries meaning keeps it: a superscript number is an exponent (`10^−19`), and a
    MathML <sep/> separates two numbers (`17–29`; `17/29` in a rational, `1.2e3` in e-notation)
    instead of gluing them together.
    """
    if element is None:
        return ""
    value: str
    if len(element) == 0:
        value = element.text
        if not value:
            return ""
    else:
        for _special in element.iter(_MEANINGFUL):
            parts: list[str] = []
            _flatten(element, parts)
            return _clean("".join(parts))
        value = "".join(element.itertext())
    return _clean(value)


_MATHML = "{http://www.w3.org/1998/Math/MathML}"
_MEANINGFUL = ("sup", "sep", "msup", f"{_MATHML}sep", f"{_MATHML}msup", "mml:sep", "mml:msup")
_SEPARATORS = {"rational": "/", "e-notation": "e", "complex-cartesian": " + i", "": "–"}
_MINUS = str.maketrans({"-": "−", "–": "−"})


def _local(tag: Any) -> str:
    return tag.rpartition("}")[2].rpartition(":")[2] if isinstance(tag, str) else ""


def _exponent(text: str) -> str:
    text = text.strip()
    return "^" + (text[:1].translate(_MINUS) + text[1:])


def _flatten(element: Any, parts: list[str]) -> None:
    if element.text:
        parts.append(element.text)
    for child in element:
        name = _local(child.tag)
        if name == "sep":
            parts.append(_SEPARATORS.get(element.get("type", ""), "–"))
        elif name == "sup":
            inner = "".join(child.itertext())
            # A number raised after a base (10, m, a bracket) is an exponent; a sign (CD31+) or a
            # number before a word (an isotope, "<sup>18</sup>F-FDG") reads as it is.
            before = next((part for part in reversed(parts) if part), "")[-1:]
            raised = before.isalnum() or before in (")", "]")
            parts.append(_exponent(inner) if raised and any(c.isdigit() for c in inner) else inner)
        elif name == "msup" and len(child) >= 2:
            base: list[str] = []
            _flatten(child[0], base)
            exponent: list[str] = []
            _flatten(child[1], exponent)
            parts.append("".join(base).strip() + _exponent("".join(exponent)))
        else:
            _flatten(child, parts)
        if child.tail:
            parts.append(child.tail)


def _clean(value: str) -> str:
    """Whitespace normalised. Most text is already clean, and checking is cheaper than fixing."""
    if "\n" in value or "  " in value or "\t" in value or "\r" in value:
        return " ".join(value.split())
    return value.strip()


# lxml's find()/findtext() go through a Python path engine; walking children directly is several
# times faster, which matters on a 30,000-record baseline file.
def _child(element: Any, tag: str) -> Any:
    if element is None:
        return None
    for child in element.iterchildren(tag):
        return child
    return None


def _child_text(element: Any, tag: str) -> str:
    child = _child(element, tag)
    if child is None:
        return ""
    value = child.text
    return value.strip() if value else ""


def _tags(element: Any) -> dict[str, Any]:
    """The children of an element by tag (the first of each)."""
    found: dict[str, Any] = {}
    if element is not None:
        for child in element:
            found.setdefault(child.tag, child)
    return found


def _stripped(element: Any) -> str:
    if element is None:
        return ""
    value = element.text
    return value.strip() if value else ""


_MESH = etree.XPath("MeshHeading/DescriptorName/text()", smart_strings=False)


def _year(pub_date: Any) -> int | None:
    if pub_date is None:
        return None
    value = _child_text(pub_date, "Year") or _child_text(pub_date, "MedlineDate")
    match = _YEAR.search(value)
    return int(match.group(1)) if match else None


def _date(element: Any) -> date | None:
    if element is None:
        return None
    year = month = day = None
    for child in element:
        tag = child.tag
        if tag == "Year":
            year = child.text
        elif tag == "Month":
            month = child.text
        elif tag == "Day":
            day = child.text
    try:
        return date(int(year), int(month or 1), int(day or 1))  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):  # OverflowError: a 30-digit "year"
        return None


# The DTD: Author ((LastName, ForeName?, Initials?, Suffix?) | CollectiveName), Identifier*,
# AffiliationInfo*. One walk over the author list visits only these elements (lxml matches the
# tags in C, so no Python object is made for affiliations or identifiers), with one tag matcher
# per list rather than one per author.
_AUTHOR_TAGS = ("Author", "LastName", "ForeName", "Initials", "CollectiveName")


def _authors(author_list: Any) -> tuple[Author, ...]:
    if author_list is None:
        return ()
    authors = []
    last = fore = initials = ""
    open_author = False  # an Author whose name parts are being read
    for element in author_list.iter(_AUTHOR_TAGS):
        tag = element.tag
        if tag == "Author":
            if open_author:
                authors.append(Author(last, fore, initials))
            last = fore = initials = ""
            open_author = element.get("ValidYN") != "N"
        elif not open_author:
            continue  # an author marked invalid, or the rest of a collective author
        elif tag == "LastName":
            last = element.text or ""
        elif tag == "ForeName":
            fore = element.text or ""
        elif tag == "Initials":
            initials = element.text or ""
        else:  # CollectiveName
            authors.append(Author("", "", "", _text(element)))
            open_author = False
    if open_author:
        authors.append(Author(last, fore, initials))
    return tuple(authors)


def _abstract(abstract: Any) -> str:
    if abstract is None:
        return ""
    parts = []
    for section in abstract.iterchildren("AbstractText"):
        body = _text(section)
        label = section.get("Label")
        if label == "UNLABELLED":  # NLM's mark for a section without a heading: not a heading
            label = None
        if body:
            parts.append(f"{label}: {body}" if label else body)
    return "\n\n".join(parts)


def _article_ids(id_list: Any) -> dict[str, str]:
    ids: dict[str, str] = {}
    if id_list is None:
        return ids
    for article_id in id_list.iterchildren("ArticleId"):
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


def _texts(container: Any, tag: str) -> tuple[str, ...]:
    if container is None:
        return ()
    return tuple(text for text in map(_text, container.iterchildren(tag)) if text)


_CITATION_TAGS = ("PMID", "DateRevised", "Article", "MeshHeadingList", "KeywordList")


def _article(element: Any, position: int, fingerprint: str = "") -> ParsedItem:
    citation = pubmed_data = None
    for child in element:
        tag = child.tag
        if tag == "MedlineCitation":
            citation = child
        elif tag == "PubmedData":
            pubmed_data = child
    if citation is None:
        return RecordError(position, "PubmedArticle without MedlineCitation")
    # One pass over the citation and one over the article, keeping the first element of each
    # tag (lxml makes a Python object for every element touched, so each is touched once).
    pmid_element = article = revised = None
    keyword_lists = []
    mesh_lists = []
    for child in citation.iterchildren(*_CITATION_TAGS):
        tag = child.tag
        if tag == "Article":
            if article is None:
                article = child
        elif tag == "PMID":
            if pmid_element is None:
                pmid_element = child
        elif tag == "MeshHeadingList":
            mesh_lists.append(child)
        elif tag == "KeywordList":
            keyword_lists.append(child)
        elif revised is None:
            revised = child  # DateRevised
    pmid = normalise_pmid(pmid_element.text if pmid_element is not None else None)
    fields: dict[str, Any] = {}
    doi = None
    if article is not None:
        for child in article:
            tag = child.tag
            if tag == "ELocationID":
                if doi is None and child.get("EIdType") == "doi":
                    doi = normalise_doi(child.text)
            elif tag not in fields:
                fields[tag] = child
    title = _text(fields.get("ArticleTitle")) or _text(fields.get("VernacularTitle"))
    if pmid is None:
        return RecordError(position, "record has no PMID", title[:80] or None)
    if not title:
        return RecordError(position, "record has no title", pmid)
    journal = _tags(fields.get("Journal"))
    issue = _tags(journal.get("JournalIssue"))
    ids = _article_ids(_child(pubmed_data, "ArticleIdList"))
    if doi is None:
        doi = normalise_doi(ids.get("doi"))
    types = _texts(fields.get("PublicationTypeList"), "PublicationType")
    mesh: tuple[str, ...] = ()
    for mesh_list in mesh_lists:
        mesh += tuple(map(_clean, _MESH(mesh_list)))
    keywords: tuple[str, ...] = ()
    for keyword_list in keyword_lists:
        keywords += _texts(keyword_list, "Keyword")
    return checked(
        ParsedRecord(
            source_format=FORMAT,
            position=position,
            title=title,
            pmid=pmid,
            doi=doi,
            pmcid=_pmcid(ids),
            journal=_stripped(journal.get("Title")) or _stripped(journal.get("ISOAbbreviation")),
            year=_year(issue.get("PubDate")),
            volume=_stripped(issue.get("Volume")),
            issue=_stripped(issue.get("Issue")),
            pages=_child_text(fields.get("Pagination"), "MedlinePgn"),
            authors=_authors(fields.get("AuthorList")),
            publication_types=types,
            mesh_terms=mesh,
            keywords=keywords,
            abstract=_abstract(fields.get("Abstract")),
            language=_stripped(fields.get("Language")),
            retracted=_RETRACTED in types,
            date_revised=_date(revised),
            fingerprint=fingerprint,
        )
    )


def _children(element: Any, tag: str) -> Iterator[Any]:
    if element is None:
        return iter(())
    children: Iterator[Any] = element.iterchildren(tag)
    return children


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
    return checked(
        ParsedRecord(
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
    )


def _deleted(element: Any, position: int) -> DeletedCitations:
    pmids = tuple(p for p in (normalise_pmid(e.text) for e in element.iterfind("PMID")) if p)
    return DeletedCitations(position=position, pmids=pmids)


_HANDLERS = {"PubmedArticle": _article, "PubmedBookArticle": _book, "DeleteCitation": _deleted}


def _tagged(hexdigest: str) -> str:
    """A fingerprint: this parser's revision, then the first 128 bits of the digest (hex)."""
    return FINGERPRINT_PREFIX + hexdigest[:32]


def fingerprint_revision(fingerprint: str) -> str:
    """The parser revision a stored fingerprint was taken by ("" before revision 3, or none)."""
    revision, colon, _digest = fingerprint.partition(":")
    return revision if colon else ""


def fingerprint(element: Any) -> str:
    """Digest of a record from its parsed tree, tagged with the parser version (see _digest)."""
    return _digest(element)[1]


def _digest(element: Any) -> tuple[str | None, str]:
    """The PMID of a PubmedArticle and a digest of the record from its parsed tree.

    Covers MedlineCitation and the article ID list: everything this parser reads. The history
    dates and reference list of PubmedData are left out (they are large and never imported).
    Used when a record's own bytes cannot be told apart safely (see _RawRecords).
    """
    digest = hashlib.sha256(PARSER_VERSION + b" tree")
    pmid = None
    for part in element:
        tag = part.tag
        if tag == "PubmedData":
            ids = _child(part, "ArticleIdList")
            if ids is not None:
                digest.update(etree.tostring(ids, encoding="utf-8"))
            continue
        if tag == "MedlineCitation" and pmid is None:
            pmid = normalise_pmid(_child_text(part, "PMID"))
        digest.update(etree.tostring(part, encoding="utf-8", with_tail=False))
    return pmid, _tagged(digest.hexdigest())


_RECORD_START = re.compile(rb"<PubmedArticle[\s>]")
_RECORD_END = re.compile(rb"</PubmedArticle\s*>")


class _RawRecords:
    """Keeps the bytes lxml has read, to fingerprint each PubmedArticle exactly as the file wrote
    it: the bytes from its start tag to its end tag, found by a byte search (C speed) instead of
    serialising the parsed tree again, which cost as much as extracting the record.

    lxml reads through `read()`; by the time it reports a record's end, that record's bytes have
    passed through here. Records are matched to byte ranges in order, and a range is used only if
    it holds one record start and the record's own PMID element. Inside the record set, only a
    comment, CDATA section or processing instruction could hide a tag from the search, and NLM
    files have none: from the first one on, every record is fingerprinted from its tree
    (_digest) instead. (Before the set, a tag hidden in the DOCTYPE or a comment can only put a
    second start into the first range, which is then not used.) So a file that could defeat the
    byte search costs speed, never a wrong match.
    """

    def __init__(self, stream: BinaryIO) -> None:
        self._stream = stream
        self._buffer = bytearray()
        self._offset = 0  # the file offset of the buffer's first byte
        self._position = 0  # where, in the buffer, the next record's start tag is searched from
        self._body: int | None = None  # file offset where the record set's start tag ends
        self._hidden_from: int | None = None  # file offset of the first opener inside the set

    def read(self, size: int = -1) -> bytes:
        data = self._stream.read(size)
        buffer = self._buffer
        if self._position > 1 << 20:  # drop what every found record has passed
            del buffer[: self._position]
            self._offset += self._position
            self._position = 0
        since = max(len(buffer) - 1, 0)  # from the last byte held: an opener may straddle reads
        buffer += data
        if self._hidden_from is not None:
            return data
        if self._body is None:
            root = ROOT_START.search(buffer)
            if root is None:
                return data
            self._body = self._offset + root.end()
        at = find_opener(buffer, max(since, self._body - self._offset), len(buffer))
        if at >= 0:
            self._hidden_from = self._offset + at
        return data

    def key(self, element: Any) -> tuple[str, str] | None:
        """(PMID, fingerprint) of the PubmedArticle lxml has just finished, or None."""
        buffer = self._buffer
        found = _RECORD_START.search(buffer, self._position)
        if found is None:
            return _key(element)
        start, inside = found.start(), found.end()
        end = buffer.find(b"</PubmedArticle>", inside)  # a plain search is twice as fast
        if end >= 0 and buffer.find(b"<PubmedArticle", inside, end) < 0:
            end += len(b"</PubmedArticle>")
        else:  # "</PubmedArticle >" (allowed, though no file we know writes it), or no end
            closed = _RECORD_END.search(buffer, inside)
            if closed is None:
                return _key(element)
            end = closed.end()
            if buffer.find(b"<PubmedArticle", inside, end) >= 0:
                self._position = end
                return _key(element)  # two starts: one of them is not a real tag
        self._position = end
        if self._hidden_from is not None and self._offset + end > self._hidden_from:
            return _key(element)
        pmid = normalise_pmid(_child_text(_child(element, "MedlineCitation"), "PMID"))
        if pmid is None or buffer.find(f">{pmid}</PMID>".encode(), start, end) < 0:
            return _key(element)
        digest = hashlib.sha256(PARSER_VERSION + b" raw")
        digest.update(buffer[start:end])
        return pmid, _tagged(digest.hexdigest())


_Pending = tuple[int, Any, "tuple[str, str] | None"]


def _key(element: Any) -> tuple[str, str] | None:
    """(PMID, fingerprint) of a PubmedArticle, taken as soon as it is parsed (while it is hot)."""
    if element.tag != "PubmedArticle":
        return None
    pmid, digest = _digest(element)
    return None if pmid is None else (pmid, digest)


def _emit(pending: list[_Pending], known: KnownRecords) -> Iterator[ParsedItem]:
    """Turn a chunk of finished record elements into items, skipping those already stored."""
    keys = [key for _position, _element, key in pending if key is not None]
    unchanged = known(keys) if keys else set()
    # `known` answered for the evidence base as it was before this chunk. A PMID read in full
    # earlier in the chunk may change that answer (the importer writes each item before asking
    # for the next), so a later copy of it is read in full too: records count in file order.
    read: set[str] = set()
    for position, element, key in pending:
        if key is None:
            item = _HANDLERS[element.tag](element, position)
            if type(item) is ParsedRecord and item.pmid:
                read.add(item.pmid)
            yield item
        elif key in unchanged and key[0] not in read:
            yield UnchangedRecord(position, key[0])
        else:
            read.add(key[0])
            yield _article(element, position, key[1])


def _release(pending: list[_Pending]) -> None:
    """Free the elements of a processed chunk and everything before them."""
    for _position, element, _key in pending:
        element.clear(keep_tail=False)
    last = pending[-1][1]
    parent = last.getparent()
    if parent is not None:
        while last.getprevious() is not None:
            del parent[0]


def parse(
    stream: BinaryIO, *, source: str, known: KnownRecords | None = None
) -> Iterator[ParsedItem]:
    """Yield one item per PubmedArticle, PubmedBookArticle or DeleteCitation, in file order.

    With `known`, records are handled in chunks: each PubmedArticle is fingerprinted, `known`
    is asked once per chunk which (PMID, fingerprint) pairs are already stored, and those records
    are yielded as UnchangedRecord without extracting their fields.
    """
    raw = _RawRecords(stream) if known is not None else None
    context = etree.iterparse(
        raw if raw is not None else stream,
        events=("end",),
        tag=RECORD_TAGS,
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )
    position = 0
    pending: list[_Pending] = []
    try:
        for _event, element in context:
            # Every record must sit directly in the set: a record nested anywhere else (a
            # damaged or hostile file) is an error, never something we free by index.
            parent = element.getparent()
            if parent is None or parent.tag not in _ROOTS:
                if position == 0:
                    raise LiteratureParseError(
                        source, "not a PubMed XML file (records are not inside PubmedArticleSet)"
                    )
                raise LiteratureParseError(
                    source,
                    f"<{element.tag}> is not directly inside PubmedArticleSet",
                    position=position + 1,
                )
            position += 1
            if known is None:  # one record at a time, freed as soon as it has been read
                yield _HANDLERS[element.tag](element, position)
                element.clear(keep_tail=False)
                while element.getprevious() is not None:
                    del parent[0]
                continue
            key = raw.key(element) if raw is not None and element.tag == "PubmedArticle" else None
            pending.append((position, element, key))
            # A deletion ends a chunk: records after it are checked against the evidence base
            # as the deletion left it, so a PMID deleted and then re-added is never "unchanged".
            if len(pending) >= _CHUNK or element.tag == "DeleteCitation":
                yield from _emit(pending, known)
                _release(pending)
                pending = []
        if pending and known is not None:
            yield from _emit(pending, known)
            _release(pending)
        root = context.root
        if root is None or root.tag not in _ROOTS:
            raise LiteratureParseError(source, "not a PubMed XML file (no PubmedArticleSet)")
    except etree.XMLSyntaxError as exc:
        line = f" at line {exc.lineno}" if getattr(exc, "lineno", None) else ""
        message = str(exc.msg if hasattr(exc, "msg") and exc.msg else exc)
        raise LiteratureParseError(
            source, f"the XML is malformed or truncated{line}: {message}", position=position + 1
        ) from exc
