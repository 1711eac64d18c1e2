"""Article pages: citations, references, tips, text, reading level and review fields."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from evidencepress.articles.evidence_pins import page_evidence_pin_live
from evidencepress.articles.models import ArticlePage, ClinicalReviewer, TopicPage
from evidencepress.evidence.models import Publication

from .conftest import complete_body

pytestmark = pytest.mark.django_db


def test_reviewer_reads_as_name_and_credentials(reviewer: ClinicalReviewer) -> None:
    assert str(reviewer) == "Test Reviewer, MD, dermatologist"


def test_references_are_numbered_in_order_of_first_citation(
    make_article: Callable[..., ArticlePage], publications: dict[str, Publication]
) -> None:
    article = make_article(body=complete_body(publications))

    cited = article.cited_publications()
    # mechanism first; the evidence summary then cites the case source (demo); safety last.
    assert cited == [publications["mechanism"], publications["demo"], publications["safety"]]
    refs = article.references()
    assert [r.number for r in refs] == [1, 2, 3]
    assert refs[0].text.startswith(
        "Alpha A, Beta BB. How cream X works. J Test Med. 2020;12(3):101-109."
    )
    assert refs[0].pubmed_url.endswith("/11111111/")
    assert refs[1].is_demo and not refs[0].is_demo


def test_article_page_shows_citation_numbers_references_and_review_line(
    client: Client,
    make_article: Callable[..., ArticlePage],
    publications: dict[str, Publication],
    reviewer: ClinicalReviewer,
) -> None:
    article = make_article(
        body=complete_body(publications, reviewer),
        reviewed_by=reviewer,
        last_reviewed=datetime.date(2024, 9, 10),
        next_review_due=datetime.date(2025, 9, 10),
    )
    html = client.get(article.url).content.decode()

    assert (
        'Medically reviewed by <span class="reviewer">Test Reviewer, MD, dermatologist</span> on'
        in html
    )
    assert "10 September 2024" in html
    assert '<a href="#ref-1" aria-label="Reference 1">1</a>' in html
    assert 'id="ref-3"' in html
    assert "doi:10.1000/mech" in html
    assert "https://pubmed.ncbi.nlm.nih.gov/11111111/" in html
    assert "Demonstration data — not medical evidence" in html
    assert "/summaries/request/" in html
    assert "information, not medical advice" in html
    # The references link to each publication's public entry.
    assert f"/evidence/publications/{publications['mechanism'].pk}/" in html


def test_clinician_tips_and_archive_month(
    make_article: Callable[..., ArticlePage], publications: dict[str, Publication]
) -> None:
    article = make_article(
        body=complete_body(publications),
        date=datetime.date(2024, 9, 12),
        updated=datetime.date(2025, 1, 3),
    )
    tips = article.clinician_tips()
    assert [list(t["steps"]) for t in tips] == [["Take a biopsy first.", "Mark the area."]]
    assert tips[0]["clinician_name"] == "Dr Named Clinician"
    assert article.archive_month() == (2025, 1)


def test_plain_text_holds_prose_and_not_credits(
    make_article: Callable[..., ArticlePage], publications: dict[str, Publication]
) -> None:
    article = make_article(body=complete_body(publications))
    text = article.plain_text()
    assert "It wakes the immune cells in the skin." in text
    assert "Can I have surgery?" in text
    assert "<p>" not in text
    level = article.reading_level()
    assert level.words > 20
    assert 0 <= level.flesch_kincaid_grade < 12


def test_update_before_publication_is_refused(
    make_article: Callable[..., ArticlePage],
) -> None:
    article = make_article(body=[])
    article.updated = datetime.date(2024, 1, 1)
    with pytest.raises(ValidationError, match="update cannot come before"):
        article.full_clean()


def test_next_review_must_follow_last_review(topic_page: TopicPage) -> None:
    topic_page.last_reviewed = datetime.date(2024, 9, 1)
    topic_page.next_review_due = datetime.date(2024, 8, 1)
    with pytest.raises(ValidationError, match="next review must come after"):
        topic_page.full_clean()


def test_topic_page_lists_articles_and_live_evidence(
    client: Client, topic_page: TopicPage, make_article: Callable[..., Any], publications: Any
) -> None:
    make_article(title="Live one", body=complete_body(publications))
    make_article(title="Draft one", publish=False)
    page_evidence_pin_live(page=topic_page, reviewer_name="Test Reviewer")
    html = client.get(topic_page.url).content.decode()
    assert "Live one" in html
    assert "Draft one" not in html
    assert "2 of 3" in html  # any response, computed from the three cases
    assert "Evidence as of" in html


def test_home_page_links_topics_latest_articles_archive_and_summaries(
    client: Client, topic_page: TopicPage, archive: Any, make_article: Callable[..., Any]
) -> None:
    article = make_article(title="Newest")
    html = client.get("/").content.decode()
    assert f'href="{topic_page.url}"' in html
    assert f'href="{article.url}"' in html
    assert f'href="{archive.url}"' in html
    assert 'href="/summaries/request/"' in html
