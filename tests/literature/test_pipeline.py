"""The reader processes: forked readers read a MEDLINE file in parallel while the importer writes.

Every test that imports through them checks that readers really were forked, and compares with
the same file imported in one process: the readers may only change the speed. The files here are
small, so the chunk size is made small too, to cut each file into many chunks.
"""

from __future__ import annotations

import gzip
import io
import os
import re
import signal
import threading
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any, BinaryIO

import pytest
from django.test import override_settings
from lxml import etree

from bench.generate_medline import write as generate
from evidencepress.evidence.models import Publication, Topic
from evidencepress.literature import importer, merge, pipeline
from evidencepress.literature.importer import ImportRejected, import_path
from evidencepress.literature.models import ImportBatch
from evidencepress.literature.parsers import medline_xml, parse_path
from evidencepress.literature.records import (
    KnownRecords,
    LiteratureParseError,
    ParsedItem,
    ParsedRecord,
    RecordError,
)

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n<PubmedArticleSet>\n'
COMPARED = merge.IMPORTED_FIELDS  # every field an import writes
SMALL_CHUNKS = 2048  # bytes: a few records of article() below, one or two generated ones


def article(pmid: int, title: str = "A title.", revised: int = 2021) -> str:
    return (
        f"<PubmedArticle><MedlineCitation><PMID>{pmid}</PMID>"
        f"<DateRevised><Year>{revised}</Year><Month>01</Month><Day>02</Day></DateRevised>"
        "<Article><Journal><JournalIssue><PubDate><Year>2020</Year></PubDate></JournalIssue>"
        f"<Title>J</Title></Journal><ArticleTitle>{title}</ArticleTitle></Article>"
        "</MedlineCitation></PubmedArticle>\n"
    )


def xml_file(tmp_path: Path, name: str, body: str, head: str = HEAD) -> Path:
    path = tmp_path / name
    path.write_text(head + body + "</PubmedArticleSet>\n", encoding="utf-8")
    return path


@pytest.fixture
def topic() -> Topic:
    return Topic.objects.create(name="T", slug="t", treatment="x", condition="y")


class Forks:
    """What the readers did: how many parallel readings started, and how many the parent had
    to finish by reading the file again itself."""

    def __init__(self) -> None:
        self.started = 0
        self.read_again = 0


@pytest.fixture
def forks(monkeypatch: pytest.MonkeyPatch) -> Forks:
    """Send every large-enough import through the readers, in small chunks, and count.

    `available()` is forced true: pytest-xdist workers may run a helper thread, and these tests
    are about what the readers do, not about when they are chosen (tested on its own below).
    """
    seen = Forks()
    real, real_again = pipeline.read_in_parallel, pipeline._read_again

    def counted(*args: Any, **kwargs: Any) -> Iterator[ParsedItem]:
        seen.started += 1
        return real(*args, **kwargs)

    def again(*args: Any, **kwargs: Any) -> Iterator[ParsedItem]:
        seen.read_again += 1
        return real_again(*args, **kwargs)

    monkeypatch.setattr(pipeline, "available", lambda: True)
    monkeypatch.setattr(pipeline, "read_in_parallel", counted)
    monkeypatch.setattr(pipeline, "_read_again", again)
    monkeypatch.setattr(pipeline, "CHUNK_BYTES", SMALL_CHUNKS)
    return seen


def stored() -> list[tuple[Any, ...]]:
    return list(Publication.objects.order_by("pmid").values_list(*COMPARED))


def no_children_left() -> bool:
    try:
        os.waitpid(-1, os.WNOHANG)
    except ChildProcessError:
        return True
    return False


def chunk_count(path: Path, chunk_bytes: int = SMALL_CHUNKS) -> int:
    with path.open("rb") as stream:
        return sum(1 for _chunk in pipeline._chunks(stream, chunk_bytes))


def serial_then_parallel(path: Path, topic: Topic, forks: Forks, **kwargs: Any) -> Any:
    """Import `path` in one process, then (after a clean slate) through the readers."""
    with override_settings(LITERATURE_READER_PROCESS_MIN_BYTES=None):
        serial = import_path(path, topic=topic, **kwargs)
    expected = stored()
    Publication.objects.all().delete()
    ImportBatch.objects.all().delete()
    with override_settings(LITERATURE_READER_PROCESS_MIN_BYTES=0):
        parallel = import_path(path, topic=topic, **kwargs)
    assert forks.started == 1
    assert (serial.reader_process, parallel.reader_process) == (False, True)
    assert stored() == expected
    assert no_children_left()
    return serial, parallel


