"""What a reader and an editor see, in a real browser (few, meaningful checks)."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from evidencepress.evidence.models import Publication, ReportedPatient, Topic

from ..conftest import ensure_wagtail_tree
from .conftest import ARTIFACTS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def site_with_demo_case(transactional_db: None) -> Topic:
    from wagtail.models import Page, Site

    from evidencepress.articles.models import HomePage

    ensure_wagtail_tree()
    root = Page.get_first_root_node()
    home = root.add_child(instance=HomePage(title="EvidencePress", slug="evidencepress-home"))
    site = Site.objects.get(is_default_site=True)
    site.root_page = home
    site.save()
    topic = Topic.objects.create(
        name="Imiquimod for cutaneous angiosarcoma",
        slug="imiquimod-angiosarcoma",
        treatment="Imiquimod",
        condition="Cutaneous angiosarcoma",
    )
    demo = Publication.objects.create(
        title="Demonstration series (not real patients)", is_demo=True
    )
    ReportedPatient.objects.create(
        publication=demo, topic=topic, label="Illustrative case A", is_demo=True
    )
    return topic


def test_home_page_lists_topics_labels_demo_cases_and_says_to_ask_a_specialist(
    live_server: object, page: object, site_with_demo_case: Topic
) -> None:
    page.goto(live_server.url + "/")  # type: ignore[attr-defined]
    assert page.locator("h3", has_text="Imiquimod for cutaneous angiosarcoma").is_visible()  # type: ignore[attr-defined]
    body = page.inner_text("body")  # type: ignore[attr-defined]
    assert "1 reported case" in body
    assert "demonstration data" in body.lower()
    assert "specialist" in body.lower()
    assert page.evaluate("document.documentElement.lang")  # type: ignore[attr-defined]
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "home.png"), full_page=True)  # type: ignore[attr-defined]


def test_an_editor_logs_in_and_finds_the_evidence_menu(live_server: object, page: object) -> None:
    ensure_wagtail_tree()
    get_user_model().objects.create_superuser("editor", "editor@example.org", "a-long-passphrase-1")
    page.goto(live_server.url + "/admin/")  # type: ignore[attr-defined]
    page.fill("input[name=username]", "editor")  # type: ignore[attr-defined]
    page.fill("input[name=password]", "a-long-passphrase-1")  # type: ignore[attr-defined]
    page.click("button[type=submit]")  # type: ignore[attr-defined]
    page.wait_for_url("**/admin/")  # type: ignore[attr-defined]
    assert page.get_by_text("Evidence").first.is_visible()  # type: ignore[attr-defined]
