"""K9 (pages part): one publication with a huge abstract costs the public pages nothing.

No public page shows an abstract, MeSH terms, keywords or publication types, so none of them
reads those columns: the publication's own page, an article citing it, the topic's case export
(through the API) and a drafted summary's references. Every query those pages run is
captured and none selects the abstract column; the page still renders the publication. The
importer's field caps (literature/) are tested on their own.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from evidencepress.evidence.models import Publication, ReportedPatient

from ..articles.conftest import complete_body, home, publications, topic, topic_page

__all__ = ["home", "publications", "topic", "topic_page"]

pytestmark = pytest.mark.django_db

ABSTRACT_MB = 8
MARKER = "HUGE-ABSTRACT-MARKER"
READS_ABSTRACT = re.compile(r'"abstract"|\babstract\b', re.IGNORECASE)


@pytest.fixture
def huge(publications: dict[str, Publication], topic: Any) -> Publication:
    """The mechanism paper, now with an abstract of several megabytes and two cases."""
    publication = publications["mechanism"]
    publication.abstract = MARKER + " word" * (ABSTRACT_MB * 1024 * 1024 // 5)
    publication.mesh_terms = [f"Term {number}" for number in range(20_000)]
    publication.save()
    for label in ("Case 1", "Case 2"):
        ReportedPatient.objects.create(publication=publication, topic=topic, label=label)
    return publication


def _reads_of_the_abstract(queries: CaptureQueriesContext) -> list[str]:
    return [query["sql"][:200] for query in queries if READS_ABSTRACT.search(query["sql"])]


def test_the_publication_page_never_reads_the_abstract(client: Client, huge: Publication) -> None:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(f"/evidence/publications/{huge.pk}/")
    body = response.content.decode()
    assert response.status_code == 200
    # The two new cases are not clinically reviewed yet: the page says they wait, not "2 cases".
    assert "How cream X works" in body and "waiting for clinical review" in body
    assert MARKER not in body and len(body) < 100_000
    assert len(queries) > 0 and _reads_of_the_abstract(queries) == []


def test_an_article_citing_it_never_reads_the_abstract(
    client: Client, huge: Publication, publications: dict[str, Publication], topic_page: Any
) -> None:
    from evidencepress.articles.models import ArticlePage

    page = ArticlePage(
        title="Cream X explained",
        slug="cream-x-explained",
        topic=topic_page.topic,
        summary="Summary.",
        body=complete_body(publications),
    )
    topic_page.add_child(instance=page)
    page.save_revision().publish()
    with CaptureQueriesContext(connection) as queries:
        response = client.get(page.url)
    assert response.status_code == 200
    assert "How cream X works" in response.content.decode()  # the citation is rendered
    assert _reads_of_the_abstract(queries) == []


def test_the_case_export_never_reads_the_abstract(
    client: Client, huge: Publication, topic_page: Any
) -> None:
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/api/v1/topics/x-y/cases/")
    content = response.content
    assert response.status_code == 200
    assert b"How cream X works" in content and MARKER.encode() not in content
    assert _reads_of_the_abstract(queries) == []


def test_the_admin_edit_form_still_has_the_whole_abstract(huge: Publication) -> None:
    # Deferred for display only: the model and the admin read it as before.
    assert Publication.objects.get(pk=huge.pk).abstract.startswith(MARKER)
    assert Publication.objects.for_display().get(pk=huge.pk).get_deferred_fields() >= {
        "abstract",
        "mesh_terms",
    }
