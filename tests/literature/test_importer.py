"""The importer: dedupe, updates, all-or-nothing, --skip-bad, NLM deletions."""

from __future__ import annotations

import gc
from datetime import date
from pathlib import Path

import pytest
from django.db import connection, transaction
from lxml import etree

from evidencepress.core.content_version import one_bump_per_table, triggered_tables
from evidencepress.core.models import ContentVersion
from evidencepress.evidence.models import Publication, ReportedPatient, Topic
from evidencepress.literature.dedupe import Index, Known
from evidencepress.literature.importer import ImportRejected, import_items
from evidencepress.literature.models import ImportBatch
from evidencepress.literature.records import (
    Author,
    DeletedCitations,
    ParsedRecord,
    RecordError,
    normalise_title,
)

pytestmark = pytest.mark.django_db


def record(position: int = 1, **overrides: object) -> ParsedRecord:
    values: dict[str, object] = {
        "source_format": "medline_xml",
        "position": position,
        "title": "Topical imiquimod for a scalp angiosarcoma",
        "pmid": "1000001",
        "doi": "10.1000/EXAMPLE.1",
        "journal": "Example Journal",
        "year": 2019,
        "authors": (Author(last_name="Müller", fore_name="Anna", initials="A"),),
        "abstract": "A case.",
        "date_revised": date(2020, 1, 1),
    }
    values.update(overrides)
    return ParsedRecord(**values)  # type: ignore[arg-type]


@pytest.fixture
def topic() -> Topic:
    return Topic.objects.create(
        name="Imiquimod for angiosarcoma",
        slug="imiquimod-angiosarcoma",
        treatment="Imiquimod",
        condition="Angiosarcoma",
    )


def run(items: list[object], topic: Topic | None = None, **kwargs: object):  # type: ignore[no-untyped-def]
    return import_items(
        items,  # type: ignore[arg-type]
        source="test.xml",
        kind="file",
        source_format="medline_xml",
        topic=topic,
        **kwargs,  # type: ignore[arg-type]
    )


def test_new_records_are_stored_with_their_fields_and_topic(topic: Topic) -> None:
    result = run([record(), record(2, pmid="1000002", doi=None, title="Another report")], topic)
    assert result.summary_line() == "new 2, updated 0, duplicates 0, rejected 0"
    pub = Publication.objects.get(pmid="1000001")
    assert pub.doi == "10.1000/example.1"  # DOIs are stored normalised (lower case)
    assert pub.authors[0]["last_name"] == "Müller"
    assert list(pub.topics.all()) == [topic]
    assert pub.import_batch is not None and pub.import_batch.new_count == 2


def test_importing_the_same_records_twice_changes_nothing(topic: Topic) -> None:
    run([record(), record(2, pmid="1000002", doi=None, title="Another")], topic)
    before = list(Publication.objects.order_by("pk").values())
    result = run([record(), record(2, pmid="1000002", doi=None, title="Another")], topic)
    assert result.summary_line() == "new 0, updated 0, duplicates 2, rejected 0"
    after = list(Publication.objects.order_by("pk").values())
    assert [{k: v for k, v in row.items() if k != "updated_at"} for row in before] == [
        {k: v for k, v in row.items() if k != "updated_at"} for row in after
    ]


@pytest.mark.parametrize(
    "second",
    [
        {"pmid": "1000001", "doi": None, "title": "Different title entirely"},  # same PMID
        {"pmid": None, "doi": "10.1000/example.1", "title": "Different title"},  # DOI, other case
        {"pmid": None, "doi": None, "title": "TOPICAL imiquimod for a scalp angiosarcoma."},
    ],
    ids=["pmid", "doi-case-insensitive", "normalised-title-and-year"],
)
def test_duplicates_are_found_by_pmid_doi_or_title(second: dict[str, object]) -> None:
    run([record()])
    result = run([record(**second, date_revised=date(2019, 1, 1))])
    assert Publication.objects.count() == 1
    assert result.new == 0
    assert result.duplicates + result.updated == 1


def test_same_title_in_another_year_is_a_different_publication() -> None:
    run([record()])
    run([record(pmid=None, doi=None, year=2021)])
    assert Publication.objects.count() == 2


TITLE = "Topical imiquimod for a scalp angiosarcoma"


def entered_by_hand(**fields: object) -> Publication:
    """A publication added in the admin, without identifiers (its form folds the title), by the
    same first author as `record()`."""
    fields.setdefault("authors", [{"last_name": "Muller", "fore_name": "A", "initials": "A"}])
    return Publication.objects.create(
        title=TITLE, title_normalized=normalise_title(TITLE), year=2019, **fields
    )


