"""Every publish path × every staff role: unreviewed text never becomes live (issue #14).

A live article ("Approved text") gets a draft nobody reviewed; each role then tries each path
that could put a draft on a public page: the edit view's Publish, bulk publish, the admin API's
publish / revert + publish / copy (keep live, new title) / create alias / move, the copy view
with "publish copies", create-and-publish of an article and of a topic page, and a scheduled
go-live. Whatever the response, readers must still see exactly the approved revision.
"""

from __future__ import annotations

import datetime
import json
import time
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import Group, User
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from wagtail.models import Page, Revision, TaskState, WorkflowState
from wagtail.test.utils.form_data import rich_text

from evidencepress.articles.models import ArticlePage, HomePage, TopicPage
from evidencepress.articles.publishing import UnreviewedPublishError, system_publishing
from evidencepress.articles.services import review_workflow_ensure
from evidencepress.articles.signoff import SignOffTaskError
from evidencepress.core.models import AuditEvent
from evidencepress.core.roles import ensure_roles

from .conftest import complete_body
from .test_workflow import edit_post

pytestmark = pytest.mark.django_db

UNREVIEWED = "UNREVIEWED: stop your chemotherapy and use imiquimod instead"
ROLES = ["editor", "clinician", "admin", "superuser"]
GROUP_OF = {"editor": "Editors", "clinician": "Clinician reviewers", "admin": "Admins"}


def _user(model: type[User], name: str, group: str | None = None, **flags: Any) -> User:
    user = model.objects.create_user(name, f"{name}@example.org", "x" * 12, **flags)
    if group:
        user.groups.add(Group.objects.get(name=group))
    return user


@pytest.fixture
def staff(django_user_model: type[User], db: None) -> dict[str, User]:
    ensure_roles()
    users = {role: _user(django_user_model, role, GROUP_OF.get(role)) for role in GROUP_OF}
    users["superuser"] = _user(django_user_model, "superuser", is_superuser=True, is_staff=True)
    users["author"] = _user(django_user_model, "author", "Editors")
    users["clinician2"] = _user(django_user_model, "clinician2", "Clinician reviewers")
    users["editor2"] = _user(django_user_model, "editor2", "Editors")
    return users


@pytest.fixture
def article(
    staff: dict[str, User], make_article: Callable[..., ArticlePage], publications: Any
) -> ArticlePage:
    """A live, approved article with an unreviewed draft on top, review workflow set up."""
    page = make_article(title="Approved text", body=complete_body(publications), publish=True)
    review_workflow_ensure()
    page = ArticlePage.objects.get(pk=page.pk)
    page.title = UNREVIEWED
    page.save_revision(user=staff["author"])
    return ArticlePage.objects.get(pk=page.pk)


def _client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def assert_readers_see_only_approved_text(article: ArticlePage) -> None:
    """No live page carries the unreviewed text, in its row or its live revision, and the
    article's public page shows the approved title."""
    assert not Page.objects.live().filter(title__icontains="UNREVIEWED").exists()
    for page in Page.objects.live().specific():
        if page.live_revision is not None:
            assert "UNREVIEWED" not in page.live_revision.content.get("title", "")
    article = ArticlePage.objects.get(pk=article.pk)
    assert article.live and article.title == "Approved text"
    html = Client().get(article.url).content.decode()
    assert "Approved text" in html and "UNREVIEWED" not in html


def _api(client: Client, page_id: int, action: str, **data: Any) -> Any:
    return client.post(
        f"/admin/api/main/pages/{page_id}/action/{action}/",
        data=json.dumps(data),
        content_type="application/json",
    )


# --- the paths ------------------------------------------------------------------------------


def edit_view_publish(client: Client, article: ArticlePage, staff: dict[str, User]) -> None:
    url = reverse("wagtailadmin_pages:edit", args=[article.pk])
    client.post(url, edit_post(article, title=UNREVIEWED, **{"action-publish": "Publish"}))


