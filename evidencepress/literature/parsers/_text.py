"""Helpers shared by the line-based parsers (nbib, RIS, BibTeX)."""

from __future__ import annotations

import re
from typing import BinaryIO

from evidencepress.literature.records import LiteratureParseError

_YEAR = re.compile(r"(1[89]\d\d|20\d\d|21\d\d)")


# No line of a real reference file is this long: a field under the caps of records.py fits in a
# quarter of it even as four-byte UTF-8. Checked as the file is read, before it is decoded, so a
# file with a 200 MB abstract stops after its first megabyte instead of filling memory (#14).
MAX_LINE_BYTES = 1 << 20
_READ = MAX_LINE_BYTES  # a line held inside one read is shorter than the limit


def read_utf8(
    stream: BinaryIO, *, source: str, record_start: re.Pattern[bytes] | None = None
) -> str:
    """Read a whole text file strictly as UTF-8 (a BOM is allowed); name the line of a bad byte.

    A line longer than MAX_LINE_BYTES stops the read with an error naming the line and, given
    the format's `record_start` pattern, the record it is in.
    """
    chunks: list[bytes] = []
    run = 0  # bytes since the last newline
    while chunk := stream.read(_READ):
        chunks.append(chunk)
        newline = chunk.find(b"\n")
        run += len(chunk) if newline < 0 else newline
        if run > MAX_LINE_BYTES:
            _too_long(b"".join(chunks), source, record_start)
        if newline >= 0:
            run = len(chunk) - chunk.rfind(b"\n") - 1
    data = b"".join(chunks)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise LiteratureParseError(
            source, f"byte {exc.start} on line {line} is not valid UTF-8 ({exc.reason})"
        ) from exc


def _too_long(data: bytes, source: str, record_start: re.Pattern[bytes] | None) -> None:
    start = data.rfind(b"\n") + 1
    line = data.count(b"\n") + 1
    records = sum(1 for _ in record_start.finditer(data, 0, start + 1)) if record_start else 0
    raise LiteratureParseError(
        source,
        f"line {line} is longer than {MAX_LINE_BYTES:,} bytes: no field of a real reference is "
        "this long",
        position=records or None,
    )


def first_year(value: str | None) -> int | None:
    """The first plausible four-digit year in a date string ("2019 Jan-Feb" → 2019)."""
    if not value:
        return None
    match = _YEAR.search(value)
    return int(match.group(1)) if match else None
