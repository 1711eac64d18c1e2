"""Writes for publishing: the clinical review workflow, set up idempotently."""

from __future__ import annotations

from django.contrib.auth.models import Group, Permission
from django.db import transaction
from wagtail.models import GroupApprovalTask, Workflow, WorkflowPage, WorkflowTask

from .models import TopicPage

WORKFLOW_NAME = "Clinical review and editorial sign-off"
# (task name, group whose members approve it), in the order pages pass through them.
REVIEW_STEPS = (("Clinical review", "Clinician reviewers"), ("Editorial sign-off", "Editors"))


@transaction.atomic
def review_workflow_ensure() -> Workflow:
    """Create (or repair) the two-step review workflow and assign it to every topic page.

    A topic page's workflow also covers its articles (Wagtail applies a page's workflow to its
    descendants). Running this again changes nothing.
    """
    access_admin = Permission.objects.get(
        content_type__app_label="wagtailadmin", codename="access_admin"
    )
    tasks = []
    for task_name, group_name in REVIEW_STEPS:
        group, _ = Group.objects.get_or_create(name=group_name)
        group.permissions.add(access_admin)
        task = GroupApprovalTask.objects.filter(name=task_name).first()
        if task is None:
            task = GroupApprovalTask.objects.create(name=task_name)
        if not task.active:
            task.active = True
            task.save(update_fields=["active"])
        if set(task.groups.all()) != {group}:
            task.groups.set([group])
        tasks.append(task)
    workflow = Workflow.objects.filter(name=WORKFLOW_NAME).first()
    if workflow is None:
        workflow = Workflow.objects.create(name=WORKFLOW_NAME)
    elif not workflow.active:
        workflow.active = True
        workflow.save(update_fields=["active"])
    WorkflowTask.objects.filter(workflow=workflow).exclude(task__in=tasks).delete()
    for order, task in enumerate(tasks):
        WorkflowTask.objects.update_or_create(
            workflow=workflow, task=task, defaults={"sort_order": order}
        )
    for page in TopicPage.objects.all():
        review_workflow_assign(page=page, workflow=workflow)
    return workflow


def review_workflow_assign(*, page: TopicPage, workflow: Workflow | None = None) -> None:
    """Put a topic page (and so its articles) under the review workflow."""
    workflow = workflow or Workflow.objects.filter(name=WORKFLOW_NAME, active=True).first()
    if workflow is None:
        return
    WorkflowPage.objects.update_or_create(page=page, defaults={"workflow": workflow})


def is_under_review_workflow(page: object) -> bool:
    """True if the page's workflow is the clinical review workflow."""
    get_workflow = getattr(page, "get_workflow", None)
    workflow = get_workflow() if get_workflow else None
    return bool(workflow and workflow.name == WORKFLOW_NAME)
