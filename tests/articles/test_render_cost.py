"""Serving an article or an archive month costs the same number of queries however many blocks
and citations it has, and reused HTML never hides a change to what the page shows."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from evidencepress.articles.evidence_pins import page_evidence_pin_live
from evidencepress.articles.models import ArticlePage, ClinicalReviewer
from evidencepress.articles.rendering import rendered_bodies
from evidencepress.evidence.models import Publication

from .conftest import author, complete_body

IMPROVED = '<th scope="row">Any improvement (complete or partial)</th>'


def _more_publications(count: int) -> list[Publication]:
    return [
        Publication.objects.create(
            title=f"Extra study {n}", journal="J Extra", year=2010 + n, authors=[author("Y", "Z")]
        )
        for n in range(count)
    ]


def _cited_text_blocks(pubs: list[Publication]) -> list[dict[str, Any]]:
    """One rich-text block and one practical-tips block per publication, each citing it."""
    body: list[dict[str, Any]] = []
    for pub in pubs:
        body.append(
            {
                "type": "rich_text",
                "value": {"text": f"<p>About {pub.title}.</p>", "citations": [pub.pk]},
            }
        )
        body.append(
            {
                "type": "practical_tips",
                "value": {
                    "heading": "Tips",
                    "tips": [f"Tip from {pub.title}."],
                    "downsides": ["A downside."],
                    "citations": [pub.pk],
                },
            }
        )
    return body


def _queries(client: Client, url: str) -> tuple[int, str]:
    client.get(url)  # warm up: the site root paths and similar per-process lookups
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries), response.content.decode()


@pytest.mark.django_db
def test_article_queries_do_not_grow_with_citations_or_blocks(
    client: Client,
    make_article: Callable[..., ArticlePage],
    publications: dict[str, Publication],
    reviewer: ClinicalReviewer,
) -> None:
    small = make_article(title="Small", body=complete_body(publications, reviewer))
    extra = _more_publications(8)
    large = make_article(
        title="Large",
        body=complete_body(publications, reviewer)
        + _cited_text_blocks(extra)
        + complete_body(publications, reviewer),
    )

    small_count, _ = _queries(client, small.url)
    large_count, large_html = _queries(client, large.url)

    # 2 cited papers + the case source vs 10 + the case source, 8 blocks vs 32.
    assert len(small.cited_publications()) == 3
    assert len(large.cited_publications()) == 11
    assert large_count == small_count
    # ... and every citation still shows, numbered in order of first citation.
    assert '<a href="#ref-11" aria-label="Reference 11">11</a>' in large_html
    assert "Extra study 7" in large_html


@pytest.mark.django_db
def test_archive_month_queries_do_not_grow_with_articles(
    client: Client,
    make_article: Callable[..., ArticlePage],
    publications: dict[str, Publication],
    reviewer: ClinicalReviewer,
    archive: Any,
) -> None:
    september = datetime.date(2024, 9, 12)
    make_article(title="First", body=complete_body(publications, reviewer), date=september)
    url = archive.url + "2024/9/"
    one_count, _ = _queries(client, url)

    extra = _more_publications(6)
    for n in range(3):
        make_article(
            title=f"More {n}",
            body=complete_body(publications, reviewer) + _cited_text_blocks(extra[2 * n :]),
            date=september,
        )
    four_count, html = _queries(client, url)

    assert four_count == one_count
    assert html.count('class="archive-entry"') == 4
    assert html.count("As described by Test Reviewer, MD, dermatologist.") == 4
    assert "Extra study 5" in html


@pytest.mark.django_db(transaction=True)
def test_reused_article_html_follows_every_change(
    client: Client,
    make_article: Callable[..., ArticlePage],
    publications: dict[str, Publication],
    reviewer: ClinicalReviewer,
) -> None:
    """Outside a transaction the blocks' HTML is reused between requests: a change to the
    cases, to a cited paper or to the named clinician must still show at once."""
    rendered_bodies.clear()
    article = make_article(body=complete_body(publications, reviewer))
    first = client.get(article.url).content.decode()
    assert f"{IMPROVED}<td>2 of 3</td>" in first
    assert "described by Test Reviewer, MD, dermatologist" in first
    assert len(rendered_bodies) == 1
    assert client.get(article.url).content.decode() == first

    # A case changes: the page says a change waits for review; a new review changes the numbers.
    case = publications["demo"].patients.get(label="Illustrative case C")
    case.response = "complete"
    case.save()
    waiting = client.get(article.url).content.decode()
    assert "1 new or corrected case is waiting for clinical review." in waiting
    assert f"{IMPROVED}<td>2 of 3</td>" in waiting
    page_evidence_pin_live(page=article, reviewer_name="Dr Second Look")
    assert f"{IMPROVED}<td>3 of 3</td>" in client.get(article.url).content.decode()

    # The named clinician's credentials change.
    reviewer.credentials = "MD, PhD, dermatologist"
    reviewer.save()
    assert "Test Reviewer, MD, PhD, dermatologist" in client.get(article.url).content.decode()

    # A cited paper changes its title: the reference list and the JSON-LD follow.
    mechanism = publications["mechanism"]
    mechanism.title = "How cream X really works"
    mechanism.save()
    assert "How cream X really works." in client.get(article.url).content.decode()
