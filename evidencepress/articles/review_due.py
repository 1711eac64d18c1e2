"""Which pages need a clinical review: overdue by date, or their evidence changed since the
review.

"Changed since the review" is one comparison, the one the public page makes: the page's pinned
evidence (`articles.evidence_pins`, the snapshot its clinician approved) against the topic's
current evidence. A saved row whose content did not change is no change; a live page whose
evidence was never pinned is listed as never reviewed. The page editor's warning
(`evidence_pins.warn_when_pinned_evidence_is_outdated`) says the same.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, replace
from typing import Any

from django.utils import timezone

from .evidence_pins import prefetch_states
from .models import ArticlePage, TopicPage


@dataclass(frozen=True, slots=True)
class ReviewDue:
    """One page in the "Review due" report, with why it is listed."""

    page: Any
    overdue: bool
    # From the pinned evidence (articles.evidence_pins): what changed since the clinician
    # reviewed the numbers the public page shows, or that they were never reviewed.
    evidence_difference: str = ""
    never_reviewed: bool = False

    @property
    def title(self) -> str:
        return str(self.page.title)

    @property
    def kind(self) -> str:
        return str(self.page._meta.verbose_name).capitalize()

    @property
    def last_reviewed(self) -> datetime.date | None:
        return self.page.last_reviewed  # type: ignore[no-any-return]

    @property
    def next_review_due(self) -> datetime.date | None:
        return self.page.next_review_due  # type: ignore[no-any-return]

    @property
    def reasons(self) -> list[str]:
        out = []
        if self.overdue:
            out.append(f"Review was due on {self.page.next_review_due:%-d %B %Y}")
        if self.evidence_difference:
            out.append(f"Evidence changed since its clinical review: {self.evidence_difference}")
        if self.never_reviewed:
            out.append("Its evidence was never clinically reviewed: the page shows no numbers")
        return out

    @property
    def reasons_text(self) -> str:
        return "; ".join(self.reasons)


def pages_due_for_review(today: datetime.date | None = None) -> list[ReviewDue]:
    """Topic and article pages whose review date has passed, and live ones whose pinned
    evidence differs from the current evidence or was never pinned.

    Ordered by next review date (none last), then by title.
    """
    today = today or timezone.localdate()
    due: list[ReviewDue] = []
    for model in (TopicPage, ArticlePage):
        pages = model.objects.filter(next_review_due__lt=today).select_related("reviewed_by")
        due.extend(ReviewDue(page=page, overdue=True) for page in pages)
    due = _with_pinned_evidence(due)
    due.sort(key=lambda item: (item.next_review_due or datetime.date.max, item.title))
    return due


def _with_pinned_evidence(due: list[ReviewDue]) -> list[ReviewDue]:
    """Add the live pages whose public numbers wait for a clinical review: the evidence changed
    since the pinned snapshot (with the difference), or none was ever pinned. One query per
    page type and one for the pins; each snapshot's difference is computed once."""
    listed = {item.page.pk: i for i, item in enumerate(due)}
    for model in (TopicPage, ArticlePage):
        pages = list(
            model.objects.live().filter(topic__isnull=False).select_related("topic", "reviewed_by")
        )
        prefetch_states(pages)
        for page in pages:
            state = page.evidence_state
            if state.snapshot is None:
                extra = {"never_reviewed": True}
            elif state.changed and state.difference is not None:
                text = state.difference.numbers_text or state.difference.plain_words
                extra = {"evidence_difference": text}
            else:
                continue
            if page.pk in listed:
                index = listed[page.pk]
                due[index] = replace(due[index], **extra)
            else:
                listed[page.pk] = len(due)
                due.append(ReviewDue(page=page, overdue=False, **extra))
    return due
