"""The reader process: a forked child reads a MEDLINE file while the importer writes.

Every test that imports through the pipeline checks that a child really was forked, and compares
with the same file imported in one process: the reader process may only change the speed.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.test import override_settings

from bench.generate_medline import write as generate
from evidencepress.evidence.models import Publication, Topic
from evidencepress.literature import importer, pipeline
from evidencepress.literature.importer import ImportRejected, import_path
from evidencepress.literature.models import ImportBatch
from evidencepress.literature.records import (
    KnownRecords,
    LiteratureParseError,
    ParsedItem,
    ParsedRecord,
    RecordError,
    UnchangedRecord,
)

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n<PubmedArticleSet>\n'
COMPARED = importer._IMPORTED_FIELDS  # every field an import writes


def article(pmid: int, title: str = "A title.", revised: int = 2021) -> str:
    return (
        f"<PubmedArticle><MedlineCitation><PMID>{pmid}</PMID>"
        f"<DateRevised><Year>{revised}</Year><Month>01</Month><Day>02</Day></DateRevised>"
        "<Article><Journal><JournalIssue><PubDate><Year>2020</Year></PubDate></JournalIssue>"
        f"<Title>J</Title></Journal><ArticleTitle>{title}</ArticleTitle></Article>"
        "</MedlineCitation></PubmedArticle>\n"
    )


def xml_file(tmp_path: Path, name: str, body: str) -> Path:
    path = tmp_path / name
    path.write_text(HEAD + body + "</PubmedArticleSet>\n", encoding="utf-8")
    return path


@pytest.fixture
def topic() -> Topic:
    return Topic.objects.create(name="T", slug="t", treatment="x", condition="y")


@pytest.fixture
def forks(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Send every import through the reader process, and count the children forked.

    `available()` is forced true: pytest-xdist workers may run a helper thread, and these tests
    are about what the pipeline does, not about when it is chosen (tested on its own below).
    """
    started: list[int] = []
    real = pipeline.read_in_child

    def counted(*args: Any, **kwargs: Any) -> Iterator[ParsedItem]:
        started.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(pipeline, "available", lambda: True)
    monkeypatch.setattr(pipeline, "read_in_child", counted)
    return started


def stored() -> list[tuple[Any, ...]]:
    return list(Publication.objects.order_by("pmid").values_list(*COMPARED))


def no_children_left() -> bool:
    try:
        os.waitpid(-1, os.WNOHANG)
    except ChildProcessError:
        return True
    return False


def serial_then_parallel(path: Path, topic: Topic, forks: list[int], **kwargs: Any) -> Any:
    """Import `path` in one process, then (after a clean slate) through the reader process."""
    with override_settings(LITERATURE_READER_PROCESS_MIN_BYTES=None):
        serial = import_path(path, topic=topic, **kwargs)
    expected = stored()
    Publication.objects.all().delete()
    ImportBatch.objects.all().delete()
    with override_settings(LITERATURE_READER_PROCESS_MIN_BYTES=0):
        parallel = import_path(path, topic=topic, **kwargs)
    assert forks == [1]
    assert (serial.reader_process, parallel.reader_process) == (False, True)
    assert stored() == expected
    assert no_children_left()
    return serial, parallel


def test_a_generated_baseline_file_imports_exactly_as_in_one_process(
    topic: Topic, tmp_path: Path, forks: list[int]
) -> None:
    path = generate(tmp_path / "baseline.xml", count=1_300, seed=7)  # three frames of records
    serial, parallel = serial_then_parallel(path, topic, forks)
    assert parallel.summary_line() == serial.summary_line()
    assert parallel.summary_line() == "new 1300, updated 0, duplicates 0, rejected 0"
    assert topic.publications.count() == 1_300


def test_the_sample_file_with_a_book_and_deletions_imports_exactly_as_in_one_process(
    topic: Topic, forks: list[int]
) -> None:
    serial, parallel = serial_then_parallel(FIXTURES / "medline" / "sample.xml", topic, forks)
    assert (parallel.new, parallel.deleted, parallel.errors) == (
        serial.new,
        serial.deleted,
        serial.errors,
    )


def test_skip_bad_lists_the_same_bad_records(
    topic: Topic, tmp_path: Path, forks: list[int]
) -> None:
    body = article(8001) + article(8002, title="") + article(8003)
    path = xml_file(tmp_path, "bad.xml", body)
    serial, parallel = serial_then_parallel(path, topic, forks, skip_bad=True)
    assert parallel.errors == serial.errors == (RecordError(2, "record has no title", "8002"),)
    assert parallel.summary_line() == "new 2, updated 0, duplicates 0, rejected 1"


@override_settings(LITERATURE_READER_PROCESS_MIN_BYTES=0)
def test_a_rejected_record_stops_the_child_and_writes_nothing(
    topic: Topic, tmp_path: Path, forks: list[int]
) -> None:
    body = "".join(article(9000 + i) for i in range(1, 2000)) + article(12000, title="")
    with pytest.raises(ImportRejected, match=r"record 2000 \(12000\): record has no title"):
        import_path(xml_file(tmp_path, "rejected.xml", body), topic=topic)
    assert forks == [1]
    assert Publication.objects.count() == 0 and ImportBatch.objects.count() == 0
    assert no_children_left()


