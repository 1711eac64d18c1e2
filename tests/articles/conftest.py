"""Small page trees for the publishing tests: a home page, a topic with cases, articles."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

import pytest
from wagtail.models import Page

from evidencepress.articles.evidence_pins import page_evidence_pin
from evidencepress.articles.models import (
    ArchiveIndexPage,
    ArticlePage,
    ClinicalReviewer,
    HomePage,
    TopicPage,
)
from evidencepress.demo.loader import ensure_home_page
from evidencepress.evidence.models import (
    AdverseEvent,
    Passage,
    Publication,
    ReportedPatient,
    Topic,
)


def author(last: str, initials: str) -> dict[str, str]:
    return {"last_name": last, "fore_name": "", "initials": initials, "collective_name": ""}


@pytest.fixture
def home(wagtail_tree: Page) -> HomePage:
    ensure_home_page()
    return HomePage.objects.get()


@pytest.fixture
def topic(db: None) -> Topic:
    return Topic.objects.create(
        name="Cream X for condition Y", slug="x-y", treatment="Cream X", condition="Y"
    )


@pytest.fixture
def publications(topic: Topic) -> dict[str, Publication]:
    """Two real references and a demonstration series with three invented cases."""
    mechanism = Publication.objects.create(
        title="How cream X works",
        journal="J Test Med",
        year=2020,
        volume="12",
        issue="3",
        pages="101-9",
        pmid="11111111",
        doi="10.1000/mech",
        authors=[author("Alpha", "A"), author("Beta", "BB")],
    )
    safety = Publication.objects.create(
        title="Side effects of cream X",
        journal="Safety J",
        year=2021,
        authors=[author("Gamma", "G")],
    )
    demo = Publication.objects.create(
        title="Demonstration series (test)", journal="Demo", is_demo=True
    )
    for label, response, ttr in (
        ("A", "complete", 8),
        ("B", "partial", 12),
        ("C", "progression", None),
    ):
        case = ReportedPatient.objects.create(
            publication=demo,
            topic=topic,
            label=f"Illustrative case {label}",
            is_demo=True,
            response=response,
            time_to_response_weeks=ttr,
            follow_up_months=10,
        )
        AdverseEvent.objects.create(patient=case, kind="redness", severity="mild")
    # What editors read in each (the claim audit wants a cited publication to hold passages).
    Passage.objects.create(
        publication=mechanism, key="mechanism", text="It wakes immune cells.", location="abstract"
    )
    Passage.objects.create(
        publication=safety, key="local", text="Sore skin is common.", location="abstract"
    )
    return {"mechanism": mechanism, "safety": safety, "demo": demo}


@pytest.fixture
def reviewer(db: None) -> ClinicalReviewer:
    return ClinicalReviewer.objects.create(name="Test Reviewer", credentials="MD, dermatologist")


@pytest.fixture
def topic_page(home: HomePage, topic: Topic) -> TopicPage:
    page = TopicPage(title="Cream X for Y", slug="cream-x", topic=topic)
    home.add_child(instance=page)
    page.save_revision().publish()
    return page


@pytest.fixture
def archive(home: HomePage) -> ArchiveIndexPage:
    page = ArchiveIndexPage(title="Archive", slug="archive")
    home.add_child(instance=page)
    page.save_revision().publish()
    return page


def complete_body(
    pubs: dict[str, Publication], reviewer: ClinicalReviewer | None = None
) -> list[dict[str, Any]]:
    """A body with every required section, citing the mechanism then the safety paper."""
    mech, safety = pubs["mechanism"].pk, pubs["safety"].pk
    return [
        {
            "type": "mechanism",
            "value": {
                "heading": "How it works",
                "text": "<p>It wakes the immune cells in the skin.</p>",
                "citations": [mech],
            },
        },
        {
            "type": "who_might_benefit",
            "value": {
                "heading": "Who might benefit",
                "intro": "",
                "scenarios": [{"title": "A small patch", "description": "When surgery is risky."}],
                "citations": [],
            },
        },
        {"type": "evidence_summary", "value": {"heading": "What the reports show", "intro": ""}},
        {
            "type": "clinician_steps",
            "value": {
                "heading": "Steps",
                "clinician": reviewer.pk if reviewer else None,
                "clinician_name": "" if reviewer else "Dr Named Clinician",
                "steps": ["Take a biopsy first.", "Mark the area."],
                "citations": [safety],
            },
        },
        {
            "type": "pros_cons",
            "value": {
                "heading": "Pros and cons",
                "pros": ["No operation."],
                "cons": ["Sore skin."],
                "citations": [safety, mech],
            },
        },
        {
            "type": "limits",
            "value": {"heading": "Limits", "text": "<p>Only case reports.</p>", "citations": []},
        },
        {
            "type": "takeaways",
            "value": {"heading": "Key takeaways", "items": ["It is not proven."], "citations": []},
        },
        {
            "type": "doctor_questions",
            "value": {"heading": "Questions", "questions": ["Can I have surgery?"]},
        },
    ]


@pytest.fixture
def make_article(topic_page: TopicPage) -> Callable[..., ArticlePage]:
    def make(
        *,
        title: str = "An article",
        slug: str | None = None,
        body: list[dict[str, Any]] | None = None,
        date: datetime.date = datetime.date(2024, 9, 12),
        updated: datetime.date | None = None,
        publish: bool = True,
        pin: bool = True,
        **fields: Any,
    ) -> ArticlePage:
        page = ArticlePage(
            title=title,
            slug=slug or title.lower().replace(" ", "-"),
            topic=topic_page.topic,
            summary=f"Summary of {title}.",
            date=date,
            updated=updated,
            body=body or [],
            live=publish,
            **fields,
        )
        topic_page.add_child(instance=page)
        revision = page.save_revision()
        if publish:
            revision.publish()
            if pin:  # as if Clinical review had approved it with the evidence as it is now
                page_evidence_pin(revision=revision, reviewer_name="Test Reviewer")
        return ArticlePage.objects.get(pk=page.pk)

    return make