def test_a_title_several_publications_share_matches_the_one_its_pmid_allows() -> None:
    """Stored: PMID 1000001, and after it a copy with the same title and year but no PMID. A
    record with PMID 1000009 and that title cannot be the first (its PMID differs): it is the
    copy, and fills in its PMID instead of adding a third publication. Found by comparing the
    import fuzzing on SQLite and PostgreSQL: the index kept one publication per title, whichever
    the database returned first, and the two returned them in different orders."""
    run([record(doi=None)])
    copy = entered_by_hand()
    result = run([record(pmid="1000009", doi=None, date_revised=date(2021, 1, 1))])
    assert (result.new, result.updated, result.duplicates) == (0, 1, 0)
    copy.refresh_from_db()
    assert copy.pmid == "1000009"
    assert sorted(Publication.objects.values_list("pmid", flat=True)) == ["1000001", "1000009"]


def test_of_two_publications_without_pmid_sharing_a_title_the_older_is_matched() -> None:
    """The oldest candidate wins on every database. Changing the older one's indexed title and
    back gives it a new index entry on PostgreSQL, after the newer one's: there a query without
    an order returns the newer first (seen), SQLite still returns them by id."""
    older = entered_by_hand(journal="Older")
    newer = entered_by_hand(journal="Newer")
    Publication.objects.filter(pk=older.pk).update(title_normalized="moved")
    Publication.objects.filter(pk=older.pk).update(title_normalized=older.title_normalized)
    result = run([record(doi=None, date_revised=date(2021, 1, 1))])
    assert (result.new, result.updated) == (0, 1)
    older.refresh_from_db()
    newer.refresh_from_db()
    assert (older.pmid, older.journal) == ("1000001", "Example Journal")
    assert (newer.pmid, newer.journal) == (None, "Newer")


def test_publications_sharing_a_title_are_tried_oldest_first_whatever_order_they_come_in() -> None:
    """A batch may learn of an older publication with a known title later (through its DOI)."""
    index = Index()
    key = ("a shared title", 2019)
    by_kato = {"authors": [{"last_name": "Kato"}]}
    written_here = Known(None, None, None, None, key, "c", None, **by_kato)  # type: ignore[arg-type]
    for known in (Known(5, "5", None, None, key, "a", None, **by_kato), written_here):  # type: ignore[arg-type]
        index.add(known)
    index.add(Known(3, None, "10.1/x", None, key, "b", None, authors='[{"last_name": "Kato"}]'))
    assert [k.pk for k in index.by_title[key]] == [3, 5, None]
    values = {
        "pmid": "9",
        "doi": None,
        "title_normalized": key[0],
        "year": key[1],
        "authors": [{"last_name": "KATO"}],
        "journal": "",
    }
    assert index.find(values) is index.by_pk[3]
    index.forget(index.by_pk[3])
    assert index.find(values) is written_here  # PMID 5 is not PMID 9
    assert index.find({**values, "pmid": None}) is index.by_pk[5]


def test_a_newer_version_updates_the_record_but_an_older_one_does_not() -> None:
    run([record()])
    newer = record(abstract="Corrected abstract.", date_revised=date(2021, 5, 1))
    assert run([newer]).updated == 1
    assert Publication.objects.get().abstract == "Corrected abstract."
    older = record(abstract="Stale abstract.", date_revised=date(2018, 1, 1))
    result = run([older])
    assert result.updated == 0 and result.duplicates == 1
    assert Publication.objects.get().abstract == "Corrected abstract."


def test_an_update_never_touches_curated_fields(topic: Topic) -> None:
    run([record()], topic)
    pub = Publication.objects.get()
    pub.notes = "Curator: checked against the PDF."
    pub.save()
    ReportedPatient.objects.create(publication=pub, topic=topic, label="Case 1")
    run([record(title="Topical imiquimod for a scalp angiosarcoma (erratum)")], topic)
    pub.refresh_from_db()
    assert pub.title.endswith("(erratum)")
    assert pub.notes == "Curator: checked against the PDF."
    assert pub.patients.count() == 1


def test_a_bad_record_rejects_the_whole_import_by_default() -> None:
    items = [record(), RecordError(2, "no PMID", "Some title"), record(3, pmid="1000003", doi=None)]
    with pytest.raises(ImportRejected, match=r"test.xml: record 2 \(Some title\): no PMID"):
        run(items)
    assert Publication.objects.count() == 0
    assert ImportBatch.objects.count() == 0


