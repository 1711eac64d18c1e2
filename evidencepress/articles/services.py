"""Writes for publishing: the clinical review workflow, set up idempotently."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import Group, Permission
from django.db import transaction
from django.http import HttpRequest
from wagtail.models import Task, Workflow, WorkflowPage, WorkflowTask

from .models import TopicPage
from .signoff import SignOffStep, SignOffTask

WORKFLOW_NAME = "Clinical review and editorial sign-off"
# (task name, group whose members approve it), in the order pages pass through them.
REVIEW_STEPS = (("Clinical review", "Clinician reviewers"), ("Editorial sign-off", "Editors"))
_STEP_OF_TASK = {
    "Clinical review": SignOffStep.CLINICAL_REVIEW,
    "Editorial sign-off": SignOffStep.EDITORIAL_SIGN_OFF,
}


@transaction.atomic
def review_workflow_ensure() -> Workflow:
    """Create (or repair) the two-step review workflow and assign it to every topic page.

    A topic page's workflow also covers its articles (Wagtail applies a page's workflow to its
    descendants). The tasks are `SignOffTask`s found by their step, so a renamed task is
    repaired, not duplicated; plain group approval tasks left from before (migration
    articles.0006 converts them in place) are taken out of the workflow. Running this again
    changes nothing.
    """
    access_admin = Permission.objects.get(
        content_type__app_label="wagtailadmin", codename="access_admin"
    )
    tasks = []
    for task_name, group_name in REVIEW_STEPS:
        group, _ = Group.objects.get_or_create(name=group_name)
        group.permissions.add(access_admin)
        step = _STEP_OF_TASK[task_name]
        task = SignOffTask.objects.filter(step=step).order_by("pk").first()
        if task is None:
            task = SignOffTask.objects.create(name=task_name, step=step)
        if not task.active or task.name != task_name:
            task.active = True
            task.name = task_name
            task.save(update_fields=["active", "name"])
        if set(task.groups.all()) != {group}:
            task.groups.set([group])
        tasks.append(task)
    workflow = review_workflow() or Workflow.objects.filter(name=WORKFLOW_NAME).first()
    if workflow is None:
        workflow = Workflow.objects.create(name=WORKFLOW_NAME)
    elif not workflow.active or workflow.name != WORKFLOW_NAME:
        workflow.active = True
        workflow.name = WORKFLOW_NAME
        workflow.save(update_fields=["active", "name"])
    WorkflowTask.objects.filter(workflow=workflow).exclude(task__in=tasks).delete()
    for order, task in enumerate(tasks):
        WorkflowTask.objects.update_or_create(
            workflow=workflow, task=task, defaults={"sort_order": order}
        )
    for page in TopicPage.objects.all():
        review_workflow_assign(page=page, workflow=workflow)
    return workflow


def review_workflow() -> Workflow | None:
    """The clinical review workflow (active or not): the one holding the clinical review task."""
    task = clinical_review_task()
    if task is None:
        return None
    return Workflow.objects.filter(workflow_tasks__task=task).order_by("pk").first()


def clinical_review_task() -> Task | None:
    """The "Clinical review" step's task (identified by its step, not its editable name)."""
    return SignOffTask.objects.filter(step=SignOffStep.CLINICAL_REVIEW).order_by("pk").first()


def is_clinical_review_task(task: Task) -> bool:
    """True if `task` (any Task instance) is the clinical review step."""
    specific = task.specific
    return isinstance(specific, SignOffTask) and specific.step == SignOffStep.CLINICAL_REVIEW


def review_workflow_assign(*, page: TopicPage, workflow: Workflow | None = None) -> None:
    """Put a topic page (and so its articles) under the review workflow."""
    workflow = workflow or review_workflow()
    if workflow is not None and not workflow.active:
        workflow = None
    if workflow is None:
        return
    WorkflowPage.objects.update_or_create(page=page, defaults={"workflow": workflow})


def is_under_review_workflow(page: object) -> bool:
    """True if the page goes live only through the clinical review (articles/publishing.py)."""
    from .publishing import requires_review

    specific = getattr(page, "specific", page)
    return requires_review(specific)


def unapproved_schedules_cancel() -> list[int]:
    """Cancel the scheduled go-live of every reviewed page revision that was never approved.

    Run before Wagtail's `publish_scheduled` (our command of that name): a schedule can only
    have been set outside the workflow (before the rule existed, or in the database), and
    publishing it would put unreviewed text live. Each cancellation is in the audit log.
    Returns the ids of the revisions whose schedule was cancelled.
    """
    from wagtail.models import Revision

    from evidencepress.core.audit import audit_record

    from .publishing import approved_revision, requires_review

    cancelled = []
    for revision in Revision.objects.filter(approved_go_live_at__isnull=False).select_related(
        "content_type"
    ):
        page = revision.content_object
        if page is None or not requires_review(page):
            continue
        if approved_revision(page=page, revision=revision):
            continue
        with transaction.atomic():
            Revision.objects.filter(pk=revision.pk).update(approved_go_live_at=None)
            audit_record(
                action="publishing.schedule_refused",
                object_type="page",
                object_id=str(page.pk),
                detail={"revision": revision.pk, "reason": "not approved by the review"},
            )
        cancelled.append(revision.pk)
    return cancelled


def page_withdrawal_record(
    *, page: Any, reason: str, descendants: bool, via: str, request: HttpRequest | None = None
) -> None:
    """Audit the unpublishing of a signed-off page: who, which page, which reason code."""
    from evidencepress.core.audit import audit_record

    from .publishing import WITHDRAWAL_REASONS

    if reason not in WITHDRAWAL_REASONS:
        raise ValueError(f"withdrawal reason: unknown code {reason!r}")
    audit_record(
        action="publishing.unpublished",
        request=request,
        object_type="page",
        object_id=str(page.pk),
        detail={"reason": reason, "descendants": descendants, "via": via},
    )