def test_a_generated_baseline_file_imports_exactly_as_in_one_process(
    topic: Topic, tmp_path: Path, forks: Forks
) -> None:
    path = generate(tmp_path / "baseline.xml", count=1_300, seed=7)  # frames of records
    assert chunk_count(path) > 100
    serial, parallel = serial_then_parallel(path, topic, forks)
    assert forks.read_again == 0  # the readers read it all
    assert parallel.summary_line() == serial.summary_line()
    assert parallel.summary_line() == "new 1300, updated 0, duplicates 0, rejected 0"
    assert topic.publications.count() == 1_300


def test_the_sample_file_with_a_book_and_deletions_imports_exactly_as_in_one_process(
    topic: Topic, forks: Forks
) -> None:
    path = FIXTURES / "medline" / "sample.xml"
    assert chunk_count(path, 1) > 2  # a chunk per record
    with override_settings(LITERATURE_READER_PROCESS_MIN_BYTES=None):
        serial = import_path(path, topic=topic)
    expected = stored()
    Publication.objects.all().delete()
    ImportBatch.objects.all().delete()
    with (
        override_settings(LITERATURE_READER_PROCESS_MIN_BYTES=0),
        pytest.MonkeyPatch.context() as patch,
    ):
        patch.setattr(pipeline, "CHUNK_BYTES", 1)
        parallel = import_path(path, topic=topic)
    assert stored() == expected and forks.read_again == 0
    assert (parallel.new, parallel.deleted, parallel.errors) == (
        serial.new,
        serial.deleted,
        serial.errors,
    )


def test_skip_bad_lists_the_same_bad_records(topic: Topic, tmp_path: Path, forks: Forks) -> None:
    body = "".join(article(8000 + i, title="" if i in (2, 30) else "T.") for i in range(1, 40))
    path = xml_file(tmp_path, "bad.xml", body)
    serial, parallel = serial_then_parallel(path, topic, forks, skip_bad=True)
    assert forks.read_again == 0
    assert parallel.errors == serial.errors
    assert serial.errors == (
        RecordError(2, "record has no title", "8002"),
        RecordError(30, "record has no title", "8030"),
    )
    assert parallel.summary_line() == "new 37, updated 0, duplicates 0, rejected 2"


@override_settings(LITERATURE_READER_PROCESS_MIN_BYTES=0)
def test_a_rejected_record_stops_the_readers_and_writes_nothing(
    topic: Topic, tmp_path: Path, forks: Forks
) -> None:
    body = "".join(article(9000 + i) for i in range(1, 2000)) + article(12000, title="")
    with pytest.raises(ImportRejected, match=r"record 2000 \(12000\): record has no title"):
        import_path(xml_file(tmp_path, "rejected.xml", body), topic=topic)
    assert forks.started == 1
    assert Publication.objects.count() == 0 and ImportBatch.objects.count() == 0
    assert no_children_left()


def test_a_truncated_file_fails_exactly_as_in_one_process_and_writes_nothing(
    topic: Topic, tmp_path: Path, forks: Forks
) -> None:
    path = generate(tmp_path / "whole.xml", count=700, seed=3)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) * 3 // 4])  # cut inside a record, after many chunks
    with (
        override_settings(LITERATURE_READER_PROCESS_MIN_BYTES=None),
        pytest.raises(LiteratureParseError) as serial,
    ):
        import_path(path, topic=topic)
    with (
        override_settings(LITERATURE_READER_PROCESS_MIN_BYTES=0),
        pytest.raises(LiteratureParseError) as parallel,
    ):
        import_path(path, topic=topic)
    assert forks.started == 1 and forks.read_again == 1  # the readers stop; the parent reads
    assert str(parallel.value) == str(serial.value)  # the same record and line
    assert re.fullmatch(
        r"whole\.xml \(record \d+\): the XML is malformed .* at line \d+: .*", str(serial.value)
    )
    assert Publication.objects.count() == 0 and ImportBatch.objects.count() == 0
    assert no_children_left()


@override_settings(LITERATURE_READER_PROCESS_MIN_BYTES=0)
def test_a_reimport_skips_unchanged_records_and_links_them_to_a_new_topic(
    topic: Topic, tmp_path: Path, forks: Forks
) -> None:
    path = xml_file(tmp_path, "file.xml", "".join(article(7000 + i) for i in range(1, 40)))
    assert import_path(path, topic=topic).new == 39
    other = Topic.objects.create(name="Other", slug="other", treatment="x", condition="z")
    corrected = article(7005, title="Corrected title.", revised=2022)
    changed = path.read_text().replace(article(7005), corrected)
    path.write_text(changed, encoding="utf-8")
    again = import_path(path, topic=other)
    assert (forks.started, forks.read_again) == (2, 0)
    assert again.summary_line() == "new 0, updated 1, duplicates 38, rejected 0"
    assert Publication.objects.get(pmid="7005").title == "Corrected title."
    assert other.publications.count() == 39  # unchanged records are linked through their id