def test_skip_bad_keeps_good_records_and_lists_the_bad() -> None:
    items = [
        record(),
        RecordError(2, "no PMID", "Some title"),
        record(3, pmid="1000003", doi=None, title="Third"),
    ]
    result = run(items, skip_bad=True)
    assert result.summary_line() == "new 2, updated 0, duplicates 0, rejected 1"
    assert [e.position for e in result.errors] == [2]
    assert "record 2 (Some title): no PMID" in ImportBatch.objects.get().rejected_detail


def test_a_doi_owned_by_another_pmid_is_rejected_not_merged() -> None:
    run([record()])
    clash = record(pmid="2000000", doi="10.1000/example.1", title="Unrelated paper", year=2022)
    with pytest.raises(ImportRejected, match=r"DOI 10\.1000/example\.1 already belongs"):
        run([clash])
    assert Publication.objects.count() == 1


def test_duplicates_inside_one_file_are_stored_once() -> None:
    result = run([record(), record(2)])
    assert result.new == 1 and result.duplicates == 1
    assert Publication.objects.count() == 1


def test_nlm_deletions_remove_uncurated_records_only(topic: Topic) -> None:
    run([record(), record(2, pmid="1000002", doi=None, title="Second")], topic)
    curated = Publication.objects.get(pmid="1000002")
    ReportedPatient.objects.create(publication=curated, topic=topic, label="Case 1")
    result = run([DeletedCitations(3, ("1000001", "1000002"))], topic)
    assert result.deleted == 1
    assert list(Publication.objects.values_list("pmid", flat=True)) == ["1000002"]
    assert "has curated cases" in ImportBatch.objects.first().rejected_detail  # type: ignore[union-attr]


def test_an_exception_midway_leaves_the_database_as_it_was() -> None:
    run([record()])
    snapshot = list(Publication.objects.values_list("pmid", "content_hash"))

    def items():  # type: ignore[no-untyped-def]
        yield record(abstract="changed", date_revised=date(2022, 1, 1))
        for i in range(2, 1500):  # more than one internal batch is flushed before the failure
            yield record(i, pmid=str(3000000 + i), doi=None, title=f"Paper {i}")
        raise RuntimeError("disk on fire")

    with pytest.raises(RuntimeError):
        run(items())
    assert list(Publication.objects.values_list("pmid", "content_hash")) == snapshot
    assert ImportBatch.objects.count() == 1


def test_a_pmcid_owned_by_another_publication_is_rejected() -> None:
    run([record(pmcid="PMC123")])
    clash = record(pmid="2000001", doi=None, title="Other", pmcid="PMC123")
    with pytest.raises(ImportRejected, match="PMCID PMC123 already belongs"):
        run([clash])
    assert Publication.objects.count() == 1


def test_an_undated_copy_never_replaces_a_dated_medline_record() -> None:
    run([record()])
    ris_copy = record(
        source_format="ris", abstract="Shorter RIS abstract.", date_revised=None, authors=()
    )
    result = run([ris_copy])
    assert result.duplicates == 1 and result.updated == 0
    assert Publication.objects.get().abstract == "A case."


def test_two_versions_in_one_file_store_the_newer(topic: Topic) -> None:
    older = record(abstract="First version.", date_revised=date(2020, 1, 1))
    newer = record(2, abstract="Second version.", date_revised=date(2020, 6, 1))
    result = run(
        [
            older,
            *[record(i, pmid=str(5000 + i), doi=None, title=f"T{i}") for i in range(3, 1100)],
            newer,
        ],
        topic,
    )
    assert Publication.objects.get(pmid="1000001").abstract == "Second version."
    assert result.new == 1098 and result.duplicates == 1
    assert topic.publications.count() == 1098


def test_reimporting_a_file_uses_fingerprints_and_updates_changed_records(
    topic: Topic, tmp_path: Path
) -> None:
    from evidencepress.literature.importer import import_path

    def write(abstract: str, revised: str) -> Path:
        path = tmp_path / "file.xml"
        path.write_text(
            '<?xml version="1.0"?><PubmedArticleSet>'
            + "".join(
                f"<PubmedArticle><MedlineCitation><PMID>{pmid}</PMID><DateRevised>"
                f"<Year>{revised if pmid == 7001 else 2020}</Year><Month>1</Month><Day>1</Day>"
                "</DateRevised><Article>"
                f"<ArticleTitle>Title {pmid}</ArticleTitle><Abstract><AbstractText>"
                f"{abstract if pmid == 7001 else 'Same.'}</AbstractText></Abstract></Article>"
                "</MedlineCitation></PubmedArticle>"
                for pmid in (7001, 7002, 7003)
            )
            + "</PubmedArticleSet>",
            encoding="utf-8",
        )
        return path

    first = import_path(write("Old.", "2020"), topic=topic)
    assert first.summary_line() == "new 3, updated 0, duplicates 0, rejected 0"
    assert all(len(p.source_fingerprint) == 34 for p in Publication.objects.all())  # 3:…
    again = import_path(write("Old.", "2020"), topic=topic)
    assert again.summary_line() == "new 0, updated 0, duplicates 3, rejected 0"
    changed = import_path(write("New.", "2021"), topic=topic)
    assert changed.summary_line() == "new 0, updated 1, duplicates 2, rejected 0"
    assert Publication.objects.get(pmid="7001").abstract == "New."
    assert topic.publications.count() == 3


