"""The "waiting for clinical review" note reads well on a desktop and a phone."""

from __future__ import annotations

import pytest

from evidencepress.evidence.models import Publication, ReportedPatient, Topic

from ..conftest import ensure_wagtail_tree
from .conftest import ARTIFACTS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def reviewed_topic_page(transactional_db: None) -> str:
    """A topic page reviewed at 5 of 10, then a case added: the URL path of the page."""
    from wagtail.models import Page, Site

    from evidencepress.articles.evidence_pins import page_evidence_pin_live
    from evidencepress.articles.models import HomePage, TopicPage

    ensure_wagtail_tree()
    home = Page.get_first_root_node().add_child(
        instance=HomePage(title="EvidencePress", slug="evidencepress-home")
    )
    site = Site.objects.get(is_default_site=True)
    site.root_page = home
    site.save()
    topic = Topic.objects.create(
        name="Cream X for condition Y", slug="x-y", treatment="Cream X", condition="Y"
    )
    series = Publication.objects.create(title="A series of ten", journal="J Cases", year=2022)
    series.topics.add(topic)
    for n, response in enumerate(["complete"] * 3 + ["partial"] * 2 + ["progression"] * 5):
        ReportedPatient.objects.create(
            publication=series, topic=topic, label=f"Case {n + 1:02d}", response=response
        )
    page = home.add_child(instance=TopicPage(title="Cream X for Y", slug="cream-x", topic=topic))
    page.save_revision().publish()
    page_evidence_pin_live(page=page, reviewer_name="Dr Jane Clinic")
    for label in ("Case 11", "Case 12"):
        ReportedPatient.objects.create(
            publication=series, topic=topic, label=label, response="complete"
        )
    return "/cream-x/"


@pytest.mark.parametrize(("name", "width"), [("desktop", 1280), ("phone", 375)])
def test_the_waiting_note_is_visible_and_fits(
    live_server: object, browser: object, reviewed_topic_page: str, name: str, width: int
) -> None:
    context = browser.new_context(viewport={"width": width, "height": 900})  # type: ignore[attr-defined]
    page = context.new_page()
    page.goto(live_server.url + reviewed_topic_page)  # type: ignore[attr-defined]
    note = page.locator(".evidence-waiting")
    assert note.is_visible()
    assert "2 new or corrected cases are waiting for clinical review." in note.inner_text()
    reviewed = page.locator(".evidence-date").inner_text()
    assert "reviewed by Dr Jane Clinic on" in reviewed
    assert page.locator("td", has_text="5 of 10").first.is_visible()
    # The note wraps inside the page: no sideways scrolling on a phone.
    box = note.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"evidence-note-{name}.png"), full_page=False)
    context.close()
