"""Which pages need a clinical review: overdue by date, or the evidence changed since the review.

The evidence date of a topic is the newest `updated_at` among its reported cases and its
publications (the same rows the synthesis reads), computed in the database with two correlated
subqueries, so the report costs a fixed number of queries whatever the number of pages.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, replace
from typing import Any

from django.db.models import DateTimeField, F, Max, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce, Greatest, TruncDate
from django.utils import timezone

from evidencepress.evidence.models import Publication, ReportedPatient

from .evidence_pins import prefetch_states
from .models import ArticlePage, TopicPage

_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)


def evidence_updated_at(topic_ref: str = "topic_id") -> Any:
    """An expression: the newest updated_at of the cases and publications of OuterRef(topic_ref)."""
    cases = (
        ReportedPatient.objects.filter(topic_id=OuterRef(topic_ref))
        .order_by()
        .values("topic_id")
        .annotate(newest=Max("updated_at"))
        .values("newest")
    )
    publications = (
        Publication.topics.through.objects.filter(topic_id=OuterRef(topic_ref))
        .order_by()
        .values("topic_id")
        .annotate(newest=Max("publication__updated_at"))
        .values("newest")
    )
    epoch = Value(_EPOCH, output_field=DateTimeField())
    return Greatest(
        Coalesce(Subquery(cases, output_field=DateTimeField()), epoch),
        Coalesce(Subquery(publications, output_field=DateTimeField()), epoch),
    )


def topic_evidence_date(topic_id: int) -> datetime.datetime | None:
    """When the evidence of a topic last changed (None when it has no cases or publications)."""
    newest = [
        ReportedPatient.objects.filter(topic_id=topic_id).aggregate(m=Max("updated_at"))["m"],
        Publication.objects.filter(topics=topic_id).aggregate(m=Max("updated_at"))["m"],
    ]
    dates = [value for value in newest if value is not None]
    return max(dates) if dates else None


def evidence_changed_after_review(page: Any) -> datetime.datetime | None:
    """The evidence date when it is later than the page's last review day, else None.

    A page never reviewed is not flagged here (it is not "changed after the review"); the
    review workflow covers it.
    """
    topic_id = getattr(page, "topic_id", None)
    last_reviewed = getattr(page, "last_reviewed", None)
    if topic_id is None or last_reviewed is None:
        return None
    changed = topic_evidence_date(topic_id)
    if changed is None:
        return None
    if timezone.localdate(changed) > last_reviewed:
        return changed
    return None


@dataclass(frozen=True, slots=True)
class ReviewDue:
    """One page in the "Review due" report, with why it is listed."""

    page: Any
    overdue: bool
    evidence_changed_at: datetime.datetime | None
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
        if self.evidence_changed_at is not None:
            out.append(
                f"Evidence changed on {timezone.localdate(self.evidence_changed_at):%-d %B %Y},"
                " after the last review"
            )
        if self.evidence_difference:
            out.append(f"Evidence changed since its clinical review: {self.evidence_difference}")
        if self.never_reviewed:
            out.append("Its evidence was never clinically reviewed: the page shows no numbers")
        return out

    @property
    def reasons_text(self) -> str:
        return "; ".join(self.reasons)


def pages_due_for_review(today: datetime.date | None = None) -> list[ReviewDue]:
    """Topic and article pages whose review date has passed or whose evidence changed since.

    Ordered with the longest overdue first, then by title.
    """
    today = today or timezone.localdate()
    due: list[ReviewDue] = []
    for model in (TopicPage, ArticlePage):
        pages = (
            model.objects.annotate(evidence_at=evidence_updated_at("topic_id"))
            .annotate(evidence_day=TruncDate("evidence_at"))
            .filter(
                Q(next_review_due__lt=today)
                | Q(
                    last_reviewed__isnull=False,
                    topic__isnull=False,
                    evidence_at__gt=_EPOCH,
                    evidence_day__gt=F("last_reviewed"),
                )
            )
            .select_related("reviewed_by")
        )
        for page in pages:
            changed = page.evidence_at if page.last_reviewed and page.evidence_at > _EPOCH else None
            if changed is not None and timezone.localdate(changed) <= page.last_reviewed:
                changed = None
            overdue = bool(page.next_review_due and page.next_review_due < today)
            due.append(ReviewDue(page=page, overdue=overdue, evidence_changed_at=changed))
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
                overdue = False
                listed[page.pk] = len(due)
                due.append(ReviewDue(page=page, overdue=overdue, evidence_changed_at=None, **extra))
    return due
