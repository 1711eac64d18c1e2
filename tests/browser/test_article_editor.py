"""The article editor in a real browser: blocks, the publication chooser and the reading level."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from evidencepress.articles.models import ArticlePage
from evidencepress.demo.loader import load_demo

from ..conftest import ensure_wagtail_tree, totp_code
from .conftest import ARTIFACTS


def sign_in(page: object, url: str, username: str, password: str) -> None:
    """Open url, signing in on the way (password, then the authenticator's code)."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    user = get_user_model().objects.get(username=username)
    device = TOTPDevice.objects.create(user=user, name="Browser test", confirmed=True)
    page.goto(url)  # type: ignore[attr-defined]
    page.fill("input[name=username]", username)  # type: ignore[attr-defined]
    page.fill("input[name=password]", password)  # type: ignore[attr-defined]
    page.click("button[type=submit]")  # type: ignore[attr-defined]
    page.wait_for_load_state()  # type: ignore[attr-defined]
    if "/otp/" in page.url:  # type: ignore[attr-defined]
        page.fill("input[name=token]", totp_code(device))  # type: ignore[attr-defined]
        page.click("button[type=submit]")  # type: ignore[attr-defined]
        page.wait_for_load_state()  # type: ignore[attr-defined]
    if page.url != url:  # type: ignore[attr-defined]
        page.goto(url)  # type: ignore[attr-defined]


@pytest.mark.browser
def test_editor_opens_the_demo_article_with_its_blocks_and_reading_level(
    live_server: object, page: object, transactional_db: None
) -> None:
    ensure_wagtail_tree()
    load_demo()
    article = ArticlePage.objects.get(slug="imiquimod-cream-angiosarcoma")
    get_user_model().objects.create_superuser("chief", "chief@example.org", "a-long-passphrase-2")
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))  # type: ignore[attr-defined]

    edit_url = f"{live_server.url}/admin/pages/{article.pk}/edit/"  # type: ignore[attr-defined]
    sign_in(page, edit_url, "chief", "a-long-passphrase-2")

    panel = page.locator("[data-reading-level]")  # type: ignore[attr-defined]
    assert "Flesch–Kincaid grade" in panel.inner_text()
    # The StreamField editor drew the blocks, including the cited publications' choosers.
    assert page.get_by_text("How it works (mechanism)").first.is_visible()  # type: ignore[attr-defined]
    assert page.locator("[data-chooser-title]").count() > 0  # type: ignore[attr-defined]
    # Inline citations: with words selected in the prose, the toolbar offers "Citation", which
    # opens the publication chooser.
    prose = page.locator(".Draftail-Editor [contenteditable=true]").first  # type: ignore[attr-defined]
    prose.click()
    page.keyboard.press("Control+End")  # type: ignore[attr-defined]
    page.keyboard.type(" New claim")  # type: ignore[attr-defined]
    for _ in "New claim":
        page.keyboard.press("Shift+ArrowLeft")  # type: ignore[attr-defined]
    citation = page.locator('button[name="CITATION"]').first  # type: ignore[attr-defined]
    citation.wait_for(state="visible")
    assert (citation.get_attribute("aria-label") or "").startswith("Citation")
    citation.click()
    chooser = page.locator(".modal-dialog")  # type: ignore[attr-defined]
    chooser.get_by_placeholder("Title, PMID or DOI").wait_for(state="visible")
    chooser.locator("a[data-chooser-modal-choice]").first.click()
    chooser.wait_for(state="hidden")
    # The typed words now cite the chosen publication, shown like the demo's own citations.
    cited = page.locator(".TooltipEntity", has_text="New claim")  # type: ignore[attr-defined]
    assert cited.count() == 1
    assert (cited.get_attribute("href") or "").startswith("/evidence/publications/")
    cited.click()  # its tooltip names the publication
    page.locator(".Tooltip", has_text="Citation: ").first.wait_for(state="visible")  # type: ignore[attr-defined]
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "article-editor.png"), full_page=False)  # type: ignore[attr-defined]
    assert errors == []
