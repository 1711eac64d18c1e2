"""The article edit form: refuses submission for review while a required section is empty."""

from __future__ import annotations

from typing import Any

from wagtail.admin.forms import WagtailAdminPageForm

# The buttons of Wagtail's page editor that start or restart the moderation workflow.
SUBMIT_ACTIONS = ("action-submit", "action-restart-workflow")


class ArticlePageForm(WagtailAdminPageForm):
    """Drafts save with any content; submitting for review needs every required section."""

    def is_submission(self) -> bool:
        return any(self.data.get(action) for action in SUBMIT_ACTIONS)

    def clean(self) -> dict[str, Any]:
        cleaned_data: dict[str, Any] = super().clean()
        if self.is_submission() and "body" in cleaned_data:
            from .blocks import missing_required_sections

            missing = missing_required_sections(cleaned_data["body"])
            if missing:
                self.add_error(
                    "body",
                    "Before this article can go to clinical review, add these sections: "
                    + ", ".join(missing)
                    + ". Your changes were not saved; remove nothing and save a draft instead "
                    "if you are not ready.",
                )
        return cleaned_data
