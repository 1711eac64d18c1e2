"""The archive: /archive/, /archive/YYYY/, /archive/YYYY/MM/, and 404 for empty periods."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from evidencepress.articles.models import ArchiveIndexPage, ArchiveMonth, ArticlePage

from .conftest import complete_body

pytestmark = pytest.mark.django_db


@pytest.fixture
def articles(make_article: Callable[..., ArticlePage], publications: Any) -> dict[str, ArticlePage]:
    return {
        "september": make_article(
            title="September piece",
            body=complete_body(publications),
            date=datetime.date(2024, 9, 12),
        ),
        "updated": make_article(
            title="Older piece updated",
            date=datetime.date(2024, 3, 2),
            updated=datetime.date(2024, 9, 30),
        ),
        "november": make_article(title="November piece", date=datetime.date(2024, 11, 7)),
        "draft": make_article(title="Draft piece", date=datetime.date(2024, 9, 20), publish=False),
        "next_year": make_article(title="January piece", date=datetime.date(2025, 1, 16)),
    }


def test_index_lists_months_with_articles(
    client: Client, archive: ArchiveIndexPage, articles: Any
) -> None:
    html = client.get("/archive/").content.decode()
    for month in ("January 2025", "November 2024", "September 2024", "March 2024"):
        assert month in html
    assert "October 2024" not in html
    assert 'href="/archive/2024/09/"' in html


def test_year_page_lists_only_that_years_months(
    client: Client, archive: ArchiveIndexPage, articles: Any
) -> None:
    html = client.get("/archive/2024/").content.decode()
    assert "September 2024" in html and "November 2024" in html
    assert "January 2025" not in html


def test_month_page_collects_published_and_updated_articles_with_sources_and_tips(
    client: Client, archive: ArchiveIndexPage, articles: dict[str, ArticlePage]
) -> None:
    ArchiveMonth.objects.create(
        page=archive,
        year=2024,
        month=9,
        title="September 2024 — What We Published",
        intro="<p>Our month in brief.</p>",
    )
    response = client.get("/archive/2024/09/")
    html = response.content.decode()

    assert response.status_code == 200
    assert "<h1>September 2024 — What We Published</h1>" in html
    assert "Our month in brief." in html
    assert "September piece" in html and "Summary of September piece." in html
    assert "Older piece updated" in html and "Substantially updated" in html
    assert "Draft piece" not in html and "November piece" not in html
    # Sources, clinician tips and a link to the full post.
    assert "Alpha A, Beta BB. How cream X works." in html
    assert "Take a biopsy first." in html
    assert f'href="{articles["september"].url}"' in html
    assert "Demonstration data — not medical evidence" in html


def test_month_without_an_introduction_gets_a_default_title(
    client: Client, archive: ArchiveIndexPage, articles: Any
) -> None:
    html = client.get("/archive/2024/11/").content.decode()
    assert "<h1>November 2024 — What We Published</h1>" in html


@pytest.mark.parametrize(
    "url", ["/archive/2024/10/", "/archive/2023/", "/archive/2024/13/", "/archive/2030/01/"]
)
def test_empty_or_impossible_periods_are_not_found(
    client: Client, archive: ArchiveIndexPage, articles: Any, url: str
) -> None:
    assert client.get(url).status_code == 404


def test_a_month_with_only_a_draft_or_an_introduction_is_not_found(
    client: Client, archive: ArchiveIndexPage, make_article: Callable[..., ArticlePage]
) -> None:
    make_article(title="Unpublished", date=datetime.date(2024, 6, 1), publish=False)
    ArchiveMonth.objects.create(page=archive, year=2024, month=6, title="June 2024")
    assert client.get("/archive/2024/06/").status_code == 404
