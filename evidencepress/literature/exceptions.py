"""The literature app's exceptions, all in one place.

    LiteratureError            anything the literature app refuses or cannot do
    ├── LiteratureParseError   a file as a whole cannot be read (malformed, truncated, wrong
    │                          encoding, unknown format); names the file and, where known, the
    │                          record (parsers, records.py)
    ├── ImportRejected         a record could not be imported and --skip-bad was not given;
    │                          nothing was written (importer.py)
    ├── EutilsError            NCBI's E-utilities could not answer: bad settings, a refused
    │   │                      request, or retries exhausted (eutils.py)
    │   └── HistoryExpired     the history server no longer knows a WebEnv/query_key
    └── PubmedFetchFailed      a PubMed batch could not be fetched or imported; earlier batches
                               stay imported (pubmed.py)

Pure: nothing from Django, so the parsers and the E-utilities client can raise them. Each name
also stays importable from the module that raises it (`records`, `importer`, `eutils`, `pubmed`).
"""

from __future__ import annotations

from typing import Any


class LiteratureError(Exception):
    """Base of the literature app's exceptions."""


class LiteratureParseError(LiteratureError):
    """The file as a whole cannot be read (malformed, truncated, wrong encoding, unknown format).

    The message names the file and, where known, the record position or line.
    """

    def __init__(self, source: str, message: str, *, position: int | None = None) -> None:
        self.source = source
        self.detail = message
        self.position = position
        where = f" (record {position})" if position is not None else ""
        super().__init__(f"{source}{where}: {message}")


class ImportRejected(LiteratureError):
    """A record could not be imported and --skip-bad was not given; nothing was written."""


class EutilsError(LiteratureError):
    """E-utilities could not answer: bad settings, a refused request, or retries exhausted."""


class HistoryExpired(EutilsError):
    """The history server no longer knows this WebEnv/query_key (they expire after inactivity)."""


class PubmedFetchFailed(LiteratureError):
    """A batch could not be fetched or imported; earlier batches stay imported.

    `totals` holds what the batches before it imported (a `pubmed.FetchTotals`).
    """

    def __init__(self, message: str, totals: Any) -> None:
        super().__init__(message)
        self.totals = totals
