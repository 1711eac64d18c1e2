"""What happens when a workflow finishes (settings.WAGTAIL_FINISH_WORKFLOW_ACTION).

Imported by Wagtail while its models load, so it imports nothing at module level.
"""

from __future__ import annotations

from typing import Any


def publish_approved(workflow_state: Any, user: Any = None) -> None:
    """Publish the approved revision.

    For the clinical review workflow, passing both steps is the permission to publish: the
    editor who gives the final sign-off need not hold a page publish permission (the Editors
    role does not, see core/roles.py). Other workflows keep Wagtail's default behaviour.
    """
    from wagtail.workflows import publish_workflow_state

    from .services import WORKFLOW_NAME

    if workflow_state.workflow.name != WORKFLOW_NAME:
        publish_workflow_state(workflow_state, user=user)
        return
    revision = workflow_state.content_object.get_latest_revision()
    revision.publish(user=user, skip_permission_checks=True)
