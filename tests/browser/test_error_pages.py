"""The reader's error pages in Chromium, at desktop and phone width, and a failed CSRF check on
the request form that keeps what the reader typed (issue #14)."""

from __future__ import annotations

from typing import Any

import pytest

from evidencepress.evidence.models import Topic, Treatment
from evidencepress.summaries.models import SummaryRequest

from ..conftest import ensure_wagtail_tree
from ..summaries.definitions import DEMO_DATA
from .conftest import ARTIFACTS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

QUESTION = "Can I use the cream with my <b>heart</b> tablets? “Quotes” & ampersands"
SIZES = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}


def _topic() -> None:
    ensure_wagtail_tree()
    Topic.objects.create(
        name="Imiquimod for cutaneous angiosarcoma",
        slug="imiquimod-angiosarcoma",
        treatment="Imiquimod",
        condition="Cutaneous angiosarcoma",
        definition=DEMO_DATA,
    )
    Treatment.objects.create(name="Radiotherapy", slug="radiotherapy", category="radiotherapy")


def test_after_the_csrf_cookie_is_lost_the_reader_keeps_what_they_typed(
    live_server: Any, browser: Any
) -> None:
    _topic()
    context = browser.new_context(viewport=SIZES["phone"], is_mobile=True)
    page = context.new_page()
    try:
        page.goto(live_server.url + "/summaries/request/")
        page.get_by_label("Where on the body is it now?").fill("left temple")
        page.get_by_role("group", name="Treatments you have had before").get_by_label(
            "Radiotherapy"
        ).check()
        page.get_by_label("What would you most like to know?").fill(QUESTION)
        page.get_by_label("Your email address").fill("reader+form@example.com")
        page.get_by_label("I agree").check()
        # As after a long pause: the security cookie has expired or been cleared.
        names = [cookie["name"] for cookie in context.cookies()]
        assert "csrftoken" in names
        context.clear_cookies(name="csrftoken")
        page.get_by_role("button", name="Send my request").click()

        assert page.get_by_role("heading", name="Your request has not been sent yet").is_visible()
        assert page.get_by_label("What would you most like to know?").input_value() == QUESTION
        assert page.get_by_label("Where on the body is it now?").input_value() == "left temple"
        assert page.get_by_label("Your email address").input_value() == "reader+form@example.com"
        assert (
            page.get_by_role("group", name="Treatments you have had before")
            .get_by_label("Radiotherapy")
            .is_checked()
        )
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        assert SummaryRequest.objects.count() == 0
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "csrf-retry-phone.png"), full_page=True)

        # A fresh token came with the page: pressing the button again sends it.
        page.get_by_role("button", name="Send my request").click()
        page.wait_for_url("**/summaries/request/sent/")
        assert SummaryRequest.objects.get().situation["question"] == QUESTION
    finally:
        context.close()


@pytest.mark.parametrize("size", sorted(SIZES))
def test_the_error_pages_are_the_sites_own_at_each_width(
    live_server: Any, browser: Any, size: str
) -> None:
    ensure_wagtail_tree()
    context = browser.new_context(viewport=SIZES[size], is_mobile=size == "phone")
    page = context.new_page()
    try:
        response = page.goto(live_server.url + "/no-such-page-here/")
        assert response is not None and response.status == 404
        assert page.get_by_role("heading", name="We cannot find that page").is_visible()
        assert page.get_by_role("link", name="Search the site").first.is_visible()
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"error-404-{size}.png"), full_page=True)

        # A post from a page without our cookie (the general CSRF page).
        page.goto(live_server.url + "/search/")
        with page.expect_navigation():
            page.evaluate(
                """() => {
                    const form = document.createElement('form');
                    form.method = 'post';
                    form.action = '/search/';
                    document.body.appendChild(form);
                    form.submit();
                }"""
            )
        assert page.get_by_role("heading", name="Your form was not sent").is_visible()
        assert "CSRF" not in page.content()
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        page.screenshot(path=str(ARTIFACTS / f"error-403-csrf-{size}.png"), full_page=True)

        # Pages a live server cannot easily be made to answer with (a crash, an oversized
        # post, a file sent to the request form): their templates, rendered as Django does.
        from django.template.loader import render_to_string

        for template, heading in (
            ("500.html", "Sorry, something went wrong on our side"),
            ("400.html", "We could not read what your browser sent"),
            ("core/files_refused.html", "This form takes typed answers only"),
        ):
            page.set_content(render_to_string(template))  # keeps the page's address: /static/
            page.wait_for_load_state()
            assert page.get_by_role("heading", name=heading).is_visible()
            assert page.evaluate("getComputedStyle(document.body).margin") == "0px"  # site.css
            assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
            name = template.replace("core/", "").replace(".html", "")
            page.screenshot(path=str(ARTIFACTS / f"error-{name}-{size}.png"), full_page=True)
    finally:
        context.close()
