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
    from evidencepress.articles.evidence_pins import page_evidence_pin_live
    from evidencepress.articles.models import TopicPage

    # The topic page, published and clinically reviewed: the home page shows reviewed counts.
    topic_page = home.add_child(instance=TopicPage(title=topic.name, slug=topic.slug, topic=topic))
    topic_page.save_revision().publish()
    page_evidence_pin_live(page=topic_page, reviewer_name="Dr Demo Reviewer")
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


def test_an_editor_logs_in_and_finds_the_evidence_menu(
    live_server: object, page: object, site_with_demo_case: Topic
) -> None:
    """Sign in (password, then the second factor), open Evidence > Publications, add a
    publication with a patient and that patient's adverse event on one screen (nested inline
    panels, which only a browser exercises), then read the topic's evidence summary."""
    from django_otp.oath import TOTP
    from django_otp.plugins.otp_totp.models import TOTPDevice

    topic = site_with_demo_case
    editor = get_user_model().objects.create_superuser(
        "editor", "editor@example.org", "a-long-passphrase-1"
    )
    device = TOTPDevice.objects.create(user=editor, name="Test authenticator", confirmed=True)
    page.goto(live_server.url + "/admin/")  # type: ignore[attr-defined]
    page.fill("input[name=username]", "editor")  # type: ignore[attr-defined]
    page.fill("input[name=password]", "a-long-passphrase-1")  # type: ignore[attr-defined]
    page.click("button[type=submit]")  # type: ignore[attr-defined]
    page.wait_for_url(lambda url: "/admin/login/" not in url)  # type: ignore[attr-defined]
    if "/otp/" in page.url:  # type: ignore[attr-defined]
        code = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift).token()
        page.fill("input[name=token]", f"{code:0{device.digits}d}")  # type: ignore[attr-defined]
        page.click("button[type=submit]")  # type: ignore[attr-defined]
        page.wait_for_load_state()  # type: ignore[attr-defined]
        # The second-factor step may return somewhere other than the dashboard (reported to
        # the security work); the dashboard is where this test starts.
        page.goto(live_server.url + "/admin/")  # type: ignore[attr-defined]
    page.wait_for_url("**/admin/")  # type: ignore[attr-defined]

    sidebar = page.locator("#wagtail-sidebar")  # type: ignore[attr-defined]
    sidebar.get_by_role("button", name="Evidence").click()
    sidebar.get_by_role("link", name="Publications").click()
    page.wait_for_url("**/admin/publication/")  # type: ignore[attr-defined]
    demo_row = page.locator("tr", has_text="Demonstration series")  # type: ignore[attr-defined]
    assert demo_row.get_by_text("Demonstration data — not medical evidence").is_visible()

    page.get_by_role("link", name="Add publication").click()  # type: ignore[attr-defined]
    page.fill("#id_title", "Imiquimod for a scalp angiosarcoma: a case report")  # type: ignore[attr-defined]
    page.get_by_role("tab", name="Reported patients").click()  # type: ignore[attr-defined]
    page.get_by_role("button", name="Add reported patient").click()  # type: ignore[attr-defined]
    page.fill("#id_patients-0-label", "Case 1")  # type: ignore[attr-defined]
    page.select_option("#id_patients-0-topic", str(topic.pk))  # type: ignore[attr-defined]
    page.select_option("#id_patients-0-response", "partial")  # type: ignore[attr-defined]
    page.get_by_role("button", name="Add adverse event").click()  # type: ignore[attr-defined]
    page.fill("#id_patients-0-adverse_events-0-kind", "local skin reaction")  # type: ignore[attr-defined]
    page.get_by_role("button", name="Create").click()  # type: ignore[attr-defined]
    page.wait_for_url("**/admin/publication/")  # type: ignore[attr-defined]

    added = Publication.objects.get(title__startswith="Imiquimod for a scalp")
    patient = added.patients.get()
    assert (patient.label, patient.response, patient.topic) == ("Case 1", "partial", topic)
    assert [e.kind for e in patient.adverse_events.all()] == ["local skin reaction"]

    page.goto(live_server.url + f"/admin/topic/summary/{topic.pk}/")  # type: ignore[attr-defined]
    assert page.locator("[data-summary=patients]").inner_text() == "2"  # type: ignore[attr-defined]
    assert page.get_by_text("Demonstration data — not medical evidence.").first.is_visible()  # type: ignore[attr-defined]
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "admin-evidence-summary.png"), full_page=True)  # type: ignore[attr-defined]
