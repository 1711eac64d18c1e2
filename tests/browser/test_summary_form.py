"""A reader fills in the summary request form on a phone-sized screen and sees the confirmation;
nothing on these pages, which carry personal health data, talks to another site (plan F3)."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

import pytest

from evidencepress.evidence.models import Topic, Treatment
from evidencepress.summaries.models import SummaryRequest

from ..conftest import ensure_wagtail_tree
from ..summaries.definitions import DEMO_DATA
from .conftest import ARTIFACTS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_reader_sends_a_request_from_a_phone(live_server: Any, browser: Any) -> None:
    ensure_wagtail_tree()
    Topic.objects.create(
        name="Imiquimod for cutaneous angiosarcoma",
        slug="imiquimod-angiosarcoma",
        treatment="Imiquimod",
        condition="Cutaneous angiosarcoma",
        definition=DEMO_DATA,
    )
    Treatment.objects.create(name="Radiotherapy", slug="radiotherapy", category="radiotherapy")
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = context.new_page()
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    try:
        response = page.goto(live_server.url + "/summaries/request/")
        assert response is not None
        policy = response.headers.get("content-security-policy", "")
        assert "default-src 'self'" in policy and not re.findall(r"https?://", policy), policy
        # Nothing sticks out sideways on a phone.
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        page.get_by_label("On the scalp or face").check()
        page.get_by_label("Where on the body is it now?").fill("scalp")
        page.get_by_label("How big is the largest patch or lump, in millimetres?").fill("15")
        page.get_by_label("A flat or slightly raised patch on the skin").check()
        page.get_by_role(
            "group", name="Have your doctors said that surgery is possible?"
        ).get_by_label("No", exact=True).check()
        page.get_by_role("group", name="Treatments you have had before").get_by_label(
            "Radiotherapy"
        ).check()
        page.get_by_label("What would you most like to know?").fill("Could the cream help me?")
        page.get_by_label("Your email address").fill("reader@example.com")
        # Forgetting the consent box gives a plain error beside it, and nothing is stored.
        page.get_by_role("button", name="Send my request").click()
        assert page.get_by_text(
            "Tick this box to agree, or we cannot write your summary."
        ).first.is_visible()
        assert SummaryRequest.objects.count() == 0
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "summary-form-phone.png"), full_page=True)
        page.get_by_label("I agree").check()
        page.get_by_role("button", name="Send my request").click()
        page.wait_for_url("**/summaries/request/sent/")
        assert page.get_by_role("heading", name="Thank you: we have your request").is_visible()
        assert "What happens next" in page.inner_text("main")
        stored = SummaryRequest.objects.get()
        assert stored.email == "reader@example.com"
        assert stored.situation["site"] == "scalp"
        assert stored.situation["prior_treatments"] == ["radiotherapy"]
        # F3: the form, its error page and the confirmation loaded nothing from another origin.
        ours = urlsplit(live_server.url).netloc
        assert len(requested) >= 3
        foreign = [url for url in requested if urlsplit(url).netloc not in ("", ours)]
        assert foreign == [], foreign
    finally:
        context.close()
