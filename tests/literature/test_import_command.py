"""`manage.py import_literature`: final line, exit status, all-or-nothing, --skip-bad."""

from __future__ import annotations

import gzip
import io
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from evidencepress.evidence.models import Publication, Topic
from evidencepress.literature.models import ImportBatch

pytestmark = pytest.mark.django_db
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


@pytest.fixture
def topic() -> Topic:
    return Topic.objects.create(
        name="Imiquimod for angiosarcoma",
        slug="imiquimod-angiosarcoma",
        treatment="Imiquimod",
        condition="Angiosarcoma",
    )


def run(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("import_literature", *args, "--no-progress", stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def snapshot() -> list[dict[str, object]]:
    return list(Publication.objects.order_by("pk").values())


def test_imports_a_medline_file_and_prints_the_counts(topic: Topic) -> None:
    out, _ = run(str(FIXTURES / "medline" / "sample.xml"), "--topic", topic.slug)
    # Three records; the DeleteCitation names PMIDs that are not stored.
    assert out.strip().splitlines()[-1] == "new 3, updated 0, duplicates 0, rejected 0"
    assert set(topic.publications.values_list("pmid", flat=True)) == {
        "31000001",
        "31000002",
        "31000003",
    }


def test_the_same_file_twice_changes_nothing(topic: Topic, tmp_path: Path) -> None:
    packed = tmp_path / "sample.xml.gz"
    packed.write_bytes(gzip.compress((FIXTURES / "medline" / "sample.xml").read_bytes(), mtime=0))
    run(str(packed), "--topic", topic.slug)
    before = snapshot()
    out, _ = run(str(packed), "--topic", topic.slug)
    assert out.strip().splitlines()[-1] == "new 0, updated 0, duplicates 3, rejected 0"
    assert snapshot() == before


def test_a_bad_record_fails_the_run_and_writes_nothing(topic: Topic) -> None:
    run(str(FIXTURES / "medline" / "sample.xml"), "--topic", topic.slug)
    before, batches = snapshot(), ImportBatch.objects.count()
    with pytest.raises(CommandError) as caught:
        run(
            str(FIXTURES / "ris" / "sample.ris"),
            str(FIXTURES / "nbib" / "sample.nbib"),
            "--topic",
            topic.slug,
        )
    message = str(caught.value)
    assert "sample.ris: record 3" in message and "Nothing was imported" in message
    assert snapshot() == before
    assert ImportBatch.objects.count() == batches


def test_skip_bad_keeps_the_good_records_and_lists_the_bad(topic: Topic) -> None:
    out, err = run(
        str(FIXTURES / "ris" / "sample.ris"),
        str(FIXTURES / "nbib" / "sample.nbib"),
        str(FIXTURES / "bibtex" / "sample.bib"),
        "--topic",
        topic.slug,
        "--skip-bad",
    )
    assert out.strip().splitlines()[-1] == "new 6, updated 0, duplicates 0, rejected 3"
    assert "sample.ris: record 3" in err
    assert "sample.nbib: record 3 (31000013): record has no title" in err
    assert "sample.bib: record 2 (notitle2019)" in err
    assert Publication.objects.count() == 6


@pytest.mark.parametrize(
    ("name", "data", "expected"),
    [
        ("cut.xml", b"<?xml version='1.0'?><PubmedArticleSet><PubmedArticle>", "truncated"),
        ("notes.txt", b"just words\n", "unknown format"),
        ("cut.xml.gz", gzip.compress(b"<PubmedArticleSet>" * 500, mtime=0)[:40], "cut.xml.gz"),
    ],
)
def test_unreadable_files_fail_with_the_file_name(
    topic: Topic, tmp_path: Path, name: str, data: bytes, expected: str
) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    good = FIXTURES / "medline" / "sample.xml"
    with pytest.raises(CommandError) as caught:
        run(str(good), str(path), "--topic", topic.slug)
    assert name in str(caught.value) and expected in str(caught.value)
    assert Publication.objects.count() == 0  # the good file before it was rolled back too


def test_skip_bad_skips_an_unreadable_file_but_still_fails_the_exit(
    topic: Topic, tmp_path: Path
) -> None:
    bad = tmp_path / "cut.xml"
    bad.write_bytes(b"<?xml version='1.0'?><PubmedArticleSet><PubmedArticle>")
    out = io.StringIO()
    with pytest.raises(CommandError, match=r"could not be read and were skipped: cut\.xml"):
        call_command(
            "import_literature",
            str(FIXTURES / "medline" / "sample.xml"),
            str(bad),
            "--topic",
            topic.slug,
            "--skip-bad",
            "--no-progress",
            stdout=out,
            stderr=io.StringIO(),
        )
    assert out.getvalue().strip() == "new 3, updated 0, duplicates 0, rejected 0"
    assert Publication.objects.count() == 3


def test_an_unknown_topic_is_refused() -> None:
    with pytest.raises(CommandError, match="No topic with slug 'nope'"):
        run(str(FIXTURES / "medline" / "sample.xml"), "--topic", "nope")
    assert Publication.objects.count() == 0


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("eric.nbib", (FIXTURES / "nbib" / "eric.nbib").read_bytes()),  # no PMIDs at all
        ("untitled.ris", b"TY  - JOUR\nAU  - Lee, Min\nER  - \n\nTY  - JOUR\nPY  - 2020\nER  - \n"),
        ("untitled.bib", b"@article{a, author = {Lee, Min}}\n@article{b, year = 2020}\n"),
    ],
)
def test_skip_bad_fails_when_every_record_was_rejected(
    topic: Topic, tmp_path: Path, name: str, data: bytes
) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    err = io.StringIO()
    with pytest.raises(CommandError, match=r"every record was rejected \(2\)"):
        call_command(
            "import_literature", str(path), "--topic", topic.slug, "--skip-bad", "--no-progress",
            stdout=io.StringIO(), stderr=err,
        )  # fmt: skip
    assert err.getvalue().count(f"{name}: record ") == 2  # each one is named
    assert ImportBatch.objects.count() == 0 and Publication.objects.count() == 0


def test_skip_bad_with_one_good_record_succeeds(topic: Topic, tmp_path: Path) -> None:
    path = tmp_path / "one-good.ris"
    path.write_bytes(b"TY  - JOUR\nTI  - Good\nER  - \n\nTY  - JOUR\nPY  - 2020\nER  - \n")
    out, _ = run(str(path), "--topic", topic.slug, "--skip-bad")
    assert out.strip().splitlines()[-1] == "new 1, updated 0, duplicates 0, rejected 1"
