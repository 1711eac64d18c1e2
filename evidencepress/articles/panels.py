"""Admin panels for articles: the reading level of the saved text, shown while editing."""

from __future__ import annotations

from typing import Any

from wagtail.admin.panels import Panel

# What we aim for: the design asks for reading grade 8 for readers; the demo article must be ≤ 9.
TARGET_GRADE = 8


class ReadingLevelPanel(Panel):
    """Flesch–Kincaid grade and SMOG of the article as last saved (textstat)."""

    class BoundPanel(Panel.BoundPanel):
        template_name = "articles/panels/reading_level.html"

        def get_context_data(self, parent_context: Any = None) -> dict[str, Any]:
            context: dict[str, Any] = super().get_context_data(parent_context)
            instance = self.instance
            level = instance.reading_level() if instance is not None and instance.pk else None
            context.update(
                level=level,
                target=TARGET_GRADE,
                too_hard=bool(level and level.grade > TARGET_GRADE),
            )
            return context


class ClaimAuditPanel(Panel):
    """The claim audit's findings on the saved text (articles/claim_review.py), with the
    clinicians' overrides and a link to override a finding with a written reason."""

    class BoundPanel(Panel.BoundPanel):
        template_name = "articles/panels/claim_audit.html"

        def get_context_data(self, parent_context: Any = None) -> dict[str, Any]:
            from .claim_review import open_findings
            from .models import ClaimAuditOverride

            context: dict[str, Any] = super().get_context_data(parent_context)
            instance = self.instance
            saved = instance is not None and instance.pk
            context.update(
                saved=bool(saved),
                page_id=instance.pk if saved else None,
                findings=open_findings(instance) if saved else [],
                overrides=list(ClaimAuditOverride.objects.filter(page_id=instance.pk))
                if saved
                else [],
            )
            return context
