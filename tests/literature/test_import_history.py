"""An import that changes a stored publication is recorded in the evidence history (issue #14 §2).

The importer writes with raw SQL, so no signal fires: it records one "evidence.change" per
publication it updated, field by field, in bulk at the end of the import; a re-import that
changes nothing records nothing, and the publications an import creates are shown by batch.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from wagtail.models import ModelLogEntry

from evidencepress.evidence.history import topic_history
from evidencepress.evidence.models import Publication, Topic
from evidencepress.literature.importer import import_path

pytestmark = pytest.mark.django_db

# Invented records (a reserved test DOI prefix, a PMID no paper has).
RIS = """TY - JOUR
AU - Lindqvist, Maja
TI - Invented record: imiquimod for a scalp angiosarcoma
JO - Example Oncology
PY - 2022
DO - 10.1000/history.import.1
ER -
"""

MEDLINE = """<?xml version="1.0"?><PubmedArticleSet><PubmedArticle><MedlineCitation>
<PMID>99000123</PMID><DateRevised><Year>2023</Year><Month>2</Month><Day>1</Day></DateRevised>
<Article><Journal><Title>Example Oncology</Title><JournalIssue><PubDate><Year>2022</Year>
</PubDate></JournalIssue></Journal>
<ArticleTitle>Invented record: topical imiquimod for a scalp angiosarcoma</ArticleTitle>
<ELocationID EIdType="doi">10.1000/history.import.1</ELocationID>
<AuthorList><Author><LastName>Lindqvist</LastName><ForeName>Maja</ForeName></Author></AuthorList>
</Article></MedlineCitation></PubmedArticle></PubmedArticleSet>
"""

DELETE = """<?xml version="1.0"?><PubmedArticleSet>
<DeleteCitation><PMID Version="1">99000123</PMID></DeleteCitation></PubmedArticleSet>
"""


@pytest.fixture
def topic() -> Topic:
    return Topic.objects.create(
        name="Imiquimod for angiosarcoma", slug="imi-angio", treatment="Imiquimod", condition="A"
    )


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _imports(topic: Topic) -> list[ModelLogEntry]:
    return [e for e in topic_history(topic) if "import batch" in e.data.get("source", "")]


def test_an_import_that_updates_a_publication_records_its_fields(
    topic: Topic, tmp_path: Path, client: Client, django_user_model: type[User]
) -> None:
    ris = _write(tmp_path, "copy.ris", RIS)
    xml = _write(tmp_path, "copy.xml", MEDLINE)
    first = import_path(ris, topic=topic)
    assert first.new == 1
    assert _imports(topic) == []  # a creation is shown by its import batch, not per row

    second = import_path(xml, topic=topic)
    assert second.updated == 1
    publication = Publication.objects.get()
    assert publication.pmid == "99000123"
    (entry,) = _imports(topic)
    assert entry.action == "evidence.change"
    assert entry.object_id == str(publication.pk)
    assert entry.user is None  # the command has no user: the source names the batch
    assert entry.data["source"] == f"import batch #{second.batch_id}"
    assert entry.data["reason"] == f"Import batch {second.batch_id} (File copy.xml)"
    assert entry.data["topics"] == {str(topic.pk): topic.name}
    changes = entry.data["changes"]
    assert changes["PMID"] == [None, "99000123"]
    assert changes["title"] == [
        "Invented record: imiquimod for a scalp angiosarcoma",
        "Invented record: topical imiquimod for a scalp angiosarcoma",
    ]
    # Only what a reader sees, not the importer's bookkeeping; unchanged fields are left out.
    assert not {"journal", "year", "DOI", "field sources", "content hash"} & set(changes)

    # Re-importing both copies changes nothing, so records nothing.
    assert import_path(ris, topic=topic).updated == 0
    assert import_path(xml, topic=topic).updated == 0
    assert len(_imports(topic)) == 1

    admin = django_user_model.objects.create_superuser("chief", "c@example.org", "x" * 12)
    client.force_login(admin)
    html = client.get(reverse("topic:evidence_history", args=[topic.pk])).content.decode()
    assert f"Import batch {second.batch_id} (File copy.xml)" in html
    assert (
        "Invented record: imiquimod for a scalp angiosarcoma → "
        "Invented record: topical imiquimod for a scalp angiosarcoma"
    ) in html


def test_a_citation_nlm_deleted_is_recorded_as_deleted_by_the_import(
    topic: Topic, tmp_path: Path
) -> None:
    import_path(_write(tmp_path, "copy.xml", MEDLINE), topic=topic)
    publication = Publication.objects.get()
    result = import_path(_write(tmp_path, "delete.xml", DELETE), topic=None)
    assert result.deleted == 1
    (entry,) = _imports(topic)
    assert entry.action == "evidence.delete"
    assert entry.object_id == str(publication.pk)
    assert entry.data["reason"] == f"Import batch {result.batch_id} (File delete.xml)"
    assert entry.data["changes"]["PMID"] == ["99000123", None]