def test_a_stale_fingerprint_is_replaced_so_the_next_reimport_skips_the_record(
    topic: Topic, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After a parser upgrade (`PARSER_REVISION`) no stored fingerprint matches: the re-import
    reads every record in full, finds its content unchanged, and stores the new fingerprint, so
    the re-import after it reads none. Before, the old fingerprints stayed, and every later
    re-import read every record in full. (A copy formatted differently keeps the stored one:
    tests/security/test_import_idempotence.py.)"""
    from evidencepress.literature.importer import import_path
    from evidencepress.literature.parsers import medline_xml

    path = tmp_path / "file.xml"
    path.write_text(
        '<?xml version="1.0"?><PubmedArticleSet>'
        + "".join(
            f"<PubmedArticle><MedlineCitation><PMID>{pmid}</PMID><Article>"
            f"<ArticleTitle>Title {pmid}</ArticleTitle></Article></MedlineCitation>"
            "</PubmedArticle>"
            for pmid in (7101, 7102, 7103)
        )
        + "</PubmedArticleSet>",
        encoding="utf-8",
    )
    import_path(path, topic=topic)
    current = dict(Publication.objects.values_list("pmid", "source_fingerprint"))
    # What older parsers left behind: revision 2 (no prefix), and a revision 2 with one.
    Publication.objects.filter(pmid="7101").update(source_fingerprint="0" * 32)
    Publication.objects.filter(pmid="7102").update(source_fingerprint="2:" + "0" * 32)
    stamps = dict(Publication.objects.values_list("pmid", "updated_at"))
    batches = dict(Publication.objects.values_list("pmid", "import_batch_id"))

    extracted: list[int] = []
    read_in_full = medline_xml._article

    def counting(element: object, position: int, fingerprint: str = "") -> object:
        extracted.append(position)
        return read_in_full(element, position, fingerprint)

    monkeypatch.setattr(medline_xml, "_article", counting)
    again = import_path(path, topic=topic)
    assert again.summary_line() == "new 0, updated 0, duplicates 3, rejected 0"
    assert extracted == [1, 2]  # the two stale ones, read in full
    assert dict(Publication.objects.values_list("pmid", "source_fingerprint")) == current
    # Bookkeeping, not an update: the rows keep their batch and their modification time.
    assert dict(Publication.objects.values_list("pmid", "updated_at")) == stamps
    assert dict(Publication.objects.values_list("pmid", "import_batch_id")) == batches
    extracted.clear()
    assert import_path(path, topic=topic).duplicates == 3
    assert extracted == []


def test_an_older_copy_never_lends_its_fingerprint_to_newer_stored_content(
    tmp_path: Path,
) -> None:
    from evidencepress.literature.importer import import_path

    def write(revised: int, title: str) -> Path:
        path = tmp_path / f"{revised}.xml"
        path.write_text(
            '<?xml version="1.0"?><PubmedArticleSet><PubmedArticle><MedlineCitation>'
            f"<PMID>7201</PMID><DateRevised><Year>{revised}</Year><Month>1</Month><Day>1</Day>"
            f"</DateRevised><Article><ArticleTitle>{title}</ArticleTitle></Article>"
            "</MedlineCitation></PubmedArticle></PubmedArticleSet>",
            encoding="utf-8",
        )
        return path

    import_path(write(2022, "Corrected title"), topic=None)
    stored = Publication.objects.get().source_fingerprint
    older = import_path(write(2020, "First title"), topic=None)
    assert older.summary_line() == "new 0, updated 0, duplicates 1, rejected 0"
    assert Publication.objects.get().source_fingerprint == stored
    assert Publication.objects.get().title == "Corrected title"


def test_bulk_import_settings_are_restored_afterwards_even_on_failure(topic: Topic) -> None:
    thresholds = gc.get_threshold()
    cursor_cache = None
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA cache_size")
            cursor_cache = cursor.fetchone()[0]
    with pytest.raises(ImportRejected):
        run([record(1), RecordError(2, "record has no title", "1000002")], topic)
    run([record(1)], topic)
    assert gc.get_threshold() == thresholds
    assert Publication.objects.count() == 1
    # The stored author survives the NamedTuple → JSON round trip with its field names.
    assert Publication.objects.get().authors == [
        {"last_name": "Müller", "fore_name": "Anna", "initials": "A", "collective_name": ""}
    ]
    if cursor_cache is not None:
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA cache_size")
            assert cursor.fetchone()[0] == cursor_cache


def _versions(*tables: str) -> dict[str, int]:
    rows = ContentVersion.objects.filter(table_name__in=tables).values_list("table_name", "version")
    return dict(rows)


_WRITTEN = ("evidence_publication", "evidence_publication_topics")


def test_an_import_advances_the_content_versions_and_keeps_the_triggers(topic: Topic) -> None:
    before = _versions(*_WRITTEN)
    items = [record(), *(record(n, pmid=str(1000000 + n), doi=None, title=f"R{n}") for n in (2, 3))]
    run(items, topic)
    after = _versions(*_WRITTEN)
    assert all(after[table] > before[table] for table in _WRITTEN), (before, after)
    if connection.vendor == "sqlite":
        # Once a table for the whole import, not once a row (content_version.one_bump_per_table).
        assert after == {table: before[table] + 1 for table in _WRITTEN}
    assert set(_WRITTEN) <= triggered_tables()
    # The triggers are back: a write after the import advances the version again.
    Publication.objects.filter(pmid="1000002").update(journal="Changed")
    assert _versions("evidence_publication")["evidence_publication"] > after["evidence_publication"]


def test_a_rejected_import_leaves_the_versions_and_the_triggers_as_they_were() -> None:
    before = _versions(*_WRITTEN)
    items = [record(), RecordError(2, "no PMID", "Some title")]
    with pytest.raises(ImportRejected):
        run(items)
    assert _versions(*_WRITTEN) == before
    assert set(_WRITTEN) <= triggered_tables()


sqlite_only = pytest.mark.skipif("connection.vendor != 'sqlite'")


def _write_then_fail() -> None:
    with transaction.atomic(), one_bump_per_table(["evidence_publication"]):
        assert "evidence_publication" not in triggered_tables()
        Publication.objects.create(title="Written while paused")
        raise ZeroDivisionError


@sqlite_only
def test_an_error_while_the_triggers_are_paused_brings_them_back() -> None:
    before = _versions("evidence_publication")
    with pytest.raises(ZeroDivisionError):
        _write_then_fail()
    assert "evidence_publication" in triggered_tables()
    assert _versions("evidence_publication") == before
    assert not Publication.objects.exists()


@sqlite_only
@pytest.mark.django_db(transaction=True)
def test_the_triggers_are_never_paused_outside_a_transaction() -> None:
    # Outside a transaction the DROP would be committed at once, for every other connection.
    paused = one_bump_per_table(["evidence_publication"])
    with pytest.raises(RuntimeError, match="needs a transaction"):
        paused.__enter__()
    assert "evidence_publication" in triggered_tables()


def test_a_nul_character_is_refused_in_every_format_that_can_hold_one() -> None:
    # MEDLINE XML cannot (libxml2 refuses a NUL byte and &#0;), so only the others are checked.
    items = [record(source_format=fmt, title=f"A {fmt} title\x00") for fmt in ("ris", "nbib")]
    result = run(items, skip_bad=True)
    assert [e.message for e in result.errors] == [
        "contains a NUL character (byte 0x00), which cannot be stored"
    ] * 2
    with pytest.raises(etree.XMLSyntaxError):
        etree.fromstring(b"<PubmedArticleSet><T>a &#0; b</T></PubmedArticleSet>")
    with pytest.raises(etree.XMLSyntaxError):
        etree.fromstring(b"<PubmedArticleSet><T>a \x00 b</T></PubmedArticleSet>")


@sqlite_only
def test_a_table_name_that_could_inject_sql_is_never_paused() -> None:
    with connection.cursor() as cursor:
        cursor.execute('CREATE TABLE "odd\'name" (id integer)')
        cursor.execute('CREATE TRIGGER ep_cv_odd AFTER INSERT ON "odd\'name" BEGIN SELECT 1; END')
    assert "odd'name" in triggered_tables()
    paused = one_bump_per_table(["odd'name"])
    with pytest.raises(ValueError, match="Cannot pause"), transaction.atomic():
        paused.__enter__()
