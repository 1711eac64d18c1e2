"""E2 (PR size): mutated literature files through `manage.py import_literature`.

A deterministic byte-mutation harness: for each format (MEDLINE XML, RIS, MEDLINE .nbib,
BibTeX) it takes the real-format seed files in tests/fixtures/, applies one to four random
mutations (bit flips, odd bytes, deleted, repeated or truncated ranges, format keywords and
absurd numbers spliced in, gzip wrapping) and runs every one of the 500 results per format
through the import command into the test database. The plan's pass figures:

- 0 of 500 crash: the command either imports the file or refuses it with a `CommandError`
  caused by the importer's typed errors (`LiteratureParseError`, `ImportRejected`);
- 0 of 500 leave a partial import: a refused file changes no row; an accepted file stores
  every record the parser read (new + updated + duplicates = records read);
- `PRAGMA integrity_check` is `ok` after each file (SQLite only).

The random generator is seeded per format and file number, so a failure names the exact file
(`FORMAT #N`) and the same run reproduces it. The nightly job runs atheris for longer.
"""

from __future__ import annotations

import gzip
import io
import random
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from evidencepress.evidence.models import Publication, Topic
from evidencepress.literature.importer import ImportRejected
from evidencepress.literature.models import ImportBatch
from evidencepress.literature.parsers import detect_format, parse_stream
from evidencepress.literature.records import (
    LiteratureParseError,
    ParsedRecord,
    UnchangedRecord,
)

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
FILES_PER_FORMAT = 500
SEEDS = {
    "medline_xml": [FIXTURES / "medline" / "sample.xml"],
    "ris": sorted((FIXTURES / "ris").glob("*.ris")),
    "nbib": sorted((FIXTURES / "nbib").glob("*.nbib")),
    "bibtex": sorted((FIXTURES / "bibtex").glob("*.bib")),
}
# Fragments that mean something to each reader: spliced in to reach deeper code than flips do.
TOKENS = {
    "medline_xml": [
        b"<PubmedArticle>",
        b"</PubmedArticle>",
        b"<MedlineCitation>",
        b"</MedlineCitation>",
        b'<PMID Version="1">',
        b"</PMID>",
        b"<Year>",
        b"</Year>",
        b"<Month>Smarch</Month>",
        b"<Day>0</Day>",
        b"<ArticleTitle>",
        b'<AbstractText Label="">',
        b'<ELocationID EIdType="doi" ValidYN="Y">',
        b"<DeleteCitation><PMID>1</PMID></DeleteCitation>",
        b'<!DOCTYPE x [<!ENTITY e "eeeeeeee">]>',
        b"&e;",
        b"&#0;",
        b"&#xD800;",
        b"<![CDATA[",
        b"]]>",
        b'<?xml version="1.0" encoding="EBCDIC"?>',
    ],
    "ris": [b"TY  - JOUR\n", b"ER  - \n", b"TI  - ", b"AU  - ", b"AB  - ", b"DO  - 10.1/x\n"],
    "nbib": [b"\nPMID- ", b"PMID- 1\n", b"TI  - ", b"AU  - ", b"LID - 10.1/x [doi]\n", b"DP  - "],
    "bibtex": [
        b"@article{",
        b'@string{s = "v"}',
        b"@comment{",
        b"@preamble{",
        b"}",
        b"{",
        b"\\",
        b" # s # ",
        b"author = {and and and},",
        b"doi = {},",
    ],
}
COMMON_TOKENS = [
    b"\x00",
    b"\xff\xfe",
    b"\xc3\x28",  # an invalid UTF-8 sequence
    b"\r",
    b"\r\n",
    b"\t",
    b"999999999999999999999999999999",
    b"-1",
    b"0",
    b"<script>alert(1)</script>",
    b"\xef\xbb\xbf",
]
TYPED_ERRORS = (ImportRejected, LiteratureParseError)


