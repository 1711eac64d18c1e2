"""E3: importing is idempotent, never duplicates a PMID or DOI, and records where a change came
from.

Already covered elsewhere (mapped in docs/security.md): the same file twice through
`import_literature` (tests/literature/test_import_command.py), the same query twice and file
then E-utilities (tests/literature/test_fetch_pubmed.py), fingerprints and changed records
(tests/literature/test_importer.py). This file adds the plan's figures over every row the
import writes: publications, their topic links and the batch log, counted row by row; both
orders of file and E-utilities; the database's own refusal of a duplicate PMID or DOI; and the
provenance of the one row a changed abstract updates.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.db import IntegrityError, transaction
from django.db.models import Count
from django.db.models.functions import Lower
from lxml import etree

from evidencepress.evidence.models import Publication, Topic
from evidencepress.literature.management.commands.fetch_pubmed import Command as FetchPubmed
from evidencepress.literature.models import ImportBatch

from ..literature.eutils_fake import RECORDED, FakeClock, FakeNcbi

pytestmark = pytest.mark.django_db
QUERY = "imiquimod AND angiosarcoma"
CHANGED_PMID = "99000102"


@pytest.fixture
def topic() -> Topic:
    return Topic.objects.create(
        name="Imiquimod for angiosarcoma",
        slug="imiquimod-angiosarcoma",
        treatment="Imiquimod",
        condition="Angiosarcoma",
    )


@pytest.fixture
def pubmed_file(tmp_path: Path) -> Path:
    """The five recorded E-utilities records as one downloaded PubMed XML file."""
    merged = etree.Element("PubmedArticleSet")
    parser = etree.XMLParser(remove_blank_text=True, resolve_entities=False, no_network=True)
    for name in ("efetch-batch1.xml", "efetch-batch2.xml", "efetch-batch3.xml"):
        merged.extend(etree.parse(str(RECORDED / name), parser).getroot())
    path = tmp_path / "pubmed-download.xml"
    path.write_bytes(etree.tostring(merged, xml_declaration=True, encoding="UTF-8"))
    return path


def import_file(path: Path, topic: Topic) -> str:
    out = io.StringIO()
    call_command(
        "import_literature", str(path), "--topic", topic.slug, "--no-progress",
        stdout=out, stderr=io.StringIO(),
    )  # fmt: skip
    return out.getvalue().strip().splitlines()[-1]


def fetch_pubmed(topic: Topic) -> str:
    fake = FakeNcbi(FakeClock())
    out = io.StringIO()
    call_command(
        FetchPubmed(transport=fake.transport(), clock=fake.clock), QUERY,
        "--topic", topic.slug, "--batch-size", "2", "--no-progress",
        stdout=out, stderr=io.StringIO(),
    )  # fmt: skip
    return out.getvalue().strip().splitlines()[-1]


def content_rows() -> dict[tuple[str, Any], tuple[Any, ...]]:
    """Every row an import writes to the evidence base, keyed by table and id."""
    rows: dict[tuple[str, Any], tuple[Any, ...]] = {}
    for row in Publication.objects.values():
        rows[("publication", row["id"])] = tuple(sorted(row.items(), key=lambda kv: kv[0]))
    links = Publication.topics.through.objects.values_list("id", "publication_id", "topic_id")
    for link in links:
        rows[("publication_topics", link[0])] = link
    return rows


def changed_rows(before: dict[Any, Any], after: dict[Any, Any]) -> list[Any]:
    return sorted(
        (key for key in before.keys() | after.keys() if before.get(key) != after.get(key)),
        key=str,
    )


def duplicate_identifiers() -> dict[str, list[Any]]:
    pmids = (
        Publication.objects.exclude(pmid=None)
        .values("pmid")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
    )
    dois = (
        Publication.objects.exclude(doi=None)
        .annotate(key=Lower("doi"))
        .values("key")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
    )
    return {"pmid": list(pmids), "doi": list(dois)}


def test_the_same_file_twice_changes_0_rows(topic: Topic, pubmed_file: Path) -> None:
    assert import_file(pubmed_file, topic) == "new 5, updated 0, duplicates 0, rejected 0"
    before = content_rows()
    line = import_file(pubmed_file, topic)
    changed = changed_rows(before, content_rows())
    assert line == "new 0, updated 0, duplicates 5, rejected 0"
    assert changed == [], f"2nd run changed {len(changed)} of {len(before)} rows: {changed}"
    # The run itself is logged (one batch row per run) and says it changed nothing.
    second = ImportBatch.objects.order_by("-pk").first()
    assert (second.new_count, second.updated_count, second.duplicate_count) == (0, 0, 5)
    print(f"E3: 2nd run of the same file changed 0 of {len(before)} rows")


@pytest.mark.parametrize("order", ["file then E-utilities", "E-utilities then file"])
def test_the_same_pmids_by_file_and_by_e_utilities_are_stored_once(
    order: str, topic: Topic, pubmed_file: Path
) -> None:
    steps = [lambda: import_file(pubmed_file, topic), lambda: fetch_pubmed(topic)]
    if order.startswith("E-utilities"):
        steps.reverse()
    assert steps[0]().startswith("new 5,")
    before = content_rows()
    second = steps[1]()
    assert second.startswith("new 0, updated 0, duplicates 5"), second
    assert changed_rows(before, content_rows()) == []
    assert Publication.objects.count() == 5
    assert duplicate_identifiers() == {"pmid": [], "doi": []}


def test_the_database_itself_refuses_a_second_pmid_or_doi(topic: Topic, pubmed_file: Path) -> None:
    """The unique constraints hold even for code that bypasses the importer."""
    import_file(pubmed_file, topic)
    stored = Publication.objects.exclude(doi=None).first()
    for clash in (
        {"pmid": stored.pmid, "doi": None},
        {"pmid": None, "doi": stored.doi.upper()},  # DOIs are unique regardless of case
    ):
        with pytest.raises(IntegrityError), transaction.atomic():
            Publication.objects.create(title="A second copy", **clash)
    assert Publication.objects.count() == 5


def test_a_changed_abstract_updates_exactly_one_row_and_says_which_import_did(
    topic: Topic, pubmed_file: Path, tmp_path: Path
) -> None:
    import_file(pubmed_file, topic)
    first_batch = ImportBatch.objects.get()
    before = content_rows()
    old = Publication.objects.get(pmid=CHANGED_PMID)

    revised = tmp_path / "revised.xml"
    text = pubmed_file.read_bytes()
    assert text.count(b"We describe one illustrative case.") == 1
    revised.write_bytes(
        text.replace(
            b"We describe one illustrative case.",
            b"We describe one illustrative case, with two years of follow-up.",
        )
    )
    line = import_file(revised, topic)
    changed = changed_rows(before, content_rows())
    new = Publication.objects.get(pmid=CHANGED_PMID)
    latest = ImportBatch.objects.order_by("-pk").first()

    assert line == "new 0, updated 1, duplicates 4, rejected 0"
    assert changed == [("publication", old.pk)], f"{len(changed)} rows changed: {changed}"
    assert new.abstract.endswith("with two years of follow-up.")
    # Provenance: the row points at the import that changed it, which names its source file
    # and counts the update; the first import's batch still describes the other four.
    assert old.import_batch_id == first_batch.pk
    assert new.import_batch_id == latest.pk != first_batch.pk
    assert latest.source.endswith("revised.xml") and latest.updated_count == 1
    assert new.updated_at > old.updated_at
    assert Publication.objects.filter(import_batch=first_batch).count() == 4
    print("E3: a changed abstract updated 1 row, linked to its import batch")
