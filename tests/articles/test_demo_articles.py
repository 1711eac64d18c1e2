"""The demo publication: topic, the imiquimod article, three archive months, labels, removal."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client
from wagtail.images import get_image_model

from evidencepress.articles.blocks import REQUIRED_SECTIONS
from evidencepress.articles.models import (
    ArchiveIndexPage,
    ArticlePage,
    ClinicalReviewer,
    TopicPage,
)
from evidencepress.demo.articles import IMAGE_TITLE, read_articles_data
from evidencepress.demo.loader import load_demo, remove_demo
from evidencepress.evidence.topic_reports import topic_report

DEMO_LABEL = "Demonstration data — not medical evidence"
MAIN_SLUG = "imiquimod-cream-angiosarcoma"
# Words that would state a dose or schedule, which the demo must never invent.
DOSE = re.compile(r"\b(mg|times a (day|week)|per (day|week)|daily|twice|nightly)\b|%", re.I)


@pytest.fixture
def demo(wagtail_tree: Any) -> dict[str, int]:
    return load_demo()


def test_demo_site_has_the_topic_article_and_a_real_archive(
    demo: dict[str, int], client: Client
) -> None:
    topic_page = TopicPage.objects.get(title="Imiquimod for cutaneous angiosarcoma")
    article = ArticlePage.objects.get(slug=MAIN_SLUG)
    assert article.live and article.get_parent().pk == topic_page.pk

    # Everything the seed covers, each in its own block, with references.
    kinds = {block.block_type for block in article.body}
    assert (
        set(REQUIRED_SECTIONS)
        | {
            "practical_tips",
            "clinician_steps",
            "research_questions",
            "evidence_summary",
            "case_table",
            "swimmer_plot",
            "case_image",
            "quick_pointers",
            "safety",
        }
        <= kinds
    )
    assert article.missing_required_sections() == []
    assert len(article.references()) >= 10

    archive = ArchiveIndexPage.objects.get()
    months = archive.month_list()
    assert len(months) >= 3
    html = client.get("/archive/2024/09/").content.decode()
    assert "<h1>September 2024 — What We Published</h1>" in html
    assert article.title in html
    for month in months:
        assert client.get(f"{archive.url}{month:%Y/%m}/").status_code == 200

    # The demo reviewer and image say plainly what they are.
    assert str(article.reviewed_by) == "Demo Reviewer, MD (fictional)"
    image_block = next(b for b in article.body if b.block_type == "case_image")
    assert image_block.value["credit"] == "Diagram: EvidencePress (own work)"
    assert image_block.value["image"].title == IMAGE_TITLE


def test_demo_article_reads_at_grade_nine_or_lower_and_invents_no_dose(
    demo: dict[str, int],
) -> None:
    for article in ArticlePage.objects.all():
        level = article.reading_level()
        assert level.flesch_kincaid_grade <= 9, (article.slug, level)
        assert level.smog <= 9, (article.slug, level)
    main = ArticlePage.objects.get(slug=MAIN_SLUG)
    assert not DOSE.search(main.plain_text())
    # Citations name real records: none of the main article's real references is a demo one,
    # and the only demo reference is the demonstration series that holds the invented cases.
    demo_refs = [ref for ref in main.references() if ref.is_demo]
    assert [ref.title for ref in demo_refs] == ["Demonstration series (not real patients)."]
    assert all(not ref.pubmed_url for ref in demo_refs)


def test_demo_labels_show_wherever_demo_cases_appear(demo: dict[str, int], client: Client) -> None:
    article = ArticlePage.objects.get(slug=MAIN_SLUG)
    report = topic_report(article.topic)
    assert report.synthesis.demo_patients > 0
    for url in (article.url, article.get_parent().url, "/archive/2024/09/", "/"):
        html = client.get(url).content.decode()
        assert DEMO_LABEL in html, url
    html = client.get(article.url).content.decode()
    # Every row of the case table is marked, and the evidence summary says how many are invented.
    assert html.count('<tr class="is-demo">') == report.synthesis.demo_patients
    s = report.synthesis
    assert f"{s.demo_patients} of the {s.patients} cases below are invented" in html


def test_remove_demo_deletes_the_demo_pages_image_and_reviewer(demo: dict[str, int]) -> None:
    counts = remove_demo()

    data = read_articles_data()
    assert counts["articles"] == len(data["articles"])
    assert counts["topic_pages"] == len(data["topic_pages"])
    assert not ArticlePage.objects.exists()
    assert not TopicPage.objects.exists()
    assert not ClinicalReviewer.objects.exists()
    assert not get_image_model().objects.filter(title=IMAGE_TITLE).exists()

    load_demo()
    assert ArticlePage.objects.filter(slug=MAIN_SLUG, live=True).exists()