def mutate(data: bytes, rng: random.Random, fmt: str) -> bytes:
    """Apply one to four random mutations to `data` (deterministic for a given generator)."""
    out = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        if not out:
            out.extend(rng.choice(TOKENS[fmt]))
            continue
        where = rng.randrange(len(out))
        kind = rng.randrange(8)
        if kind == 0:  # flip one bit
            out[where] ^= 1 << rng.randrange(8)
        elif kind == 1:  # an odd byte
            out[where] = rng.choice(b'\x00\xff<>&\n{}"-=,@#%\\')
        elif kind == 2:  # delete a range
            del out[where : where + rng.randint(1, 64)]
        elif kind == 3:  # repeat a range somewhere else
            start = rng.randrange(len(out))
            chunk = out[start : start + rng.randint(1, 256)]
            out[where:where] = chunk * rng.randint(1, 8)
        elif kind == 4:  # a format keyword
            out[where:where] = rng.choice(TOKENS[fmt])
        elif kind == 5:  # a hostile or absurd value
            out[where:where] = rng.choice(COMMON_TOKENS)
        elif kind == 6:  # truncate
            del out[where:]
        else:  # replace a run of digits with an absurd number
            digits = [i for i, byte in enumerate(out) if 48 <= byte <= 57]
            if digits:
                at = rng.choice(digits)
                out[at : at + 1] = rng.choice([b"99999999999999999999", b"00000", b"-7"])
    result = bytes(out)
    if rng.random() < 0.05:  # the command also reads gzip files; sometimes a torn one
        packed = gzip.compress(result, mtime=0)
        result = packed if rng.random() < 0.5 else packed[: rng.randrange(1, len(packed))]
    return result


# Where one record ends and the next begins, for the formats whose samples mix good records
# with deliberately bad ones (a record without a title): each good record is also a seed.
RECORD_SPLIT = {
    "ris": re.compile(rb"(?m)^(?=TY  - )"),
    "nbib": re.compile(rb"(?m)^(?=PMID- )"),
    "bibtex": re.compile(rb"(?m)^(?=@)"),
}


def seed_files(fmt: str) -> tuple[list[bytes], bytes]:
    """The fixture files, each record that reads without error on its own, and (second) one
    file of only those clean records, which must import."""
    whole = [path.read_bytes() for path in SEEDS[fmt]]
    if fmt not in RECORD_SPLIT:
        return whole, whole[0]
    clean = []
    for data in whole:
        for chunk in RECORD_SPLIT[fmt].split(data):
            try:
                items = list(parse_stream(io.BytesIO(chunk), fmt=fmt, source="seed"))
            except LiteratureParseError:
                continue  # e.g. the comment before the first BibTeX entry
            if items and all(isinstance(item, ParsedRecord) for item in items):
                clean.append(chunk)
    joined = b"\n".join(clean)
    return [*whole, *clean, joined], joined


def records_read(data: bytes) -> int | None:
    """How many records a reader finds in the file, or None if it refuses the file."""
    try:
        if data[:2] == b"\x1f\x8b":
            data = gzip.decompress(data)
        detected = detect_format(data[:8192], source="fuzz")
        items = parse_stream(io.BytesIO(data), fmt=detected, source="fuzz")
        return sum(isinstance(item, ParsedRecord | UnchangedRecord) for item in items)
    except (LiteratureParseError, OSError, EOFError, ValueError):
        return None


def row_counts() -> tuple[int, int, int]:
    return (
        Publication.objects.count(),
        ImportBatch.objects.count(),
        Publication.topics.through.objects.count(),
    )


def integrity() -> str:
    if connection.vendor != "sqlite":
        return "ok"  # PRAGMA integrity_check is SQLite's; PostgreSQL has no equivalent here
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA integrity_check")
        return str(cursor.fetchone()[0])


@dataclass
class Tally:
    imported: int = 0
    refused: int = 0
    crashes: list[str] = field(default_factory=list)
    partial: list[str] = field(default_factory=list)
    corrupt: list[str] = field(default_factory=list)


