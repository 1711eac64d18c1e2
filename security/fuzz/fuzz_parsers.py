"""Fuzz the literature parsers with atheris (plan E2, nightly): `make security-full`.

    python security/fuzz/fuzz_parsers.py <format> -max_total_time=60 [corpus dir]

<format> is one of medline_xml, ris, nbib, bibtex. The seed corpus is the matching sample in
tests/fixtures/. A parser may only refuse a file with LiteratureParseError (or yield per-record
error items); any other exception is a crash, and atheris stops with the input that caused it.
"""

from __future__ import annotations

import io
import sys
from pathlib import Path

import atheris

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the project, for its parsers

with atheris.instrument_imports():
    from evidencepress.literature.parsers import parse_stream
    from evidencepress.literature.records import LiteratureParseError

MAX_ITEMS = 10_000


def make_target(fmt: str):  # type: ignore[no-untyped-def]
    def test_one_input(data: bytes) -> None:
        try:
            for count, _ in enumerate(parse_stream(io.BytesIO(data), fmt=fmt, source="fuzz")):
                if count > MAX_ITEMS:
                    break
        except LiteratureParseError:
            pass  # a typed refusal is the correct outcome for a malformed file

    return test_one_input


def main() -> None:
    fmt = sys.argv.pop(1)
    atheris.Setup(sys.argv, make_target(fmt))
    atheris.Fuzz()


if __name__ == "__main__":
    main()
