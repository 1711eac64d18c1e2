"""The review workflow's task: a group approval that nobody gives to their own text.

`SignOffTask` is Wagtail's group approval task with two more rules:

- its `step` (clinical review or editorial sign-off) is fixed when the workflow is set up
  (`services.review_workflow_ensure`), not chosen in the admin, so the publishing rule
  (`articles/publishing.py`) can require both steps whatever the tasks are called;
- nobody, superusers included, approves or rejects a revision they wrote or a workflow they
  submitted: the people who contributed any revision since the page was last published, and the
  workflow's requester, get no actions and are refused in `on_action` (the edit view, the
  dashboard's workflow modal and any script go through it); nor does whoever approved the
  other step of the same revision (two people sign off). There is no override: a superuser
  who is also a clinician joins "Clinician reviewers" and still may not approve their own edit.

Approving also needs membership of the task's group, for superusers too: a superuser who is not
a clinician cannot pass "Clinical review". Editing during a step is Wagtail's rule (the step's
group and superusers); any edit sends the page back to the first step.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import models
from wagtail.models import AbstractGroupApprovalTask, Revision, Task, TaskState


class SignOffStep(models.TextChoices):
    CLINICAL_REVIEW = "clinical_review", "Clinical review"
    EDITORIAL_SIGN_OFF = "editorial_sign_off", "Editorial sign-off"


class SignOffTaskError(PermissionDenied):
    """An approval or rejection the sign-off rules refuse (the message says why)."""


def revision_contributors(*, obj: Any, revision: Revision | None) -> set[int]:
    """Ids of the users who saved any revision since the page was last published, up to and
    including `revision` (the text under review is the sum of their edits)."""
    if revision is None:
        return set()
    revisions = Revision.objects.for_instance(obj).filter(
        created_at__lte=revision.created_at, id__lte=revision.pk
    )
    live_revision = getattr(obj, "live_revision", None)
    if live_revision is not None and live_revision.created_at < revision.created_at:
        revisions = revisions.filter(created_at__gt=live_revision.created_at)
    return {user_id for user_id in revisions.values_list("user_id", flat=True) if user_id}


class SignOffTask(AbstractGroupApprovalTask):
    """A step of the clinical review workflow (see the module docstring)."""

    step = models.CharField(max_length=32, choices=SignOffStep.choices, editable=False)

    # Name only: the step and the approving group are set by review_workflow_ensure(), so an
    # Admin editing tasks in the admin cannot hand a step to another group.
    admin_form_fields = Task.admin_form_fields

    class Meta:
        verbose_name = "sign-off task"
        verbose_name_plural = "sign-off tasks"

    def _in_group(self, user: Any) -> bool:
        return bool(user.is_active and self._user_in_groups(user))

    def excluded_users(self, obj: Any) -> set[int]:
        """Users who may not act on this task for `obj` now: its contributors and requester."""
        workflow_state = obj.current_workflow_state
        if workflow_state is None:
            return set()
        task_state = workflow_state.current_task_state
        revision = task_state.revision if task_state else obj.get_latest_revision()
        # The revision under review. An edit saved after the step started (even with the
        # approval itself) is not approved by this: the workflow starts again on it
        # (WAGTAIL_WORKFLOW_REQUIRE_REAPPROVAL_ON_EDIT), where its author is excluded in turn.
        excluded = revision_contributors(obj=obj, revision=revision)
        if workflow_state.requested_by_id:
            excluded.add(workflow_state.requested_by_id)
        # Two different people sign off: whoever approved another step of this revision (a
        # clinician who is also an editor) does not approve the next one too.
        excluded |= set(
            workflow_state.task_states.filter(
                status=TaskState.STATUS_APPROVED, revision=revision, finished_by__isnull=False
            )
            .exclude(task_id=self.pk)
            .values_list("finished_by_id", flat=True)
        )
        return excluded

    def refusal(self, obj: Any, user: Any) -> str | None:
        """Why `user` may not act on this task for `obj`, or None if they may."""
        if not self._in_group(user):
            names = ", ".join(self.groups.values_list("name", flat=True))
            return f"Only members of {names} can act on '{self.name}'."
        if user.pk in self.excluded_users(obj):
            return (
                f"You wrote or submitted this version of '{obj.get_admin_display_title()}', so "
                f"someone else must take '{self.name}'."
            )
        return None

    def get_actions(self, obj: Any, user: Any) -> list[tuple[str, str, bool]]:
        if self.refusal(obj, user) is not None:
            return []
        return list(super().get_actions(obj, user))

    # Editing during a step stays as Wagtail has it (group members and superusers): an edit
    # never skips a step, it sends the page back to clinical review.

    def get_task_states_user_can_moderate(self, user: Any, **kwargs: Any) -> Any:
        if not self._in_group(user):
            return TaskState.objects.none()
        states = self.task_states.filter(status=TaskState.STATUS_IN_PROGRESS)
        # The dashboard lists what they can act on: not their own submissions.
        return states.exclude(workflow_state__requested_by=user).exclude(revision__user=user)

    def on_action(self, task_state: Any, user: Any, action_name: str, **kwargs: Any) -> Any:
        obj = task_state.workflow_state.content_object
        reason = self.refusal(obj, user)
        if reason is None and action_name == "approve" and self.step == SignOffStep.CLINICAL_REVIEW:
            # The claim audit (articles/claim_review.py): no clinical approval over open
            # findings, unless a clinician overrode each with a written reason.
            from .claim_review import clinical_approval_refusal

            reason = clinical_approval_refusal(obj, task_state.revision.as_object())
        if reason is not None:
            raise SignOffTaskError(reason)
        return super().on_action(task_state, user, action_name, **kwargs)

    @classmethod
    def get_description(cls) -> str:
        return (
            "Members of the chosen group approve this step; nobody approves a version they "
            "wrote or submitted."
        )
