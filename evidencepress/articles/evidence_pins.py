"""The evidence a page shows is the evidence its clinician reviewed.

When the "Clinical review" task (articles.services.REVIEW_STEPS, matched by name, whatever
its task class) approves a page revision, `pin_on_clinical_approval` stores the topic's evidence
as an immutable `evidence.EvidenceSnapshot` and links it to that revision (`PageEvidencePin`).
The public page then renders from the newest pin at or before its live revision, with "Evidence
as of DATE, reviewed by NAME on DATE"; when the topic's evidence has changed since, the page
says so in plain words and the page is listed in the Review due report with the difference.
Re-approval pins the new evidence. A page never reviewed shows no numbers at all. Previews show
the current evidence, which is what the clinician is asked to approve.

The evidence app knows nothing of pages: the link lives here, and the pin service calls
`evidence.services.evidence_snapshot_take`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.contrib import messages
from django.db import transaction
from django.db.models import Q
from django.dispatch import receiver
from django.utils.functional import cached_property
from wagtail import hooks
from wagtail.models import Revision, TaskState
from wagtail.signals import task_approved

from evidencepress.core.content_version import VersionedMemo, current_version
from evidencepress.evidence.models import EvidenceSnapshot
from evidencepress.evidence.services import (
    evidence_snapshot_take,
    snapshot_difference,
    snapshot_key,
    snapshot_report,
)
from evidencepress.evidence.snapshots import EvidenceDifference
from evidencepress.evidence.topic_reports import TopicReport, topic_report

from .services import REVIEW_STEPS

if TYPE_CHECKING:
    from .models import PageEvidencePin

logger = logging.getLogger(__name__)

CLINICAL_REVIEW_TASK = REVIEW_STEPS[0][0]
_differences = VersionedMemo(size=64)


@dataclass
class EvidenceState:
    """What evidence a page shows: the reviewed snapshot, or (preview) the current evidence."""

    topic: Any
    snapshot: EvidenceSnapshot | None = None
    preview: bool = False
    _report: TopicReport | None = field(default=None, repr=False)

    @cached_property
    def report(self) -> TopicReport | None:
        """The report the page shows: None when the page has no topic or was never reviewed."""
        if self.topic is None:
            return None
        if self.preview:
            return self._report or topic_report(self.topic)
        if self.snapshot is None:
            return None
        return snapshot_report(self.snapshot)

    @property
    def has_topic(self) -> bool:
        return self.topic is not None

    @property
    def awaiting_first_review(self) -> bool:
        return self.topic is not None and self.snapshot is None and not self.preview

    @cached_property
    def current(self) -> TopicReport | None:
        return None if self.topic is None else topic_report(self.topic)

    @cached_property
    def difference(self) -> EvidenceDifference | None:
        """How the current evidence differs from the reviewed snapshot (None: not pinned)."""
        if self.snapshot is None or self.topic is None:
            return None
        snapshot, current = self.snapshot, self.current
        return _differences.get(
            current_version(),
            snapshot_key(snapshot),
            lambda: snapshot_difference(snapshot, current),
        )

    @property
    def changed(self) -> bool:
        difference = self.difference
        return bool(difference and difference.changed)


def _topic(page: Any) -> Any:
    return page.topic if getattr(page, "topic_id", None) is not None else None


def _in_effect(pin: PageEvidencePin, page: Any) -> bool:
    """A Clinical review pin takes effect with the publish that follows it (after Editorial
    sign-off), not when the clinician approves a revision that happens to be live already."""
    if pin.task_state_id is None:
        return True  # pinned to the live revision by a service (the demo loader)
    published = getattr(page, "last_published_at", None)
    return published is not None and pin.created_at <= published


def _newest_pin(pins: Iterable[PageEvidencePin], page: Any) -> PageEvidencePin | None:
    """The newest pin at or before the page's live revision, for the page's current topic,
    that has been published."""
    live = getattr(page, "live_revision_id", None)
    best = None
    for pin in pins:
        if pin.page_id != page.pk or live is None or pin.revision_id > live:
            continue
        if pin.snapshot.topic_id != page.topic_id:
            continue  # reviewed for another topic: not this page's evidence
        if not _in_effect(pin, page):
            continue
        if best is None or (pin.revision_id, pin.pk) > (best.revision_id, best.pk):
            best = pin
    return best


def _pins_query(page_ids: Iterable[int]) -> Any:
    from .models import PageEvidencePin

    # The snapshot's case data (megabytes for a large topic) is read only when this process
    # has not rebuilt its report yet (evidence.services.snapshot_report keeps it).
    return (
        PageEvidencePin.objects.filter(page_id__in=list(page_ids))
        .select_related("snapshot", "snapshot__topic")
        .defer(
            "snapshot__cases", "snapshot__appraisals", "snapshot__questions", "snapshot__numbers"
        )
    )


def published_state(page: Any) -> EvidenceState:
    """The evidence the published page shows (one query for the pin)."""
    topic = _topic(page)
    if topic is None or page.pk is None or getattr(page, "live_revision_id", None) is None:
        return EvidenceState(topic=topic)
    in_effect = Q(task_state__isnull=True)
    if page.last_published_at is not None:
        in_effect |= Q(created_at__lte=page.last_published_at)
    pin = (
        _pins_query([page.pk])
        .filter(in_effect, revision_id__lte=page.live_revision_id, snapshot__topic_id=page.topic_id)
        .order_by("-revision_id", "-pk")
        .first()
    )
    return EvidenceState(topic=topic, snapshot=pin.snapshot if pin else None)


def preview_state(page: Any) -> EvidenceState:
    """A preview shows the current evidence (what the reviewer approves), noting the pin."""
    state = published_state(page) if page.pk else EvidenceState(topic=_topic(page))
    state.preview = True
    return state


def prefetch_states(pages: list[Any]) -> None:
    """Read the pins of many pages in one query, and share reports between pages that show
    the same snapshot (archive listings)."""
    pins = list(_pins_query(page.pk for page in pages))
    for page in pages:
        pin = _newest_pin(pins, page)
        topic = _topic(page)
        page.__dict__["evidence_state"] = EvidenceState(
            topic=topic, snapshot=pin.snapshot if pin else None
        )


# --- pinning -----------------------------------------------------------------------------


def _pinnable(page: Any) -> bool:
    from .models import ArticlePage, TopicPage

    return isinstance(page, TopicPage | ArticlePage) and page.topic_id is not None


@transaction.atomic
def page_evidence_pin(
    *,
    revision: Revision,
    user: Any = None,
    reviewer_name: str = "",
    task_state: TaskState | None = None,
) -> PageEvidencePin | None:
    """Pin the topic's current evidence to a page revision, as reviewed by `user` (or
    `reviewer_name`), for one approval (`task_state`: an approval pins once). The topic is the
    one the revision names. None for a page without evidence."""
    from .models import PageEvidencePin

    if task_state is not None:
        existing = PageEvidencePin.objects.filter(task_state=task_state).first()
        if existing is not None:
            return existing
    page = revision.as_object()
    if not _pinnable(page):
        return None
    snapshot = evidence_snapshot_take(
        topic=page.topic, reviewed_by=user, reviewer_name=reviewer_name
    )
    pin = PageEvidencePin.objects.create(
        page_id=revision.object_id, revision=revision, snapshot=snapshot, task_state=task_state
    )
    return pin


def page_evidence_pin_live(*, page: Any, user: Any = None, reviewer_name: str = "") -> Any:
    """Pin the current evidence to a published page's live revision (the demo loader, after a
    review recorded elsewhere). Returns the pin, or None for a page without evidence."""
    live = type(page).objects.filter(pk=page.pk).values_list("live_revision_id", flat=True).first()
    if live is None:
        return None
    revision = Revision.objects.get(pk=live)
    pin = page_evidence_pin(revision=revision, user=user, reviewer_name=reviewer_name)
    page.__dict__.pop("evidence_state", None)
    page.__dict__.pop("evidence_report", None)
    return pin


@receiver(task_approved, dispatch_uid="articles_pin_on_clinical_approval")
def pin_on_clinical_approval(sender: Any, instance: Any, user: Any = None, **kwargs: Any) -> None:
    """Clinical review approved: pin the evidence the clinician saw to the approved revision.

    `instance` is the approved TaskState; the task is matched by name, whatever its class."""
    task = getattr(instance, "task", None)
    if getattr(task, "name", None) != CLINICAL_REVIEW_TASK or instance.revision_id is None:
        return
    pin = page_evidence_pin(revision=instance.revision, user=user, task_state=instance)
    if pin is not None:
        logger.info(
            "Evidence pinned to revision %s (snapshot %s)", pin.revision_id, pin.snapshot_id
        )


@hooks.register("before_edit_page")
def warn_when_pinned_evidence_is_outdated(request: Any, page: Any) -> None:
    """On opening the editor: the reviewed evidence the page shows, and what changed since."""
    if request.method != "GET":
        return
    specific = page.specific
    if not _pinnable(specific) or not specific.live:
        return
    state = published_state(specific)
    if state.snapshot is None:
        messages.warning(
            request,
            "The published page shows no numbers: its evidence has not passed Clinical review.",
        )
    elif state.changed and state.difference is not None:
        snapshot = state.snapshot
        messages.warning(
            request,
            f"The published page shows the evidence reviewed by {snapshot.reviewer_name} on "
            f"{snapshot.taken_at:%-d %B %Y}. Since then: "
            f"{state.difference.numbers_text or state.difference.plain_words} "
            "Submit the page for Clinical review to publish the new numbers.",
        )
