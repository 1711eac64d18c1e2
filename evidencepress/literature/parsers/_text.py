"""Helpers shared by the line-based parsers (nbib, RIS, BibTeX)."""

from __future__ import annotations

import re
from typing import BinaryIO

from evidencepress.literature.records import LiteratureParseError

_YEAR = re.compile(r"(1[89]\d\d|20\d\d|21\d\d)")


def read_utf8(stream: BinaryIO, *, source: str) -> str:
    """Read a whole text file strictly as UTF-8 (a BOM is allowed); name the line of a bad byte."""
    data = stream.read()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise LiteratureParseError(
            source, f"byte {exc.start} on line {line} is not valid UTF-8 ({exc.reason})"
        ) from exc


def first_year(value: str | None) -> int | None:
    """The first plausible four-digit year in a date string ("2019 Jan-Feb" → 2019)."""
    if not value:
        return None
    match = _YEAR.search(value)
    return int(match.group(1)) if match else None
