"""Clinical review: required sections before submission, and both approvals before publishing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import Group, User
from django.test import Client
from django.urls import reverse
from wagtail import blocks as wagtail_blocks
from wagtail.models import WorkflowState
from wagtail.test.utils.form_data import rich_text

from evidencepress.articles.models import ArticlePage, TopicPage
from evidencepress.articles.services import WORKFLOW_NAME, review_workflow_ensure
from evidencepress.core.roles import ensure_roles

from .conftest import complete_body

pytestmark = pytest.mark.django_db


def _block_post(block: wagtail_blocks.Block, value: Any, prefix: str, out: dict[str, Any]) -> None:
    """The POST fields Wagtail's editor sends for a block value."""
    if isinstance(block, wagtail_blocks.StreamBlock):
        out[f"{prefix}-count"] = len(value)
        for i, child in enumerate(value):
            out.update(
                {
                    f"{prefix}-{i}-type": child.block_type,
                    f"{prefix}-{i}-deleted": "",
                    f"{prefix}-{i}-order": i,
                    f"{prefix}-{i}-id": child.id or "",
                }
            )
            _block_post(child.block, child.value, f"{prefix}-{i}-value", out)
    elif isinstance(block, wagtail_blocks.StructBlock):
        for name, child in block.child_blocks.items():
            _block_post(child, value.get(name), f"{prefix}-{name}", out)
    elif isinstance(block, wagtail_blocks.ListBlock):
        out[f"{prefix}-count"] = len(value)
        for i, item in enumerate(value):
            out.update(
                {f"{prefix}-{i}-deleted": "", f"{prefix}-{i}-order": i, f"{prefix}-{i}-id": ""}
            )
            _block_post(block.child_block, item, f"{prefix}-{i}-value", out)
    elif isinstance(block, wagtail_blocks.RichTextBlock):
        out[prefix] = rich_text(value.source)
    elif isinstance(block, wagtail_blocks.ChooserBlock):
        out[prefix] = value.pk if value is not None else ""
    elif isinstance(block, wagtail_blocks.BooleanBlock):
        if value:
            out[prefix] = "on"
    else:
        out[prefix] = "" if value is None else value


def edit_post(article: ArticlePage, **extra: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "title": article.title,
        "slug": article.slug,
        "topic": article.topic_id,
        "summary": article.summary,
        "date": article.date.isoformat(),
        "updated": "",
        "reviewed_by": "",
        "last_reviewed": "",
        "next_review_due": "",
        "comments-TOTAL_FORMS": 0,
        "comments-INITIAL_FORMS": 0,
        "comments-MIN_NUM_FORMS": 0,
        "comments-MAX_NUM_FORMS": 1000,
    }
    _block_post(ArticlePage.body.field.stream_block, article.body, "body", data)
    data.update(extra)
    return data


@pytest.fixture
def workflow(topic_page: TopicPage) -> Any:
    return review_workflow_ensure()


@pytest.fixture
def admin_client(client: Client, django_user_model: type[User]) -> Client:
    user = django_user_model.objects.create_superuser("editor-in-chief", "e@example.org", "x" * 12)
    client.force_login(user)
    return client


def test_workflow_is_set_up_once_on_topic_pages(workflow: Any, topic_page: TopicPage) -> None:
    again = review_workflow_ensure()
    assert again.pk == workflow.pk
    assert [t.name for t in workflow.tasks] == ["Clinical review", "Editorial sign-off"]
    assert [list(t.specific.groups.values_list("name", flat=True)) for t in workflow.tasks] == [
        ["Clinician reviewers"],
        ["Editors"],
    ]
    assert topic_page.get_workflow().name == WORKFLOW_NAME


def test_submitting_without_required_sections_is_refused_but_drafts_save(
    admin_client: Client, workflow: Any, make_article: Callable[..., ArticlePage], publications: Any
) -> None:
    body = [
        b for b in complete_body(publications) if b["type"] not in ("limits", "doctor_questions")
    ]
    article = make_article(title="Half done", body=body, publish=False)
    url = reverse("wagtailadmin_pages:edit", args=[article.pk])

    response = admin_client.post(url, edit_post(article, **{"action-submit": "Submit"}))
    assert response.status_code == 200  # the form again, with the error
    html = response.content.decode()
    assert "Before this article can go to clinical review, add these sections" in html
    assert "Limits of the evidence, Questions to ask your doctor" in html
    assert not WorkflowState.objects.filter(object_id=str(article.pk)).exists()

    revisions = article.revisions.count()
    response = admin_client.post(url, edit_post(article, summary="Draft saved anyway."))
    assert response.status_code == 302
    assert article.revisions.count() == revisions + 1
    latest = ArticlePage.objects.get(pk=article.pk).get_latest_revision_as_object()
    assert latest.summary == "Draft saved anyway."


