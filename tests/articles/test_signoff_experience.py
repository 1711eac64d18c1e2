"""What editors and reviewers see on the way through the sign-off (issue #14), and the set-up."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import Group, User
from django.test import Client
from django.urls import reverse
from wagtail.models import GroupApprovalTask, Task, Workflow, WorkflowTask

from evidencepress.articles.models import ArticlePage, TopicPage
from evidencepress.articles.services import (
    WORKFLOW_NAME,
    clinical_review_task,
    is_clinical_review_task,
    review_workflow_ensure,
)
from evidencepress.articles.signoff import SignOffStep, SignOffTask
from evidencepress.core.roles import ensure_roles

from .conftest import complete_body
from .test_workflow import edit_post

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(django_user_model: type[User], db: None) -> dict[str, User]:
    ensure_roles()
    users = {}
    for name, group in (
        ("author", "Editors"),
        ("editor", "Editors"),
        ("clinician", "Clinician reviewers"),
    ):
        users[name] = django_user_model.objects.create_user(name, password="x" * 12)
        users[name].groups.add(Group.objects.get(name=group))
    return users


@pytest.fixture
def in_review(
    people: dict[str, User], make_article: Callable[..., ArticlePage], publications: Any
) -> ArticlePage:
    article = make_article(title="In review", body=complete_body(publications), publish=False)
    review_workflow_ensure()
    article = ArticlePage.objects.get(pk=article.pk)
    article.save_revision(user=people["author"])
    article.get_workflow().start(article, people["author"])
    return ArticlePage.objects.get(pk=article.pk)


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_approving_in_the_editor_says_approved_and_names_the_next_step(
    in_review: ArticlePage, people: dict[str, User]
) -> None:
    url = reverse("wagtailadmin_pages:edit", args=[in_review.pk])
    response = _client(people["clinician"]).post(
        url,
        edit_post(in_review, **{"action-workflow-action": "1", "workflow-action-name": "approve"}),
        follow=True,
    )
    shown = [str(message) for message in response.context["messages"]]
    # The form re-sent the fields, which Wagtail saves as a new revision with the approval:
    # the message says so, and that the changes go through every step again.
    assert shown == [
        "'In review': Clinical review approved. Next step: Clinical review. The page was "
        "changed after the version you approved, so the changes go through every step again."
    ]


def test_the_last_approval_says_the_page_is_published(
    in_review: ArticlePage, people: dict[str, User]
) -> None:
    state = in_review.current_workflow_task_state
    state.task.specific.on_action(state, people["clinician"], "approve")
    page = ArticlePage.objects.get(pk=in_review.pk)
    response = _client(people["editor"]).post(
        reverse("wagtailadmin_pages:edit", args=[page.pk]),
        edit_post(page, **{"action-workflow-action": "1", "workflow-action-name": "approve"}),
        follow=True,
    )
    shown = [str(message) for message in response.context["messages"]]
    page = ArticlePage.objects.get(pk=page.pk)
    assert "has been updated" not in " ".join(shown)
    assert shown[-1].startswith("'In review': Editorial sign-off approved.")


def test_dashboard_rows_name_their_step_and_leave_out_own_submissions(
    in_review: ArticlePage, people: dict[str, User]
) -> None:
    html = _client(people["clinician"]).get(reverse("wagtailadmin_home")).content.decode()
    assert "data-review-row" in html
    assert '<td class="review-queue__task"><strong>Clinical review</strong></td>' in html
    assert "Clinical review: In progress" in html
    # The author is an Editor but sees no row: the step is not theirs, and it is their text.
    author_html = _client(people["author"]).get(reverse("wagtailadmin_home")).content.decode()
    assert "data-review-row" not in author_html


def test_a_clinician_is_not_offered_publish_during_clinical_review(
    in_review: ArticlePage, people: dict[str, User]
) -> None:
    html = (
        _client(people["clinician"])
        .get(reverse("wagtailadmin_pages:edit", args=[in_review.pk]))
        .content.decode()
    )
    assert 'name="action-publish"' not in html
    assert 'data-workflow-action-name="approve"' in html


def test_add_child_page_shows_the_users_autosaved_draft(
    people: dict[str, User], topic_page: TopicPage
) -> None:
    review_workflow_ensure()
    client = _client(people["author"])
    add_url = reverse("wagtailadmin_pages:add", args=("articles", "articlepage", topic_page.pk))
    # What Wagtail 8's autosave sends from the create view (a JSON save of the typed fields).
    draft = ArticlePage(title="Half typed", slug="half-typed", summary="", live=False)
    draft.owner = people["author"]
    topic_page.add_child(instance=draft)

    html = client.get(add_url).content.decode()
    assert "You have an unpublished draft here, saved automatically" in html
    assert reverse("wagtailadmin_pages:edit", args=[draft.pk]) in html
    # Another person's draft is not listed to them.
    other = _client(people["editor"]).get(add_url).content.decode()
    assert "Half typed" not in other


def test_reusing_an_autosaved_drafts_slug_points_to_the_draft(
    people: dict[str, User], topic_page: TopicPage, publications: Any
) -> None:
    review_workflow_ensure()
    draft = ArticlePage(title="Half typed", slug="half-typed", summary="", live=False)
    draft.owner = people["author"]
    topic_page.add_child(instance=draft)
    fresh = ArticlePage(title="Half typed", slug="half-typed", summary="Again.", body=[])
    fresh.topic = topic_page.topic
    add_url = reverse("wagtailadmin_pages:add", args=("articles", "articlepage", topic_page.pk))

    html = _client(people["author"]).post(add_url, edit_post(fresh)).content.decode()

    assert "already uses the slug" in html and "Continue editing" in html
    assert ArticlePage.objects.filter(slug="half-typed").count() == 1


def test_ensure_is_idempotent_and_finds_steps_by_their_step(topic_page: TopicPage) -> None:
    workflow = review_workflow_ensure()
    clinical = clinical_review_task()
    assert clinical is not None and is_clinical_review_task(clinical)
    # An Admin renames the task and the workflow: ensure repairs them, it does not duplicate.
    Task.objects.filter(pk=clinical.pk).update(name="Quick look")
    Workflow.objects.filter(pk=workflow.pk).update(name="Renamed")
    again = review_workflow_ensure()
    assert again.pk == workflow.pk and again.name == WORKFLOW_NAME
    assert SignOffTask.objects.count() == 2
    assert [t.name for t in again.tasks] == ["Clinical review", "Editorial sign-off"]
    assert [t.specific.step for t in again.tasks] == list(SignOffStep.values)
    assert not is_clinical_review_task(again.tasks[1])


def test_ensure_replaces_plain_group_approval_tasks(topic_page: TopicPage) -> None:
    """An installation set up before SignOffTask (the migration converts in place; ensure
    also copes when it meets the old tasks)."""
    old = GroupApprovalTask.objects.create(name="Clinical review")
    workflow = Workflow.objects.create(name=WORKFLOW_NAME)
    WorkflowTask.objects.create(workflow=workflow, task=old, sort_order=0)

    again = review_workflow_ensure()

    assert again.pk == workflow.pk
    assert all(isinstance(t.specific, SignOffTask) for t in again.tasks)


def test_migration_converts_existing_tasks_in_place(topic_page: TopicPage) -> None:
    import importlib

    from django.apps import apps
    from django.db import connection

    convert = importlib.import_module(
        "evidencepress.articles.migrations.0006_convert_review_tasks"
    ).convert
    old = GroupApprovalTask.objects.create(name="Clinical review")
    old.groups.set([Group.objects.get_or_create(name="Clinician reviewers")[0]])
    workflow = Workflow.objects.create(name=WORKFLOW_NAME)
    WorkflowTask.objects.create(workflow=workflow, task=old, sort_order=0)

    class Editor:  # what RunPython's schema editor offers, without DDL (inside the test's atomic)
        quote_name = staticmethod(connection.ops.quote_name)

        @staticmethod
        def execute(sql: str, params: list[Any]) -> None:
            with connection.cursor() as cursor:
                cursor.execute(sql, params)

    convert(apps, Editor())

    task = Task.objects.get(pk=old.pk).specific
    assert isinstance(task, SignOffTask) and task.step == SignOffStep.CLINICAL_REVIEW
    assert list(task.groups.values_list("name", flat=True)) == ["Clinician reviewers"]
    assert not GroupApprovalTask.objects.filter(pk=old.pk).exists()


def test_the_last_approval_message_says_published_instead_of_updated(
    in_review: ArticlePage, people: dict[str, User]
) -> None:
    """The after_edit_page hook, as Wagtail runs it after an approval with no edits."""
    from django.contrib import messages
    from django.contrib.messages.storage.fallback import FallbackStorage
    from django.http import HttpResponse
    from django.test import RequestFactory

    from evidencepress.articles.wagtail_hooks import explain_publishing_under_review

    state = in_review.current_workflow_task_state
    state.task.specific.on_action(state, people["clinician"], "approve")
    page = ArticlePage.objects.get(pk=in_review.pk)
    request = RequestFactory().post(
        "/", {"action-workflow-action": "1", "workflow-action-name": "approve"}
    )
    request.user = people["editor"]
    request.session = {}  # type: ignore[assignment]
    request._messages = FallbackStorage(request)  # type: ignore[attr-defined]
    state = page.current_workflow_task_state
    state.task.specific.on_action(state, people["editor"], "approve")
    messages.success(request, "Page 'In review' has been updated.")  # what Wagtail queues

    explain_publishing_under_review(request, page)

    # The end of the request stores what is left for the next page (the redirect's target).
    response = HttpResponse()
    request._messages.update(response)  # type: ignore[attr-defined]
    following = RequestFactory().get("/")
    following.COOKIES = {name: morsel.value for name, morsel in response.cookies.items()}
    following.session = request.session
    shown = [str(message) for message in FallbackStorage(following)]
    assert shown == ["'In review': Editorial sign-off approved. The page is now published."]