def import_one(path: Path, topic: Topic, name: str, tally: Tally) -> None:
    data = path.read_bytes()
    before = row_counts()
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command(
            "import_literature", str(path), "--topic", topic.slug, "--no-progress",
            stdout=out, stderr=err,
        )  # fmt: skip
    except CommandError as exc:
        if not isinstance(exc.__cause__, TYPED_ERRORS):
            tally.crashes.append(f"{name}: untyped refusal {exc!r}")
        tally.refused += 1
        if row_counts() != before:
            tally.partial.append(f"{name}: refused but rows changed {before} -> {row_counts()}")
    except Exception as exc:  # anything else is the crash this test counts
        tally.crashes.append(f"{name}: {type(exc).__name__}: {exc} (first bytes {data[:120]!r})")
        if row_counts() != before:
            tally.partial.append(f"{name}: crashed and rows changed")
    else:
        tally.imported += 1
        batch = ImportBatch.objects.order_by("-pk").first()
        expected = records_read(data)
        stored = batch.new_count + batch.updated_count + batch.duplicate_count if batch else -1
        after = row_counts()
        if (
            batch is None
            or after[1] != before[1] + 1
            or batch.rejected_count
            or expected != stored
            or after[0] != before[0] + batch.new_count - batch.deleted_count
        ):
            tally.partial.append(
                f"{name}: imported {stored} of {expected} records read; rows {before} -> {after}"
            )
    check = integrity()
    if check != "ok":
        tally.corrupt.append(f"{name}: integrity_check {check}")


@pytest.mark.parametrize("fmt", sorted(SEEDS))
def test_500_mutated_files_import_whole_or_not_at_all(fmt: str, tmp_path: Path) -> None:
    seeds, clean = seed_files(fmt)
    assert seeds, f"no seed files for {fmt} in tests/fixtures"
    topic = Topic.objects.create(
        name=f"Fuzz {fmt}", slug=f"fuzz-{fmt.replace('_', '-')}", treatment="T", condition="C"
    )
    # A clean seed imports: the harness can tell an accepted file from a refused one.
    tally = Tally()
    path = tmp_path / "clean-seed"
    path.write_bytes(clean)
    import_one(path, topic, f"{fmt} clean seed", tally)
    assert tally.imported == 1 and not tally.partial, tally

    tally = Tally()
    started = time.monotonic()
    for number in range(FILES_PER_FORMAT):
        rng = random.Random(f"{fmt}-{number}")
        data = mutate(rng.choice(seeds), rng, fmt)
        path = tmp_path / f"mutant-{number}"
        path.write_bytes(data)
        import_one(path, topic, f"{fmt} #{number}", tally)
        path.unlink()
    elapsed = time.monotonic() - started
    figures = (
        f"{fmt}: {FILES_PER_FORMAT} mutated files in {elapsed:.1f} s, imported {tally.imported}, "
        f"refused {tally.refused}, crashes {len(tally.crashes)}, partial {len(tally.partial)}, "
        f"integrity failures {len(tally.corrupt)}"
    )
    print(figures)
    assert tally.crashes == [], figures + "\n" + "\n".join(tally.crashes[:10])
    assert tally.partial == [], figures + "\n" + "\n".join(tally.partial[:10])
    assert tally.corrupt == [], figures + "\n" + "\n".join(tally.corrupt[:10])
    # The mutations are not all fatal: the harness reaches the database, not only the sniffer.
    assert tally.imported >= FILES_PER_FORMAT // 20, figures
    assert tally.refused >= FILES_PER_FORMAT // 20, figures


@pytest.mark.parametrize(
    ("record", "message"),
    [
        ("AN  - 31099999999999999999\n", "the PMID is longer than 12 characters"),
        # (past the first 200 bytes, where the format sniffer would call the file binary)
        ("AB  - " + "words " * 50 + "a NUL \x00 from a torn file\n", "contains a NUL character"),
    ],
)
def test_a_record_the_database_cannot_hold_is_refused_by_name(
    record: str, message: str, tmp_path: Path
) -> None:
    """Found by this harness on PostgreSQL: a 20-digit PMID or a NUL byte reached the database
    and ended the import with DataError. Now the record is refused with a typed error, on
    every database, and nothing is stored."""
    Topic.objects.create(name="Refusals", slug="refusals", treatment="T", condition="C")
    path = tmp_path / "odd.ris"
    path.write_text(f"TY  - JOUR\nTI  - A record\nPY  - 2020\n{record}ER  - \n", encoding="utf-8")
    before = row_counts()
    with pytest.raises(CommandError, match=message) as refused:
        call_command("import_literature", str(path), "--topic", "refusals", "--no-progress")
    assert isinstance(refused.value.__cause__, TYPED_ERRORS)
    assert "odd.ris" in str(refused.value)
    assert row_counts() == before
