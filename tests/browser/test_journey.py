"""A reader's journey: home → archive → September 2024 → the imiquimod article → one of its
sources → the tailored summary request page. A screenshot of each step goes to artifacts/."""

from __future__ import annotations

from typing import Any

import pytest

from ..conftest import ensure_wagtail_tree
from .conftest import ARTIFACTS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def demo(transactional_db: None) -> None:
    from evidencepress.demo.loader import load_demo

    ensure_wagtail_tree()
    load_demo()


def _shot(page: Any, step: int, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"journey-{step}-{name}.png"), full_page=True)


def test_reader_goes_from_the_archive_to_a_source_and_the_summary_request(
    live_server: Any, page: Any, demo: None
) -> None:
    page.goto(live_server.url + "/")
    assert "specialist" in page.inner_text("footer").lower()
    _shot(page, 1, "home")

    page.get_by_role("link", name="Browse every article by month in the archive").click()
    page.wait_for_url("**/archive/")
    _shot(page, 2, "archive")

    page.get_by_role("link", name="September 2024").click()
    page.wait_for_url("**/archive/2024/09/")
    assert page.get_by_role("heading", level=1).inner_text().startswith("September 2024")
    _shot(page, 3, "september-2024")

    with page.expect_navigation():
        page.locator("main h2 a", has_text="Imiquimod").first.click()
    assert "imiquimod" in page.url
    article_url = page.url
    assert page.get_by_role("heading", name="References").is_visible()
    body = page.inner_text("main").lower()
    assert "demonstration data — not medical evidence" in body
    _shot(page, 4, "article")

    reference = page.locator("ol.references li").first
    reference_text = reference.inner_text()
    reference.get_by_role("link", name="What we read in it").click()
    page.wait_for_url("**/evidence/publications/*/")
    title = page.get_by_role("heading", level=1).inner_text()
    assert title and title.split(":")[0][:30] in reference_text
    _shot(page, 5, "publication")

    page.goto(article_url)
    cta = page.get_by_role("link", name="Request a tailored summary")
    assert cta.get_attribute("href") == "/summaries/request/"
    cta.click()
    page.wait_for_url("**/summaries/request/")
    assert "summary" in page.get_by_role("heading", level=1).inner_text().lower()
    _shot(page, 6, "summary-request")
