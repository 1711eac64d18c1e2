"""Clinical sign-off in a real browser: an edit after approval never goes live (issue #14).

An Editor's draft is in review; the Clinician approves "Clinical review" from the dashboard
(whose row names the step); the author then edits the title and saves a draft; another Editor
approves "Editorial sign-off" from the editor. The message says what was approved and that the
page went back to clinical review, and readers still see the approved article.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from evidencepress.articles.models import ArticlePage
from evidencepress.demo.loader import load_demo

from ..conftest import ensure_wagtail_tree
from .conftest import ARTIFACTS
from .test_article_editor import sign_in

PASSWORD = "a-long-passphrase-2"
UNREVIEWED = "UNREVIEWED: stop your chemotherapy and use imiquimod instead"


def _staff(name: str, group: str) -> Any:
    user = get_user_model().objects.create_user(name, f"{name}@example.org", PASSWORD)
    user.groups.add(Group.objects.get(name=group))
    return user


def _signed_in(browser: Any, url: str, username: str) -> Any:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    sign_in(page, url, username, PASSWORD)
    return page


@pytest.mark.browser
def test_an_edit_after_clinical_approval_goes_back_to_the_clinician(
    live_server: Any, browser: Any, transactional_db: None
) -> None:
    ensure_wagtail_tree()
    load_demo()
    article = ArticlePage.objects.get(slug="imiquimod-cream-angiosarcoma")
    approved_title = article.title
    author = _staff("author", "Editors")
    _staff("clinician", "Clinician reviewers")
    _staff("signer", "Editors")
    draft = article.get_latest_revision_as_object()
    draft.title = UNREVIEWED
    draft.save_revision(user=author)
    article.get_workflow().start(ArticlePage.objects.get(pk=article.pk), author)
    base = live_server.url
    edit_url = f"{base}/admin/pages/{article.pk}/edit/"
    ARTIFACTS.mkdir(exist_ok=True)

    # The clinician's dashboard row names the step; there is no Publish for them.
    clinician = _signed_in(browser, f"{base}/admin/", "clinician")
    row = clinician.locator("[data-review-row]", has_text=UNREVIEWED)
    assert "Clinical review" in row.locator(".review-queue__task").inner_text()
    clinician.screenshot(path=str(ARTIFACTS / "signoff-dashboard.png"), full_page=False)
    clinician.goto(edit_url)
    assert clinician.locator("button[name='action-publish']").count() == 0
    clinician.goto(f"{base}/admin/")
    clinician.locator("[data-review-row]", has_text=UNREVIEWED).get_by_role(
        "button", name="Approve", exact=True
    ).click()
    clinician.wait_for_load_state()
    clinician.locator("[data-review-row]").first.wait_for(state="detached")
    article.refresh_from_db()
    assert article.current_workflow_task.name == "Editorial sign-off"

    # The author edits the title after the approval and saves a draft.
    editor = _signed_in(browser, edit_url, "author")
    edited = "UNREVIEWED and changed after the clinician approved"
    editor.fill("#id_title", edited)
    editor.get_by_role("button", name="Save draft").click()
    editor.wait_for_load_state()
    editor.locator(".messages").wait_for(state="visible")

    # Another editor signs off from the editor: the page goes back to clinical review.
    signer = _signed_in(browser, edit_url, "signer")
    signer.locator("footer [data-w-dropdown-target='toggle'], footer .dropdown-toggle").last.click()
    signer.get_by_role("button", name="Approve", exact=True).click()
    signer.wait_for_load_state()
    message = signer.locator(".messages").inner_text()
    assert "Editorial sign-off approved" in message
    assert "Next step: Clinical review" in message
    assert "has been updated" not in message
    signer.screenshot(path=str(ARTIFACTS / "signoff-approval-message.png"), full_page=False)

    # Readers still see the approved article.
    reader = browser.new_context().new_page()
    reader.goto(base + ArticlePage.objects.get(pk=article.pk).url)
    body = reader.locator("main").inner_text()
    assert approved_title in body and "UNREVIEWED" not in body
    article.refresh_from_db()
    assert article.current_workflow_task.name == "Clinical review"