def edit_view_schedule(client: Client, article: ArticlePage, staff: dict[str, User]) -> None:
    url = reverse("wagtailadmin_pages:edit", args=[article.pk])
    soon = (timezone.now() + datetime.timedelta(minutes=5)).strftime("%Y-%m-%d %H:%M")
    client.post(
        url,
        edit_post(article, title=UNREVIEWED, go_live_at=soon, **{"action-publish": "Publish"}),
    )
    _run_scheduler_later()


def bulk_publish(client: Client, article: ArticlePage, staff: dict[str, User]) -> None:
    url = reverse("wagtail_bulk_action", args=("wagtailcore", "page", "publish"))
    client.post(f"{url}?id={article.pk}", {"include_descendants": "on"})


def api_publish(client: Client, article: ArticlePage, staff: dict[str, User]) -> None:
    response = _api(client, article.pk, "publish")
    assert response.status_code in (400, 403, 404)


def api_revert_then_publish(client: Client, article: ArticlePage, staff: dict[str, User]) -> None:
    unreviewed = article.get_latest_revision()
    _api(client, article.pk, "revert_to_page_revision", revision_id=unreviewed.pk)
    response = _api(client, article.pk, "publish")
    assert response.status_code in (400, 403, 404)


def api_copy_keep_live(client: Client, article: ArticlePage, staff: dict[str, User]) -> None:
    response = _api(client, article.pk, "copy", keep_live=True, slug="copied", title=UNREVIEWED)
    assert response.status_code in (400, 403, 404)


def api_copy_then_publish(client: Client, article: ArticlePage, staff: dict[str, User]) -> None:
    _api(client, article.pk, "copy", keep_live=False, slug="copied-draft", title=UNREVIEWED)
    for copy in ArticlePage.objects.filter(slug="copied-draft"):
        response = _api(client, copy.pk, "publish")
        assert response.status_code in (400, 403, 404)


def api_create_alias(client: Client, article: ArticlePage, staff: dict[str, User]) -> None:
    response = _api(client, article.pk, "create_alias", update_slug="alias")
    assert response.status_code in (400, 403, 404)


def api_move(client: Client, article: ArticlePage, staff: dict[str, User]) -> None:
    other = TopicPage(title="Other topic", slug="other-topic", topic=article.topic)
    with system_publishing("test setup: a second live topic"):
        HomePage.objects.get().add_child(instance=other)
    _api(client, article.pk, "move", destination_page_id=other.pk, position="last-child")


def copy_view_publish_copies(client: Client, article: ArticlePage, staff: dict[str, User]) -> None:
    client.post(
        reverse("wagtailadmin_pages:copy", args=[article.pk]),
        {
            "new_title": UNREVIEWED,
            "new_slug": "copied-by-view",
            "new_parent_page": article.get_parent().pk,
            "publish_copies": "on",
        },
    )
    for copy in ArticlePage.objects.filter(slug="copied-by-view"):
        url = reverse("wagtailadmin_pages:edit", args=[copy.pk])
        client.post(url, edit_post(copy, **{"action-publish": "Publish"}))


def create_and_publish_article(
    client: Client, article: ArticlePage, staff: dict[str, User]
) -> None:
    parent = article.get_parent()
    fresh = ArticlePage(
        title=UNREVIEWED, slug="created", topic=article.topic, summary="New.", body=article.body
    )
    fresh.date = datetime.date(2025, 1, 2)
    client.post(
        reverse("wagtailadmin_pages:add", args=("articles", "articlepage", parent.pk)),
        edit_post(fresh, **{"action-publish": "Publish"}),
    )


def create_and_publish_topic(client: Client, article: ArticlePage, staff: dict[str, User]) -> None:
    home = HomePage.objects.get()
    client.post(
        reverse("wagtailadmin_pages:add", args=("articles", "topicpage", home.pk)),
        {
            "title": UNREVIEWED,
            "slug": "new-topic",
            "topic": article.topic_id,
            "introduction": rich_text("<p>A new topic.</p>"),
            "reviewed_by": "",
            "last_reviewed": "",
            "next_review_due": "",
            "comments-TOTAL_FORMS": 0,
            "comments-INITIAL_FORMS": 0,
            "comments-MIN_NUM_FORMS": 0,
            "comments-MAX_NUM_FORMS": 1000,
            "action-publish": "Publish",
        },
    )