def test_a_pmid_read_or_deleted_in_an_earlier_chunk_is_never_trusted_unchanged(
    topic: Topic, tmp_path: Path, forks: Forks
) -> None:
    """A deleted PMID, or one read in full earlier in the file, must be read in full again:
    this import may have changed the publication the stored fingerprint belongs to. A reader
    cannot know what another read; the parent sees it and reads the file itself from there."""
    before = article(6001) + article(6002) + article(6003)
    for filler in range(70, 90):  # many chunks, and past a parser chunk
        body = (
            article(6001, title="Changed.")
            + "<DeleteCitation><PMID>6003</PMID></DeleteCitation>\n"
            + "".join(article(6100 + i) for i in range(filler))
            + article(6001)  # as stored before this import: its fingerprint matches
            + article(6002)
            + article(6003)  # likewise
        )
        path = xml_file(tmp_path, "again.xml", body)
        copies = [i for i, d in enumerate(chunk_documents(path)) if b"<PMID>6003<" in d]
        if copies[0] == 0 and copies[-1] % pipeline.READERS == 1:
            break  # the copies are read by the other reader than the change and the deletion
    else:
        pytest.fail("no file puts the copy in the other reader's chunk")
    results = []
    for threshold in (None, 0):
        Publication.objects.all().delete()
        ImportBatch.objects.all().delete()
        with override_settings(LITERATURE_READER_PROCESS_MIN_BYTES=None):
            import_path(xml_file(tmp_path, "before.xml", before), topic=topic)
        with override_settings(LITERATURE_READER_PROCESS_MIN_BYTES=threshold):
            result = import_path(path, topic=topic)
        results.append((result.summary_line(), result.deleted, stored()))
    assert forks.started == 1 and forks.read_again == 1
    assert results[1] == results[0]
    assert results[0][:2] == (f"new {filler + 1}, updated 1, duplicates 2, rejected 0", 1)
    assert no_children_left()


def test_a_later_copy_of_a_record_in_the_same_parser_chunk_is_read_in_full() -> None:
    """Within one parser chunk (64 records), `known` answers once, for the evidence base as it
    was before the chunk: a copy after a changed one must not be taken as unchanged."""
    data = HEAD + article(6001, title="Changed.") + article(6001) + "</PubmedArticleSet>"
    stream = io.BytesIO(data.encode())
    first = list(medline_xml.parse(stream, source="x.xml", known=lambda pairs: set()))
    stored_copy = {(r.pmid, r.fingerprint) for r in first if r.title == "A title."}
    stream.seek(0)
    items = list(medline_xml.parse(stream, source="x.xml", known=lambda pairs: stored_copy))
    assert [type(item) for item in items] == [ParsedRecord, ParsedRecord]
    assert [item.title for item in items if isinstance(item, ParsedRecord)] == [
        "Changed.",
        "A title.",
    ]


def opener(path: Path) -> Any:
    return lambda: path.open("rb")


def parse_xml(stream: BinaryIO, known: KnownRecords | None) -> Iterator[ParsedItem]:
    return medline_xml.parse(stream, source="x.xml", known=known)


def in_parallel(path: Path, **kwargs: Any) -> list[ParsedItem]:
    kwargs.setdefault("chunk_bytes", SMALL_CHUNKS)
    items = pipeline.read_in_parallel(
        opener(path), parse_xml, stored={}, known=lambda pairs: set(), **kwargs
    )
    return list(items)


def in_one_process(path: Path) -> list[ParsedItem]:
    with path.open("rb") as stream:
        return list(medline_xml.parse(stream, source="x.xml", known=lambda pairs: set()))


def test_a_reader_that_fails_or_dies_leaves_the_parent_to_read_it_all(tmp_path: Path) -> None:
    path = generate(tmp_path / "g.xml", count=200, seed=11)
    expected = in_one_process(path)
    parent = os.getpid()

    def failing(stream: BinaryIO, known: KnownRecords | None) -> Iterator[ParsedItem]:
        for item in parse_xml(stream, known):
            if os.getpid() != parent and item.position == 3:
                raise ZeroDivisionError("a bug in a reader")
            yield item

    def dying(stream: BinaryIO, known: KnownRecords | None) -> Iterator[ParsedItem]:
        for item in parse_xml(stream, known):
            if os.getpid() != parent and item.position == 5:
                os.kill(os.getpid(), signal.SIGKILL)
            yield item

    for parse in (failing, dying):
        items = pipeline.read_in_parallel(
            opener(path),
            parse,
            stored={},
            known=lambda pairs: set(),
            chunk_bytes=SMALL_CHUNKS,
        )
        assert list(items) == expected
        assert no_children_left()