@override_settings(LITERATURE_READER_PROCESS_MIN_BYTES=0)
def test_a_truncated_file_fails_with_its_position_and_writes_nothing(
    topic: Topic, tmp_path: Path, forks: list[int]
) -> None:
    path = generate(tmp_path / "whole.xml", count=700, seed=3)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) * 3 // 4])  # cut inside a record, after one frame
    with pytest.raises(LiteratureParseError, match=r"whole\.xml \(record \d+\): the XML is"):
        import_path(path, topic=topic)
    assert forks == [1]
    assert Publication.objects.count() == 0 and ImportBatch.objects.count() == 0
    assert no_children_left()


@override_settings(LITERATURE_READER_PROCESS_MIN_BYTES=0)
def test_a_reimport_skips_unchanged_records_and_links_them_to_a_new_topic(
    topic: Topic, tmp_path: Path, forks: list[int]
) -> None:
    path = xml_file(tmp_path, "file.xml", "".join(article(7000 + i) for i in range(1, 40)))
    assert import_path(path, topic=topic).new == 39
    other = Topic.objects.create(name="Other", slug="other", treatment="x", condition="z")
    corrected = article(7005, title="Corrected title.", revised=2022)
    changed = path.read_text().replace(article(7005), corrected)
    path.write_text(changed, encoding="utf-8")
    again = import_path(path, topic=other)
    assert forks == [1, 1]
    assert again.summary_line() == "new 0, updated 1, duplicates 38, rejected 0"
    assert Publication.objects.get(pmid="7005").title == "Corrected title."
    assert other.publications.count() == 39  # unchanged records are linked through their id


def test_the_child_never_reports_a_record_unchanged_after_reading_that_pmid(
    tmp_path: Path,
) -> None:
    """A deleted PMID, or one read in full earlier in the file, is always read in full again:
    this import may have changed the publication the stored fingerprint belongs to."""
    from evidencepress.literature.parsers import medline_xml

    body = (
        article(6001, title="Changed.")
        + "".join(article(6100 + i) for i in range(70))  # past the parser's chunk of 64
        + article(6001)
        + article(6002)
        + "<DeleteCitation><PMID>6003</PMID></DeleteCitation>\n"
        + article(6003)
    )
    path = xml_file(tmp_path, "again.xml", body)
    fingerprints = {}
    with path.open("rb") as stream:
        for item in medline_xml.parse(stream, source="again.xml", known=lambda pairs: set()):
            if isinstance(item, ParsedRecord) and item.pmid in ("6001", "6002", "6003"):
                fingerprints[item.pmid] = item.fingerprint  # 6001's last copy: the unchanged one

    def read(known: KnownRecords) -> Iterator[ParsedItem]:
        with path.open("rb") as stream:
            yield from medline_xml.parse(stream, source="again.xml", known=known)

    items = list(pipeline.read_in_child(read, stored=fingerprints, source="again.xml"))
    unchanged = [item.pmid for item in items if isinstance(item, UnchangedRecord)]
    assert unchanged == ["6002"]
    assert [item.position for item in items] == list(range(1, 76))
    assert no_children_left()


def test_an_unexpected_failure_in_the_child_reaches_the_parent() -> None:
    def read(known: KnownRecords) -> Iterator[ParsedItem]:
        yield RecordError(1, "first", None)
        raise ZeroDivisionError("a bug in a reader")

    items = pipeline.read_in_child(read, stored={}, source="bug.xml")
    with pytest.raises(RuntimeError, match=r"(?s)reading bug\.xml.*ZeroDivisionError: a bug"):
        list(items)
    assert no_children_left()


def test_a_parent_that_stops_reading_kills_and_reaps_the_child() -> None:
    def read(known: KnownRecords) -> Iterator[ParsedItem]:
        position = 0
        while True:  # endless: only the parent can end it
            position += 1
            yield RecordError(position, "x" * 200, None)

    items = pipeline.read_in_child(read, stored={}, source="endless.xml")
    first = [next(items) for _ in range(3 * pipeline.FRAME_ITEMS)]
    assert [item.position for item in first] == list(range(1, 3 * pipeline.FRAME_ITEMS + 1))
    items.close()  # what an exception in the importer does to the generator
    assert no_children_left()


def test_the_reader_process_is_chosen_only_when_forking_is_safe_and_the_file_large(
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
        calls.append(kwargs["reader_process"])
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
    topic: Topic, tmp_path: Path, forks: list[int], reader_process: bool
) -> None:
    first = xml_file(tmp_path, "first.xml", article(6003))
    threshold = 0 if reader_process else None
    with override_settings(LITERATURE_READER_PROCESS_MIN_BYTES=threshold):
        import_path(first, topic=topic)
        body = "<DeleteCitation><PMID>6003</PMID></DeleteCitation>\n" + article(6003)
        update = import_path(xml_file(tmp_path, "update.xml", body), topic=topic)
    assert (update.deleted, update.new) == (1, 1)
    assert Publication.objects.filter(pmid="6003").count() == 1
    assert len(forks) == (2 if reader_process else 0)