def _run_scheduler_later() -> None:
    """Run `publish_scheduled` as cron would, once every schedule is due."""
    Revision.objects.filter(approved_go_live_at__isnull=False).update(
        approved_go_live_at=timezone.now() - datetime.timedelta(minutes=1)
    )
    ArticlePage.objects.filter(go_live_at__isnull=False).update(
        go_live_at=timezone.now() - datetime.timedelta(minutes=1)
    )
    call_command("publish_scheduled")


PATHS = [
    edit_view_publish,
    edit_view_schedule,
    bulk_publish,
    api_publish,
    api_revert_then_publish,
    api_copy_keep_live,
    api_copy_then_publish,
    api_create_alias,
    api_move,
    copy_view_publish_copies,
    create_and_publish_article,
    create_and_publish_topic,
]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("path", PATHS, ids=lambda path: path.__name__)
def test_no_path_puts_unreviewed_text_live(
    path: Callable[..., None], role: str, article: ArticlePage, staff: dict[str, User]
) -> None:
    client = _client_for(staff[role])
    assert not article.permissions_for_user(staff[role]).can_publish()

    path(client, article, staff)

    assert_readers_see_only_approved_text(article)


# --- the workflow itself --------------------------------------------------------------------


def _approve(page: ArticlePage, user: User) -> None:
    page = ArticlePage.objects.get(pk=page.pk)
    task_state = page.current_workflow_task_state
    task_state.task.specific.on_action(task_state, user, "approve")


def test_both_approvals_publish_exactly_the_approved_revision(
    article: ArticlePage, staff: dict[str, User]
) -> None:
    article.get_workflow().start(article, staff["author"])
    approved = ArticlePage.objects.get(pk=article.pk).get_latest_revision()
    _approve(article, staff["clinician"])
    _approve(article, staff["editor"])

    article = ArticlePage.objects.get(pk=article.pk)
    assert article.live_revision_id == approved.pk
    assert article.title == UNREVIEWED  # it passed review: now it is the approved text


# Who may edit during "Editorial sign-off": the step's group (Editors) and superusers.
CAN_EDIT_DURING_SIGN_OFF = {"editor": True, "clinician": False, "admin": False, "superuser": True}


@pytest.mark.parametrize("role", ROLES)
def test_an_edit_after_clinical_approval_goes_back_to_clinical_review(
    role: str, article: ArticlePage, staff: dict[str, User]
) -> None:
    article.get_workflow().start(article, staff["author"])
    _approve(article, staff["clinician"])
    assert ArticlePage.objects.get(pk=article.pk).current_workflow_task.name == (
        "Editorial sign-off"
    )

    # Someone edits the title after the clinician approved, through the editor.
    page = ArticlePage.objects.get(pk=article.pk)
    edited = "UNREVIEWED and edited after approval"
    _client_for(staff[role]).post(
        reverse("wagtailadmin_pages:edit", args=[page.pk]), edit_post(page, title=edited)
    )
    saved = Revision.objects.for_instance(page).filter(content__title=edited).exists()
    assert saved == CAN_EDIT_DURING_SIGN_OFF[role]
    # A different editor approves the sign-off.
    _approve(article, staff["editor2"])

    page = ArticlePage.objects.get(pk=article.pk)
    assert not Page.objects.live().filter(title__icontains="edited after").exists()
    if saved:  # back to the clinician, nothing published
        assert page.title == "Approved text"
        assert page.current_workflow_task.name == "Clinical review"
    else:  # the edit was refused: what the clinician approved is what went live
        assert page.title == UNREVIEWED and page.current_workflow_state is None


def test_finish_action_refuses_a_revision_that_changed_after_approval(
    article: ArticlePage, staff: dict[str, User]
) -> None:
    """The finish action's own check (whatever the workflow's settings)."""
    from evidencepress.articles.workflow_actions import publish_approved

    state = article.get_workflow().start(article, staff["author"])
    ArticlePage.objects.get(pk=article.pk).save_revision(user=staff["editor2"])
    with pytest.raises(UnreviewedPublishError):
        publish_approved(state, user=staff["editor"])
    assert ArticlePage.objects.get(pk=article.pk).title == "Approved text"


