"""The request form in Chromium at desktop and phone widths: the topic chooser, "Who is this
summary for?", the topic's questions; axe finds nothing serious; screenshots for the docs."""

from __future__ import annotations

from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe

from evidencepress.evidence.models import Topic, Treatment
from evidencepress.summaries.models import SummaryRequest

from ..conftest import ensure_wagtail_tree
from ..summaries.definitions import DEMO_DATA
from .conftest import ARTIFACTS
from .test_accessibility import _blocking

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize(("width", "height", "name"), [(1280, 900, "desktop"), (390, 844, "phone")])
def test_a_caregiver_chooses_the_topic_and_says_who_the_summary_is_for(
    live_server: Any, browser: Any, width: int, height: int, name: str
) -> None:
    ensure_wagtail_tree()
    Topic.objects.create(
        name="Imiquimod for cutaneous angiosarcoma",
        slug="imiquimod-angiosarcoma",
        treatment="Imiquimod",
        condition="Cutaneous angiosarcoma",
        definition=DEMO_DATA,
    )
    Topic.objects.create(
        name="Imiquimod side effects", slug="imiquimod-safety", treatment="Imiquimod",
        condition="Side effects",
    )  # fmt: skip
    Treatment.objects.create(name="Radiotherapy", slug="radiotherapy", category="radiotherapy")
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    try:
        page.goto(live_server.url + "/summaries/request/")
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        assert _blocking(Axe().run(page)) == []
        # Choosing another topic shows its questions (a plain GET, no script needed).
        page.get_by_label("Which treatment and condition is your question about?").select_option(
            "imiquimod-safety"
        )
        page.get_by_role("button", name="Show the questions for this topic").click()
        assert page.get_by_role("heading", name="About the illness: Imiquimod side effects")
        page.get_by_label("Which treatment and condition is your question about?").select_option(
            "imiquimod-angiosarcoma"
        )
        page.get_by_role("button", name="Show the questions for this topic").click()
        page.get_by_role("group", name="Who is this summary for?").get_by_label(
            "Someone I care for"
        ).check()
        page.get_by_label("What would you most like to know?").fill(
            "My mother has this on her scalp. We do not know how big it is. Could the cream "
            "be used instead of more radiation?"
        )
        page.get_by_label("Your email address").fill("carer@example.com")
        page.get_by_role("button", name="Send my request").click()  # no consent: an error
        assert page.get_by_text("Tick this box to agree").first.is_visible()
        assert _blocking(Axe().run(page)) == []
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"request-form-{name}.png"), full_page=True)
        page.get_by_label("I agree").check()
        page.get_by_role("button", name="Send my request").click()
        page.wait_for_url("**/summaries/request/sent/")
        stored = SummaryRequest.objects.get()
        assert stored.topic.slug == "imiquimod-angiosarcoma"
        assert stored.situation["for_whom"] == "other"
        assert stored.situation["setting"] == "unsure"
    finally:
        context.close()