def test_complete_article_is_submitted_into_clinical_review(
    admin_client: Client, workflow: Any, make_article: Callable[..., ArticlePage], publications: Any
) -> None:
    article = make_article(title="Ready", body=complete_body(publications), publish=False)
    url = reverse("wagtailadmin_pages:edit", args=[article.pk])

    response = admin_client.post(url, edit_post(article, **{"action-submit": "Submit"}))

    assert response.status_code == 302
    article.refresh_from_db()
    state = article.current_workflow_state
    assert state is not None and state.current_task_state.task.name == "Clinical review"
    assert not article.live


def test_publish_button_is_blocked_for_pages_under_review(
    admin_client: Client, workflow: Any, make_article: Callable[..., ArticlePage], publications: Any
) -> None:
    article = make_article(title="Shortcut", body=complete_body(publications), publish=False)
    url = reverse("wagtailadmin_pages:edit", args=[article.pk])

    response = admin_client.post(
        url, edit_post(article, **{"action-publish": "Publish"}), follow=True
    )

    article.refresh_from_db()
    assert not article.live
    html = response.content.decode()
    assert "was saved as a draft, not published" in html
    assert "passed clinical review and editorial sign-off" in html


def test_publishing_needs_both_approvals(
    workflow: Any,
    make_article: Callable[..., ArticlePage],
    publications: Any,
    django_user_model: type[User],
) -> None:
    ensure_roles()  # the staff groups as deployed: Editors hold no page publish permission
    clinician = django_user_model.objects.create_user("clinician", password="x" * 12)
    clinician.groups.add(Group.objects.get(name="Clinician reviewers"))
    editor = django_user_model.objects.create_user("editor", password="x" * 12)
    editor.groups.add(Group.objects.get(name="Editors"))
    author = django_user_model.objects.create_user("author", password="x" * 12)
    author.groups.add(Group.objects.get(name="Editors"))
    article = make_article(title="Reviewed", body=complete_body(publications), publish=False)

    assert not article.permissions_for_user(editor).can_publish()
    state = article.get_workflow().start(article, author)
    first = state.current_task_state
    # Editors cannot take the clinician's step.
    assert first.task.specific.get_actions(article, editor) == []
    first.task.specific.on_action(first, clinician, "approve")

    article.refresh_from_db()
    state.refresh_from_db()
    assert not article.live
    second = state.current_task_state
    assert second.task.name == "Editorial sign-off"
    assert second.task.specific.get_actions(article, clinician) == []

    second.task.specific.on_action(second, editor, "approve")

    article.refresh_from_db()
    state.refresh_from_db()
    assert state.status == WorkflowState.STATUS_APPROVED
    assert article.live


def test_editors_see_the_reading_level_while_editing(
    admin_client: Client, make_article: Callable[..., ArticlePage], publications: Any
) -> None:
    article = make_article(title="Graded", body=complete_body(publications), publish=False)
    level = article.reading_level()

    html = admin_client.get(reverse("wagtailadmin_pages:edit", args=[article.pk])).content.decode()

    assert "Reading level of the saved text" in html
    assert f"Flesch–Kincaid grade {level.flesch_kincaid_grade:.1f}" in html
    assert f"SMOG {level.smog:.1f}" in html


def test_new_article_form_explains_where_the_reading_level_will_appear(
    admin_client: Client, topic_page: TopicPage
) -> None:
    url = reverse("wagtailadmin_pages:add", args=("articles", "articlepage", topic_page.pk))
    response = admin_client.get(url)
    assert response.status_code == 200
    assert "appears here once the article has been saved" in response.content.decode()


def test_bulk_publish_in_listings_is_refused_too(
    admin_client: Client, workflow: Any, make_article: Callable[..., ArticlePage], publications: Any
) -> None:
    article = make_article(title="Bulk shortcut", body=complete_body(publications), publish=False)
    url = reverse("wagtail_bulk_action", args=("wagtailcore", "page", "publish"))

    confirm = admin_client.get(f"{url}?id={article.pk}")
    assert "have permission to publish this page" in confirm.content.decode()
    admin_client.post(f"{url}?id={article.pk}", {"include_descendants": ""})

    article.refresh_from_db()
    assert not article.live