@pytest.mark.parametrize("role", ["editor", "clinician"])
def test_nobody_approves_a_revision_they_submitted(
    role: str, article: ArticlePage, staff: dict[str, User]
) -> None:
    submitter = staff[role]
    page = ArticlePage.objects.get(pk=article.pk)
    page.get_workflow().start(page, submitter)
    if role == "editor":  # the clinician step first, by someone else
        _approve(page, staff["clinician"])
    page = ArticlePage.objects.get(pk=page.pk)
    task_state = page.current_workflow_task_state
    task = task_state.task.specific

    assert task.get_actions(page, submitter) == []
    with pytest.raises(SignOffTaskError):
        task.on_action(task_state, submitter, "approve")
    # The dashboard's modal and the edit view refuse too.
    client = _client_for(submitter)
    client.post(
        reverse("wagtailadmin_pages:workflow_action", args=[page.pk, "approve", task_state.pk]),
        {"comment": ""},
    )
    client.post(
        reverse("wagtailadmin_pages:edit", args=[page.pk]),
        edit_post(page, **{"action-workflow-action": "1", "workflow-action-name": "approve"}),
    )
    task_state.refresh_from_db()
    assert task_state.status == TaskState.STATUS_IN_PROGRESS
    assert_readers_see_only_approved_text(article)


@pytest.mark.parametrize("step", ["Clinical review", "Editorial sign-off"])
def test_nobody_approves_a_revision_they_edited(
    step: str, article: ArticlePage, staff: dict[str, User]
) -> None:
    """The author of the draft (not the submitter) may not approve either step."""
    reviewer = staff["clinician"] if step == "Clinical review" else staff["editor"]
    page = ArticlePage.objects.get(pk=article.pk)
    page.save_revision(user=reviewer)  # the reviewer edits the draft
    page.get_workflow().start(page, staff["editor2"])
    if step == "Editorial sign-off":
        _approve(page, staff["clinician2"])
    page = ArticlePage.objects.get(pk=page.pk)
    assert page.current_workflow_task.name == step
    with pytest.raises(SignOffTaskError):
        _approve(page, reviewer)


def test_superusers_outside_the_group_cannot_approve(
    article: ArticlePage, staff: dict[str, User]
) -> None:
    article.get_workflow().start(article, staff["author"])
    page = ArticlePage.objects.get(pk=article.pk)
    assert page.current_workflow_task.specific.get_actions(page, staff["superuser"]) == []
    with pytest.raises(SignOffTaskError):
        _approve(page, staff["superuser"])


def test_a_schedule_set_outside_the_workflow_is_cancelled_and_audited(
    article: ArticlePage, staff: dict[str, User]
) -> None:
    unreviewed = article.get_latest_revision()
    unreviewed.approved_go_live_at = timezone.now() - datetime.timedelta(minutes=1)
    unreviewed.save(update_fields=["approved_go_live_at"])

    call_command("publish_scheduled")

    unreviewed.refresh_from_db()
    assert unreviewed.approved_go_live_at is None
    assert AuditEvent.objects.filter(
        action="publishing.schedule_refused", object_id=str(article.pk)
    ).exists()
    assert_readers_see_only_approved_text(article)


def test_an_approved_scheduled_revision_goes_live_on_time(
    article: ArticlePage, staff: dict[str, User]
) -> None:
    page = ArticlePage.objects.get(pk=article.pk).get_latest_revision_as_object()
    page.go_live_at = timezone.now() + datetime.timedelta(seconds=2)
    page.save_revision(user=staff["author"])
    page.get_workflow().start(page, staff["author"])
    _approve(page, staff["clinician"])
    _approve(page, staff["editor"])
    page = ArticlePage.objects.get(pk=page.pk)
    scheduled = Revision.objects.get(approved_go_live_at__isnull=False)
    if page.title == "Approved text":  # still scheduled: wait for go-live as cron would
        time.sleep(max(0.0, (scheduled.approved_go_live_at - timezone.now()).total_seconds()))
        call_command("publish_scheduled")

    page = ArticlePage.objects.get(pk=page.pk)
    assert page.title == UNREVIEWED and page.live_revision_id == scheduled.pk


