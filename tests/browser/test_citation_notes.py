"""The "What we read in it" note next to each inline citation, in real Chromium: by mouse and
keyboard, with axe, on a desktop and a phone, and without JavaScript."""

from __future__ import annotations

import re
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe

from ..conftest import ensure_wagtail_tree
from .conftest import ARTIFACTS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

BLOCKING = {"serious", "critical"}


@pytest.fixture
def side_effects_path(transactional_db: None) -> str:
    """The demo article whose headache figure is second-hand (issue #15 §1)."""
    from evidencepress.articles.models import ArticlePage
    from evidencepress.demo.loader import load_demo

    ensure_wagtail_tree()
    load_demo()
    return str(ArticlePage.objects.get(slug="imiquimod-side-effects-explained").url)


def _headache_button(page: Any) -> Any:
    """The note button of the citation of the second-hand headache figure."""
    paragraph = page.locator("p", has_text="6 in 100 had a headache")
    return paragraph.locator("button.cite-note-toggle").first


@pytest.mark.parametrize(("name", "width"), [("desktop", 1280), ("phone", 390)])
def test_a_citation_opens_what_we_read_by_mouse_and_passes_axe(
    live_server: Any, browser: Any, side_effects_path: str, name: str, width: int
) -> None:
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if "Security Policy" in m.text else None)
    page.goto(live_server.url + side_effects_path)

    buttons = page.locator("button.cite-note-toggle")
    assert buttons.count() >= 4
    assert buttons.first.is_visible()
    button = _headache_button(page)
    note = page.locator("#" + str(button.get_attribute("aria-controls")))
    assert button.get_attribute("aria-expanded") == "false" and not note.is_visible()

    button.click()
    assert button.get_attribute("aria-expanded") == "true"
    assert note.is_visible()
    text = note.inner_text()
    assert "What we read in reference" in text
    assert "second-hand: a figure the authors cite from another study" in text
    # The note fits the screen: nothing sticks out to the right.
    box = note.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width
    page.screenshot(path=str(ARTIFACTS / f"citation-note-{name}.png"), full_page=False)

    results = Axe().run(page)
    blocking = [v["id"] for v in results.response["violations"] if v.get("impact") in BLOCKING]
    assert blocking == []
    assert errors == []  # CSP: the script is a static file, nothing is refused

    button.click()
    assert button.get_attribute("aria-expanded") == "false" and not note.is_visible()
    context.close()


def test_a_citation_note_works_by_keyboard(
    live_server: Any, page: Any, side_effects_path: str
) -> None:
    page.goto(live_server.url + side_effects_path)
    button = _headache_button(page)
    note = page.locator("#" + str(button.get_attribute("aria-controls")))
    assert button.evaluate("b => b.tagName") == "BUTTON"
    assert button.get_attribute("aria-label") is None  # named by its own (hidden) text
    assert re.fullmatch(r"iWhat we read in reference \d+", button.text_content())

    button.focus()
    page.keyboard.press("Enter")
    assert button.get_attribute("aria-expanded") == "true" and note.is_visible()
    # Tab moves into the note (its link to the reference list), Escape closes it and returns.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "cite-note-ref"
    page.keyboard.press("Escape")
    assert not note.is_visible()
    assert page.evaluate("document.activeElement.className") == "cite-note-toggle"
    page.keyboard.press("Space")
    assert note.is_visible()


def test_without_javascript_a_citation_is_its_link_to_the_reference_list(
    live_server: Any, browser: Any, side_effects_path: str
) -> None:
    context = browser.new_context(
        java_script_enabled=False, viewport={"width": 1280, "height": 900}
    )
    page = context.new_page()
    page.goto(live_server.url + side_effects_path)
    assert page.locator("button.cite-note-toggle").count() >= 4
    assert not page.locator("button.cite-note-toggle").first.is_visible()
    assert not page.locator(".cite-note").first.is_visible()
    paragraph = page.locator("p", has_text="6 in 100 had a headache")
    link = paragraph.locator("sup.cite a").first
    target = str(link.get_attribute("href"))
    link.click()
    assert page.url.endswith(target)
    entry = page.locator(target)
    assert "What we read in it" in entry.inner_text()
    context.close()


@pytest.mark.parametrize(("name", "width"), [("desktop", 1280), ("phone", 390)])
def test_every_note_of_the_demo_article_opens_and_passes_axe(
    live_server: Any, browser: Any, transactional_db: None, name: str, width: int
) -> None:
    from evidencepress.articles.models import ArticlePage
    from evidencepress.demo.loader import load_demo

    ensure_wagtail_tree()
    load_demo()
    path = ArticlePage.objects.get(slug="imiquimod-cream-angiosarcoma").url
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    page.goto(live_server.url + path)
    buttons = page.locator("button.cite-note-toggle")
    assert buttons.count() >= 3
    for n in range(buttons.count()):
        buttons.nth(n).click()
        assert buttons.nth(n).get_attribute("aria-expanded") == "true"
    notes = page.locator(".cite-note")
    for n in range(notes.count()):
        assert notes.nth(n).is_visible()
        assert "[Title not seen]" not in notes.nth(n).inner_text()
    # Each note has its own id, and each button controls exactly one note.
    ids = [notes.nth(n).get_attribute("id") for n in range(notes.count())]
    assert len(set(ids)) == len(ids) == buttons.count()
    results = Axe().run(page)
    blocking = [v["id"] for v in results.response["violations"] if v.get("impact") in BLOCKING]
    assert blocking == []
    buttons.first.scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / f"citation-notes-article-{name}.png"))
    context.close()