def test_a_failure_in_every_reading_reaches_the_caller(tmp_path: Path) -> None:
    path = xml_file(tmp_path, "bug.xml", article(1) + article(2))

    def buggy(stream: BinaryIO, known: KnownRecords | None) -> Iterator[ParsedItem]:
        yield RecordError(1, "first", None)
        raise ZeroDivisionError("a bug in the parser")

    items = pipeline.read_in_parallel(opener(path), buggy, stored={}, known=None)
    with pytest.raises(ZeroDivisionError, match="a bug in the parser"):
        list(items)
    assert no_children_left()


def test_a_parent_that_stops_reading_kills_and_reaps_the_readers(tmp_path: Path) -> None:
    path = xml_file(tmp_path, "endless.xml", article(1) + article(2))

    def endless(stream: BinaryIO, known: KnownRecords | None) -> Iterator[ParsedItem]:
        position = 0
        while True:  # only the parent can end it
            position += 1
            yield RecordError(position, "x" * 200, None)

    items = pipeline.read_in_parallel(opener(path), endless, stored={}, known=None)
    first = [next(items) for _ in range(3 * pipeline.FRAME_ITEMS)]
    assert [item.position for item in first] == list(range(1, 3 * pipeline.FRAME_ITEMS + 1))
    items.close()  # what an exception in the importer does to the generator
    assert no_children_left()


def chunk_documents(path: Path, chunk_bytes: int = SMALL_CHUNKS) -> list[bytes]:
    documents = []
    with path.open("rb") as stream:
        for chunk in pipeline._chunks(stream, chunk_bytes):
            with chunk() as data:
                documents.append(data.read())
    return documents


def test_each_chunk_is_a_document_of_whole_records_with_the_files_prefix(tmp_path: Path) -> None:
    head = HEAD.replace("<PubmedArticleSet>", "<!DOCTYPE PubmedArticleSet>\n<PubmedArticleSet>")
    path = xml_file(tmp_path, "p.xml", "".join(article(100 + i) for i in range(40)), head)
    documents = chunk_documents(path)
    assert len(documents) > 5
    pmids = []
    for document in documents:
        assert document.startswith(head.encode())
        root = etree.fromstring(document)
        pmids += root.xpath("PubmedArticle/MedlineCitation/PMID/text()")
    assert pmids == [str(100 + i) for i in range(40)]
    assert in_parallel(path) == in_one_process(path)


@pytest.mark.parametrize(
    "where",
    [
        "a comment in the first record",
        "a comment between records",
        "CDATA with a record start tag",
        "a processing instruction",
        "a record start tag in a comment before the set",
    ],
)
def test_what_could_hide_a_tag_stops_the_cutting_and_changes_nothing(
    tmp_path: Path, where: str
) -> None:
    records = [article(200 + i) for i in range(30)]
    head = HEAD
    if where == "a comment in the first record":
        records[0] = records[0].replace("<Title>", "<!-- <PubmedArticle> --><Title>")
    elif where == "a comment between records":
        records[20] = "<!-- </PubmedArticle><PubmedArticle> -->" + records[20]
    elif where == "CDATA with a record start tag":
        records[10] = records[10].replace("A title.", "<![CDATA[<PubmedArticle> x]]>")
    elif where == "a processing instruction":
        records[15] = "<?pi <PubmedArticle>?>" + records[15]
    else:
        head = HEAD.replace("<PubmedArticleSet>", "<!-- <PubmedArticle> --><PubmedArticleSet>")
    path = xml_file(tmp_path, "hidden.xml", "".join(records), head)
    cut = chunk_count(path)
    if where in ("a comment in the first record", "a record start tag in a comment before the set"):
        assert cut == 1
    else:  # cut up to the chunk that holds the construct, which runs to the end of the file
        plain = xml_file(tmp_path, "plain.xml", "".join(article(200 + i) for i in range(30)))
        assert 1 < cut < chunk_count(plain)
    assert in_parallel(path) == in_one_process(path)
    assert no_children_left()