def test_direct_publish_of_an_unapproved_revision_is_refused(
    article: ArticlePage, staff: dict[str, User]
) -> None:
    with pytest.raises(UnreviewedPublishError):
        article.get_latest_revision().publish(user=staff["superuser"], skip_permission_checks=True)
    assert_readers_see_only_approved_text(article)
    assert not WorkflowState.objects.exists()


# --- withdrawing a signed-off page: unpublish with a reason, delete after ---------------------


@pytest.mark.parametrize("role", ["clinician", "admin", "superuser"])
def test_unpublishing_a_signed_off_page_needs_a_reason_and_is_audited(
    role: str, article: ArticlePage, staff: dict[str, User]
) -> None:
    client = _client_for(staff[role])
    url = reverse("wagtailadmin_pages:unpublish", args=[article.pk])
    assert 'name="withdrawal_reason"' in client.get(url).content.decode()

    client.post(url, {})
    assert ArticlePage.objects.get(pk=article.pk).live
    assert _api(client, article.pk, "unpublish").status_code == 400
    assert ArticlePage.objects.get(pk=article.pk).live
    bulk = reverse("wagtail_bulk_action", args=("wagtailcore", "page", "unpublish"))
    client.post(f"{bulk}?id={article.pk}", {"include_descendants": ""})
    assert ArticlePage.objects.get(pk=article.pk).live

    client.post(url, {"withdrawal_reason": "factual_error"})

    assert not ArticlePage.objects.get(pk=article.pk).live
    event = AuditEvent.objects.get(action="publishing.unpublished")
    assert event.object_id == str(article.pk) and event.actor_id == staff[role].pk
    assert event.detail["reason"] == "factual_error" and event.detail["via"] == "admin"


def test_the_admin_api_unpublishes_with_a_reason_code(
    article: ArticlePage, staff: dict[str, User]
) -> None:
    client = _client_for(staff["clinician"])
    assert _api(client, article.pk, "unpublish", reason="no such code").status_code == 400
    assert _api(client, article.pk, "unpublish", reason="clinical_safety").status_code == 200
    assert not ArticlePage.objects.get(pk=article.pk).live
    event = AuditEvent.objects.get(action="publishing.unpublished")
    assert event.detail == {"reason": "clinical_safety", "descendants": False, "via": "admin API"}


@pytest.mark.parametrize("role", ROLES)
def test_a_live_signed_off_page_is_deleted_only_after_unpublishing(
    role: str, article: ArticlePage, staff: dict[str, User]
) -> None:
    client = _client_for(staff[role])
    assert not article.permissions_for_user(staff[role]).can_delete()
    client.post(reverse("wagtailadmin_pages:delete", args=[article.pk]))
    _api(client, article.pk, "delete")
    topic = article.get_parent()
    client.post(reverse("wagtailadmin_pages:delete", args=[topic.pk]))
    assert ArticlePage.objects.filter(pk=article.pk).exists()
    assert TopicPage.objects.filter(pk=topic.pk).exists()
    assert_readers_see_only_approved_text(article)

    # Once unpublished (with its reason), Wagtail's own delete rules apply again.
    ArticlePage.objects.get(pk=article.pk).unpublish()
    unpublished = ArticlePage.objects.get(pk=article.pk)
    assert unpublished.permissions_for_user(staff["superuser"]).can_delete()


def test_two_different_people_sign_off(article: ArticlePage, staff: dict[str, User]) -> None:
    """A clinician who is also an editor (or an Admin who joined both groups) cannot give
    both approvals of one revision."""
    both = staff["clinician"]
    both.groups.add(Group.objects.get(name="Editors"))
    article.get_workflow().start(article, staff["author"])
    _approve(article, both)
    page = ArticlePage.objects.get(pk=article.pk)
    assert page.current_workflow_task.name == "Editorial sign-off"
    assert page.current_workflow_task.specific.get_actions(page, both) == []
    with pytest.raises(SignOffTaskError):
        _approve(page, both)
    _approve(page, staff["editor"])
    assert ArticlePage.objects.get(pk=article.pk).title == UNREVIEWED  # now approved twice
