"""The dashboard's "Awaiting your review" panel, with each row's step written out.

Wagtail's panel shows a workflow's steps as icons whose names are only in a tooltip, so a
clinician could not see at a glance which rows are "Clinical review" and which "Editorial
sign-off". This panel reads the same rows (Wagtail's own `get_context_data`, which lists only
what the user may act on: `SignOffTask.get_task_states_user_can_moderate` leaves out their own
submissions) and shows the current step and each step's status as text.
"""

from __future__ import annotations

from typing import Any

from wagtail.admin.views.home import WorkflowObjectsToModeratePanel


class ReviewQueuePanel(WorkflowObjectsToModeratePanel):
    template_name = "articles/dashboard/review_queue.html"


def with_review_queue(panels: list[Any]) -> None:
    """Replace Wagtail's review panel by ours, in place (construct_homepage_panels)."""
    for index, panel in enumerate(panels):
        if type(panel) is WorkflowObjectsToModeratePanel:
            panels[index] = ReviewQueuePanel()
