"""Create the clinical review workflow and assign it to every topic page (idempotent)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from evidencepress.articles.services import REVIEW_STEPS, review_workflow_ensure


class Command(BaseCommand):
    help = "Create the 'Clinical review' → 'Editorial sign-off' workflow and assign it to topics."

    def handle(self, *args: Any, **options: Any) -> None:
        workflow = review_workflow_ensure()
        steps = " → ".join(f"{task} ({group})" for task, group in REVIEW_STEPS)
        pages = workflow.workflow_pages.count()
        self.stdout.write(
            f"Workflow '{workflow.name}': {steps}; assigned to {pages} topic page(s)."
        )
