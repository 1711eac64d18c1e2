"""axe-core in real headless Chromium on the public pages, and a keyboard-only walk."""

from __future__ import annotations

from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe

from ..conftest import ensure_wagtail_tree
from .conftest import ARTIFACTS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

BLOCKING = {"serious", "critical"}


@pytest.fixture
def demo_paths(transactional_db: None) -> dict[str, str]:
    from evidencepress.articles.models import ArticlePage, TopicPage
    from evidencepress.demo.loader import load_demo

    ensure_wagtail_tree()
    load_demo()
    article = ArticlePage.objects.live().public().filter(slug__contains="imiquimod").first()
    topic = TopicPage.objects.live().public().first()
    assert article is not None and topic is not None, "the demo has no topic page or article"
    return {
        "home": "/",
        "topic": topic.url,
        "article": article.url,
        "archive month": "/archive/2024/9/",
        "search": "/search/?q=imiquimod",
    }


def _blocking(results: Any) -> list[str]:
    return [
        f"{v['id']} ({v['impact']}): {v['help']} — "
        + "; ".join(node["target"][0] for node in v["nodes"][:3])
        for v in results.response["violations"]
        if v.get("impact") in BLOCKING
    ]


def test_public_pages_have_no_serious_or_critical_axe_violations(
    live_server: Any, page: Any, demo_paths: dict[str, str]
) -> None:
    axe = Axe()
    problems: dict[str, list[str]] = {}
    for name, path in demo_paths.items():
        response = page.goto(live_server.url + path)
        assert response is not None and response.status == 200, f"{name}: {path}"
        found = _blocking(axe.run(page))
        if found:
            problems[name] = found
    assert problems == {}


def _focused(page: Any) -> dict[str, Any]:
    return page.evaluate(
        """() => {
            const el = document.activeElement;
            const style = getComputedStyle(el);
            return {
                tag: el.tagName, cls: el.className, text: (el.innerText || '').trim(),
                href: el.getAttribute('href'), id: el.id,
                outline: style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0,
                shadow: style.boxShadow !== 'none',
            };
        }"""
    )


def test_the_site_works_by_keyboard_alone(
    live_server: Any, page: Any, demo_paths: dict[str, str]
) -> None:
    page.goto(live_server.url + "/")
    page.keyboard.press("Tab")
    first = _focused(page)
    assert first["text"] == "Skip to content" and "skip-link" in first["cls"]
    assert first["outline"] or first["shadow"], "the skip link shows no focus"
    assert page.locator(".skip-link").bounding_box()["x"] >= 0, "skip link stays off screen"
    page.keyboard.press("Enter")
    assert _focused(page)["id"] == "main"

    # Tab on from the main content: the topic, the latest article and the archive are reached,
    # and every focused link shows where the focus is.
    reached: list[str] = []
    for _ in range(40):
        page.keyboard.press("Tab")
        focused = _focused(page)
        if focused["tag"] == "BODY":
            break
        if focused["tag"] == "A":
            assert focused["outline"] or focused["shadow"], f"no visible focus on {focused}"
            reached.append(focused["href"] or "")
    assert demo_paths["topic"] in reached
    assert demo_paths["article"] in reached
    assert any(href.rstrip("/").endswith("/archive") for href in reached)
    assert "/search/" in reached

    # Enter follows a link: the archive opens.
    page.goto(live_server.url + "/")
    link = page.get_by_role("link", name="Browse every article by month in the archive")
    link.focus()
    page.keyboard.press("Enter")
    page.wait_for_url("**/archive/")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "keyboard-archive.png"))
