"""A small public site: home → topic → articles (live, draft, private) and the archive."""

from __future__ import annotations

import datetime
import json
from dataclasses import dataclass

import pytest
from wagtail.models import Page, PageViewRestriction, Site

from evidencepress.articles.evidence_pins import page_evidence_pin_live
from evidencepress.articles.models import (
    ArchiveIndexPage,
    ArticlePage,
    ClinicalReviewer,
    HomePage,
    TopicPage,
)
from evidencepress.evidence.models import Publication, ReportedPatient, Topic
from tests.summaries.definitions import DEMO_DATA

from ..conftest import ensure_wagtail_tree


@dataclass
class SmallSite:
    site: Site
    home: HomePage
    topic: Topic
    topic_page: TopicPage
    article: ArticlePage
    older: ArticlePage
    draft: ArticlePage
    private: ArticlePage
    archive: ArchiveIndexPage
    reviewer: ClinicalReviewer
    publication: Publication


def _publish(page: Page) -> Page:
    page.save_revision().publish()
    page.refresh_from_db()
    # As if Clinical review had approved it: the page shows the evidence as it is now.
    page_evidence_pin_live(page=page, reviewer_name="Dr Ada Lovelace")
    return page


def build_small_site() -> SmallSite:
    ensure_wagtail_tree()
    root = Page.get_first_root_node()
    home = root.add_child(instance=HomePage(title="EvidencePress", slug="ep-home"))
    site = Site.objects.get(is_default_site=True)
    site.root_page = home
    site.save()
    topic = Topic.objects.create(
        name="Imiquimod for cutaneous angiosarcoma",
        slug="imiquimod-angiosarcoma",
        treatment="Imiquimod",
        condition="Cutaneous angiosarcoma",
        definition=DEMO_DATA,
    )
    publication = Publication.objects.create(
        title="Topical imiquimod in a scalp lesion",
        pmid="12345678",
        doi="10.1000/example.1",
        journal="J Example Dermatol",
        year=2020,
        authors=[{"last_name": "Doe", "fore_name": "Jane", "initials": "J"}],
    )
    publication.topics.add(topic)
    demo = Publication.objects.create(title="Demonstration series (not real)", is_demo=True)
    ReportedPatient.objects.create(publication=demo, topic=topic, label="Case A", is_demo=True)
    reviewer = ClinicalReviewer.objects.create(
        name="Dr Ada Lovelace", credentials="MD, dermatologist"
    )
    topic_page = home.add_child(
        instance=TopicPage(
            title="Imiquimod for cutaneous angiosarcoma",
            slug="imiquimod-angiosarcoma",
            topic=topic,
            introduction="<p>What we know about a cream used on the skin.</p>",
            reviewed_by=reviewer,
            last_reviewed=datetime.date(2024, 9, 1),
            next_review_due=datetime.date(2099, 9, 1),
        )
    )
    _publish(topic_page)

    def article(slug: str, title: str, day: datetime.date, **extra: object) -> ArticlePage:
        page = topic_page.add_child(
            instance=ArticlePage(
                title=title,
                slug=slug,
                topic=topic,
                summary=f"A plain summary of {title.lower()}.",
                date=day,
                reviewed_by=reviewer,
                last_reviewed=day,
                next_review_due=datetime.date(2099, 1, 1),
                **extra,
            )
        )
        return page

    body = json.dumps(
        [
            {
                "type": "rich_text",
                "value": {
                    "text": "<p>The cream is spread thinly over a flat angiosarcoma patch.</p>",
                    "citations": [publication.pk],
                },
            }
        ]
    )
    main = _publish(
        article(
            "imiquimod-explained",
            "Imiquimod cream explained",
            datetime.date(2024, 9, 12),
            body=body,
        )
    )
    older = _publish(
        article("side-effects", "Side effects of imiquimod", datetime.date(2024, 8, 20))
    )
    draft = article(
        "unpublished-draft", "Zanzibar draft about imiquimod", datetime.date(2024, 9, 1), live=False
    )
    draft.save_revision()
    private = _publish(
        article("private-notes", "Zanzibar private notes on imiquimod", datetime.date(2024, 9, 2))
    )
    PageViewRestriction.objects.create(page=private, restriction_type=PageViewRestriction.LOGIN)
    archive = home.add_child(instance=ArchiveIndexPage(title="Archive", slug="archive"))
    _publish(archive)
    return SmallSite(
        site=site,
        home=_publish(home),
        topic=topic,
        topic_page=topic_page,
        article=main,
        older=older,
        draft=ArticlePage.objects.get(pk=draft.pk),
        private=private,
        archive=archive,
        reviewer=reviewer,
        publication=publication,
    )


@pytest.fixture
def small_site(db: None) -> SmallSite:
    return build_small_site()
