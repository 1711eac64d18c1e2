"""The demo safety topic in a real browser, on a desktop (1280 px) and a phone (390 px):
its topic page, its article with the live evidence, the request form with its questions, and a
reader's draft as the Summary editor sees it. Screenshots go to tests/browser/artifacts/."""

from __future__ import annotations

import re
from typing import Any

import pytest

from evidencepress.demo.loader import load_demo

from ..conftest import ensure_wagtail_tree
from .conftest import ARTIFACTS, sign_in_to_admin

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SLUG = "imiquimod-safety"
WIDTHS = (1280, 390)
OTHER_TOPIC = re.compile(r"angiosarcoma|stewart|lymph(o)?edema|paclitaxel|timolol", re.I)


@pytest.fixture
def demo_site(transactional_db: None) -> None:
    ensure_wagtail_tree()
    load_demo()


def _shoot(browser: Any, url: str, name: str) -> list[str]:
    """Open url at each width, screenshot it, and return the text of <main> at each width."""
    texts = []
    ARTIFACTS.mkdir(exist_ok=True)
    for width in WIDTHS:
        context = browser.new_context(viewport={"width": width, "height": 900})
        page = context.new_page()
        try:
            response = page.goto(url)
            assert response is not None and response.status == 200, url
            # Nothing sticks out sideways, on a phone or a desktop.
            assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), (
                url,
                width,
            )
            page.screenshot(path=str(ARTIFACTS / f"{name}-{width}.png"), full_page=True)
            texts.append(page.inner_text("main"))
        finally:
            context.close()
    return texts


def test_topic_page_and_article_show_the_safety_topics_live_evidence(
    live_server: Any, browser: Any, demo_site: None
) -> None:
    from evidencepress.articles.models import ArticlePage, TopicPage

    topic_page = TopicPage.objects.get(topic__slug=SLUG)
    for text in _shoot(browser, live_server.url + topic_page.url, "safety-topic-page"):
        assert not OTHER_TOPIC.search(text)
        assert "9 reported patients" in text
        assert "Demonstration data — not medical evidence" in text
    article = ArticlePage.objects.get(slug="imiquimod-side-effects-explained")
    for text in _shoot(browser, live_server.url + article.url, "safety-article"):
        assert not OTHER_TOPIC.search(text)
        assert "Every case we counted" in text and "Wife" in text and "Husband" in text


def test_request_form_asks_the_safety_topics_questions(
    live_server: Any, browser: Any, demo_site: None
) -> None:
    url = f"{live_server.url}/summaries/request/?topic={SLUG}"
    for text in _shoot(browser, url, "safety-request-form"):
        assert "What was the cream prescribed for?" in text
        assert "How far does the reaction reach?" in text
        assert "Who is this summary for?" in text
        # The topic chooser lists every topic; the questions are this topic's only.
        assert "Where did the angiosarcoma start?" not in text


def test_a_readers_draft_as_the_editor_sees_it(
    live_server: Any, browser: Any, demo_site: None
) -> None:
    from evidencepress.evidence.models import Topic
    from evidencepress.summaries.services import summary_request_draft, summary_request_submit

    from ..summaries.conftest import make_user

    editor = make_user("safety-editor", group=True)
    submitted = summary_request_submit(
        topic=Topic.objects.get(slug=SLUG),
        email="reader@example.com",
        situation={
            "setting": "basal_cell_carcinoma",
            "site": "shoulder",
            "lesion_depth": "beyond_site",
            "question": "A red rash has spread from my shoulder to my chest. Is this normal?",
            "for_whom": "self",
        },
        detail="detailed",
        consent_version="test",
    )
    summary_request_draft(summary_request=submitted, user=editor)
    # Sign in once (a second factor code is good for one use), then look at both widths.
    context = browser.new_context(viewport={"width": WIDTHS[0], "height": 900})
    try:
        sign_in_to_admin(
            context.new_page(), live_server.url, "safety-editor", "a-long-passphrase-1"
        )
        signed_in = context.storage_state()
    finally:
        context.close()
    for width in WIDTHS:
        context = browser.new_context(
            viewport={"width": width, "height": 900}, storage_state=signed_in
        )
        page = context.new_page()
        try:
            page.goto(f"{live_server.url}/admin/summaries/{submitted.public_id}/")
            text = page.inner_text("main")
            assert "A red rash has spread" in text
            assert not OTHER_TOPIC.search(text)
            # The admin scrolls inside its own panel: make the window as tall as its content.
            tall = page.evaluate("document.querySelector('main').scrollHeight")
            page.set_viewport_size({"width": width, "height": min(int(tall) + 200, 16000)})
            page.screenshot(path=str(ARTIFACTS / f"safety-draft-{width}.png"), full_page=True)
        finally:
            context.close()


def test_the_editor_sees_the_readers_answers_in_the_topics_words(
    client: Any, demo_site: None
) -> None:
    """The reader's answers beside the draft are labelled with this topic's questions, and an
    answer that is a value of this topic is shown, never as "Not given"."""
    from evidencepress.evidence.models import Topic
    from evidencepress.summaries.services import summary_request_submit

    from ..summaries.conftest import make_user

    editor = make_user("answers-editor", group=True)
    submitted = summary_request_submit(
        topic=Topic.objects.get(slug=SLUG),
        email="reader@example.com",
        situation={"setting": "genital_warts", "site": "", "lesion_depth": "systemic"},
        detail="short",
        consent_version="test",
    )
    client.force_login(editor)
    html = client.get(f"/admin/summaries/{submitted.public_id}/").content.decode()
    assert "What was the cream prescribed for?" in html and "Genital warts" in html
    assert "How far does the reaction reach?" in html
    assert "I feel unwell all over, for example fever, aches or weakness" in html
    assert "Where it started" not in html and "Largest lesion" not in html