def test_gzip_and_a_declared_latin_1_encoding_read_the_same(tmp_path: Path) -> None:
    body = "".join(article(300 + i, title=f"Caf\u00e9 {i}.") for i in range(30))
    latin = tmp_path / "latin.xml"
    latin.write_bytes(
        (
            '<?xml version="1.0" encoding="ISO-8859-1"?>\n<PubmedArticleSet>\n'
            + body
            + "</PubmedArticleSet>\n"
        ).encode("latin-1")
    )
    assert chunk_count(latin) > 3
    assert in_parallel(latin) == in_one_process(latin)
    packed = tmp_path / "packed.xml.gz"
    packed.write_bytes(gzip.compress(latin.read_bytes()))
    serial = list(parse_path(packed, parallel_min_bytes=None))
    assert [r.title for r in serial if isinstance(r, ParsedRecord)][3] == "Caf\u00e9 3."
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(pipeline, "available", lambda: True)
        patch.setattr(pipeline, "CHUNK_BYTES", SMALL_CHUNKS)
        assert list(parse_path(packed, parallel_min_bytes=0)) == serial
    assert no_children_left()


def test_the_parser_alone_reads_a_large_file_in_parallel_with_the_same_items(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = generate(tmp_path / "g.xml", count=300, seed=5)
    started = []
    real = pipeline.read_in_parallel
    monkeypatch.setattr(pipeline, "available", lambda: True)
    monkeypatch.setattr(pipeline, "CHUNK_BYTES", SMALL_CHUNKS)
    monkeypatch.setattr(
        pipeline, "read_in_parallel", lambda *a, **k: started.append(1) or real(*a, **k)
    )
    serial = list(parse_path(path, parallel_min_bytes=None))
    assert started == []
    assert list(parse_path(path, parallel_min_bytes=path.stat().st_size)) == serial
    assert started == [1] and len(serial) == 300
    assert no_children_left()


def test_the_readers_are_chosen_only_when_forking_is_safe_and_the_file_large(
    topic: Topic, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    release = threading.Event()
    helper = threading.Thread(target=release.wait)
    helper.start()
    try:
        assert pipeline.available() is False  # another thread: fork() could copy a held lock
    finally:
        release.set()
        helper.join()
    calls: list[bool] = []
    real = importer.import_stream

    def spy(*args: Any, **kwargs: Any) -> Any:
        calls.append(kwargs["reopen"] is not None)
        return real(*args, **kwargs)

    monkeypatch.setattr(importer, "import_stream", spy)
    path = xml_file(tmp_path, "small.xml", article(5001))
    with override_settings(LITERATURE_READER_PROCESS_MIN_BYTES=path.stat().st_size + 1):
        import_path(path, topic=topic)
    with override_settings(LITERATURE_READER_PROCESS_MIN_BYTES=path.stat().st_size):
        import_path(path, topic=topic)
    with override_settings(LITERATURE_READER_PROCESS_MIN_BYTES=None):
        import_path(path, topic=topic)
    assert calls == [False, True, False]


@pytest.mark.parametrize("reader_process", [False, True])
def test_a_pmid_deleted_and_then_given_again_in_one_file_is_kept(
    topic: Topic, tmp_path: Path, forks: Forks, reader_process: bool
) -> None:
    first = xml_file(tmp_path, "first.xml", article(6003))
    threshold = 0 if reader_process else None
    with override_settings(LITERATURE_READER_PROCESS_MIN_BYTES=threshold):
        import_path(first, topic=topic)
        body = "<DeleteCitation><PMID>6003</PMID></DeleteCitation>\n" + article(6003)
        update = import_path(xml_file(tmp_path, "update.xml", body), topic=topic)
    assert (update.deleted, update.new) == (1, 1)
    assert Publication.objects.filter(pmid="6003").count() == 1
    assert forks.started == (2 if reader_process else 0)


def test_a_reader_keeps_the_memory_it_frees_where_the_c_library_allows(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[tuple[int, int]] = []

    def mallopt(parameter: int, value: int) -> int:
        calls.append((parameter, value))
        return 1

    monkeypatch.setattr(pipeline.ctypes, "CDLL", lambda _name: SimpleNamespace(mallopt=mallopt))
    pipeline._keep_freed_memory()
    # M_MMAP_THRESHOLD (-3) and M_TRIM_THRESHOLD (-1) of glibc's malloc.h.
    assert calls == [(-3, 32 << 20), (-1, 256 << 20)]
    calls.clear()
    # musl, say: no mallopt, nothing changes and nothing fails.
    monkeypatch.setattr(pipeline.ctypes, "CDLL", lambda _name: SimpleNamespace())
    pipeline._keep_freed_memory()
    assert calls == []
