"""What happens when a workflow finishes (settings.WAGTAIL_FINISH_WORKFLOW_ACTION).

Imported by Wagtail while its models load, so it imports nothing at module level.
"""

from __future__ import annotations

from typing import Any


def publish_approved(workflow_state: Any, user: Any = None) -> None:
    """Publish the revision the workflow approved, never a later one.

    For the clinical review workflow, passing both steps is the permission to publish: the
    editor who gives the final sign-off need not hold a page publish permission (the Editors
    role does not, see core/roles.py). The revision published is the one the last step approved
    (the workflow state's current task revision); with WAGTAIL_WORKFLOW_REQUIRE_REAPPROVAL_ON_EDIT
    every step approved that same revision. If the page changed after it, nothing is published
    and the approval is rolled back (`page.publish` checks the approvals again,
    articles/publishing.py). Other workflows keep Wagtail's default behaviour.
    """
    from wagtail.workflows import publish_workflow_state

    from .publishing import UnreviewedPublishError
    from .services import review_workflow

    review = review_workflow()
    if review is None or workflow_state.workflow_id != review.pk:
        publish_workflow_state(workflow_state, user=user)
        return
    page = workflow_state.content_object
    approved = workflow_state.current_task_state.revision
    if page.get_latest_revision().pk != approved.pk:
        raise UnreviewedPublishError(
            f"'{page.get_admin_display_title()}' changed after it was approved: it goes back "
            "to clinical review."
        )
    approved.publish(user=user, skip_permission_checks=True)
