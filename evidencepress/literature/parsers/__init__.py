"""Open a literature file, detect its format from its content, and parse it as a stream.

Pure: imports nothing from Django. Every parser module exposes
`parse(stream: BinaryIO, *, source: str) -> Iterator[ParsedItem]`.
"""

from __future__ import annotations

import gzip
import importlib
import io
import re
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

from evidencepress.literature import pipeline
from evidencepress.literature.records import KnownRecords, LiteratureParseError, ParsedItem

FORMATS = ("medline_xml", "nbib", "ris", "bibtex")
_SNIFF_BYTES = 8192
_GZIP_MAGIC = b"\x1f\x8b"
_BOMS = (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")
# PubmedBookArticleSet is the book set's root in NLM's DTD (pubmed_250101.dtd); some tools write
# PubmedBookSet.
_XML_PUBMED = re.compile(rb"<(?:!DOCTYPE\s+)?(Pubmed(?:Article|Book|BookArticle)Set)\b")
_XML_START = re.compile(rb"^\s*<(\?xml|!DOCTYPE|[A-Za-z])")
_NBIB = re.compile(rb"(?m)^PMID- ")
_RIS = re.compile(rb"(?m)^TY[ \t]{0,3}-[ \t]")
# MEDLINE tagged lines of a file without PMIDs (ERIC's and other databases' MEDLINE-format
# exports): two of them, and no RIS TY line, make an .nbib file whose records lack a PMID.
_NBIB_TAGS = re.compile(rb"(?m)^(?:OWN|STAT|FAU|TI|AU|AB|DP|SO|JT|TA|PT|LA|AID|PG)[ ]{0,3}- \S")
_BIBTEX = re.compile(
    rb"(?im)^\s*@(article|book|inbook|incollection|inproceedings|misc|phdthesis|"
    rb"mastersthesis|techreport|unpublished|online|report|conference)\s*[{(]"
)


def detect_format(head: bytes, *, source: str) -> str:
    """Name the format of a file from its first bytes (content sniffing, not the file name)."""
    for bom in _BOMS:
        if head.startswith(bom):
            head = head[len(bom) :]
            break
    if head.startswith(b"\xff\xfe") or b"\x00" in head[:200]:
        raise LiteratureParseError(source, "unknown format: the file looks binary or UTF-16")
    stripped = head.lstrip()
    if not stripped:
        raise LiteratureParseError(source, "the file is empty")
    if _XML_START.match(stripped) and stripped.startswith(b"<"):
        if _XML_PUBMED.search(head):
            return "medline_xml"
        raise LiteratureParseError(
            source, "unknown format: an XML file, but not PubMed XML (no PubmedArticleSet)"
        )
    if _NBIB.search(head):
        return "nbib"
    if _RIS.search(head):
        return "ris"
    if len(_NBIB_TAGS.findall(head)) >= 2:
        return "nbib"
    if _BIBTEX.search(head):
        return "bibtex"
    raise LiteratureParseError(
        source, "unknown format: expected PubMed XML, MEDLINE .nbib, RIS or BibTeX"
    )


class _CheckedStream(io.RawIOBase):
    """A read-only stream that turns gzip and size failures into LiteratureParseError.

    `bytes_read` counts the bytes read from the file on disk (compressed bytes for gzip), for a
    progress bar against the file size.
    """

    def __init__(
        self, inner: BinaryIO, raw: BinaryIO, *, source: str, max_bytes: int | None
    ) -> None:
        super().__init__()
        self._inner = inner
        self._raw = raw
        self._source = source
        self._max_bytes = max_bytes
        self._total = 0

    @property
    def bytes_read(self) -> int:
        return self._raw.tell()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        try:
            data = self._inner.read(len(buffer))
        except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
            raise LiteratureParseError(
                self._source, f"the gzip data is truncated or corrupt ({exc})"
            ) from exc
        n = len(data)
        self._total += n
        if self._max_bytes is not None and self._total > self._max_bytes:
            raise LiteratureParseError(
                self._source, f"file larger than {self._max_bytes} bytes once decompressed"
            )
        buffer[:n] = data
        return n

    def close(self) -> None:
        try:
            self._inner.close()
        finally:
            self._raw.close()
            super().close()


def open_source(path: Path, *, max_bytes: int | None = None) -> tuple[BinaryIO, str]:
    """Open a file (gunzipping it if its magic bytes say gzip) and detect its format.

    Returns a buffered binary stream positioned at the start and the format name. The stream's
    `raw.bytes_read` tells how many bytes of the file on disk have been consumed.
    """
    source = path.name
    try:
        raw: BinaryIO = path.open("rb")
    except OSError as exc:
        raise LiteratureParseError(source, f"cannot be opened: {exc.strerror}") from exc
    magic = raw.read(2)
    raw.seek(0)
    inner: Any = gzip.GzipFile(fileobj=raw, mode="rb") if magic == _GZIP_MAGIC else raw
    stream = io.BufferedReader(
        _CheckedStream(inner, raw, source=source, max_bytes=max_bytes), buffer_size=1 << 16
    )
    try:
        fmt = detect_format(stream.peek(_SNIFF_BYTES)[:_SNIFF_BYTES], source=source)
    except BaseException:
        stream.close()
        raise
    return stream, fmt


def parse_stream(
    stream: BinaryIO, *, fmt: str, source: str, known: KnownRecords | None = None
) -> Iterator[ParsedItem]:
    """Parse a binary stream in the named format.

    `known` (MEDLINE XML only; ignored for other formats) lets the parser skip records the
    evidence base already holds unchanged: see medline_xml.parse.
    """
    if fmt not in FORMATS:
        raise LiteratureParseError(source, f"unknown format {fmt!r}")
    module = importlib.import_module(f"{__name__}.{fmt}")
    if fmt == "medline_xml":
        xml_items: Iterator[ParsedItem] = module.parse(stream, source=source, known=known)
        return xml_items
    items: Iterator[ParsedItem] = module.parse(stream, source=source)
    return items


def parse_path(
    path: Path,
    *,
    max_bytes: int | None = None,
    parallel_min_bytes: int | None = pipeline.MIN_BYTES,
) -> Iterator[ParsedItem]:
    """Open, detect and parse a file; the file is closed when the iterator is exhausted.

    A MEDLINE XML file of at least `parallel_min_bytes` on disk (None: never) is read by forked
    reader processes in parallel, where pipeline.available(): the items are the same.
    """
    stream, fmt = open_source(path, max_bytes=max_bytes)
    with stream:
        large = parallel_min_bytes is not None and path.stat().st_size >= parallel_min_bytes
        if not (large and fmt == "medline_xml" and pipeline.available()):
            yield from parse_stream(stream, fmt=fmt, source=path.name)
            return

    def reopen() -> BinaryIO:
        return open_source(path, max_bytes=max_bytes)[0]

    def parse(source_stream: BinaryIO, known: KnownRecords | None) -> Iterator[ParsedItem]:
        return parse_stream(source_stream, fmt=fmt, source=path.name, known=known)

    yield from pipeline.read_in_parallel(reopen, parse, stored=None, known=None)
