"""The publishing rule: topic and article pages go live only by completing the clinical review.

Once the review workflow is set up (`services.review_workflow_ensure`, i.e. a `SignOffTask`
exists), a revision of a `TopicPage` or `ArticlePage` becomes live only if both steps, clinical
review and editorial sign-off, approved **that revision** in one workflow run. The rule is
enforced where every path passes, not in one view:

1. **Permissions** (`ReviewedPagePermissionTester`, Wagtail's page permission tester that our
   page models return from `permissions_for_user`): `can_publish()` is False on these pages for
   everyone, superusers included, and `can_publish_subpage()` is False on their parents. Wagtail's
   edit view (no Publish button), bulk publish, the admin API's publish, copy-with-publish and
   create-alias actions, and create-and-publish all ask these two.
2. **The model** (`ReviewedPublishingMixin.publish` / `.save`): `page.publish(revision)`
   (`Revision.publish`, scheduled go-live, the workflow's finish action) refuses a revision that
   was not approved, before anything is scheduled; and saving a page row that becomes live, or
   points its live revision elsewhere, refuses unless that revision was approved. Wagtail's
   publish actions (called directly by the admin API and bulk actions), copy "keep live",
   aliases and create-and-publish (which insert the row already live) all end in that save.
   `UnreviewedPublishError` is a `PermissionDenied`, so views answer 403.
3. **The workflow** (`WAGTAIL_WORKFLOW_REQUIRE_REAPPROVAL_ON_EDIT`, `signoff.SignOffTask`,
   `workflow_actions.publish_approved`): any edit after an approval sends the page back to the
   first step; nobody approves their own text; the last approval publishes the approved revision
   and nothing else.

The one way round is `system_publishing(reason)`, a context for trusted code that is not a
person's request (the demo loader); it is logged. See docs/publishing.md, "Publish paths".
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from contextvars import ContextVar
from typing import Any

from django.core.exceptions import PermissionDenied
from django.utils.functional import cached_property
from wagtail.models import PagePermissionTester

logger = logging.getLogger(__name__)

_system_reason: ContextVar[str | None] = ContextVar("system_publishing", default=None)


class UnreviewedPublishError(PermissionDenied):
    """A revision of a reviewed page was about to go live without both approvals."""


@contextlib.contextmanager
def system_publishing(reason: str) -> Iterator[None]:
    """Let trusted code (not a person's request) publish reviewed pages directly, e.g. the demo
    loader. Each use is logged with its reason."""
    if not reason.strip():
        raise ValueError("system_publishing needs a reason")
    logger.info("Publishing outside the clinical review: %s", reason)
    token = _system_reason.set(reason)
    try:
        yield
    finally:
        _system_reason.reset(token)


def review_is_set_up() -> bool:
    """True once the review workflow's tasks exist (they are never deleted, only disabled)."""
    from .signoff import SignOffTask

    return SignOffTask.objects.exists()


def requires_review(page: Any) -> bool:
    """True if `page` may go live only through the clinical review workflow."""
    return isinstance(page, ReviewedPublishingMixin) and review_is_set_up()


def approved_revision(*, page: Any, revision: Any) -> bool:
    """True if one finished run of the review workflow approved `revision` at every step."""
    from wagtail.models import TaskState, WorkflowState

    from .signoff import SignOffStep

    runs: set[int] | None = None
    for step in SignOffStep.values:
        approved = set(
            TaskState.objects.filter(
                workflow_state__base_content_type=page.get_base_content_type(),
                workflow_state__object_id=str(page.pk),
                workflow_state__status=WorkflowState.STATUS_APPROVED,
                task__signofftask__step=step,
                revision_id=revision.pk,
                status=TaskState.STATUS_APPROVED,
            ).values_list("workflow_state_id", flat=True)
        )
        runs = approved if runs is None else runs & approved
    return bool(runs)


def check_may_go_live(*, page: Any, revision: Any | None) -> None:
    """Raise UnreviewedPublishError unless `revision` of `page` may become live now."""
    if not requires_review(page) or _system_reason.get() is not None:
        return
    if revision is not None and approved_revision(page=page, revision=revision):
        return
    title = page.get_admin_display_title() if page.pk else page.title
    raise UnreviewedPublishError(
        f"'{title}' was not published: this version has not passed clinical review and "
        "editorial sign-off. Use 'Submit for review'."
    )


class ReviewedPagePermissionTester(PagePermissionTester):
    """Wagtail's page permissions, with publishing left to the review workflow."""

    @cached_property
    def _reviewed(self) -> bool:
        return requires_review(self.page)

    @cached_property
    def _children_reviewed(self) -> bool:
        specific_class = self.page.specific_class
        return bool(
            specific_class is not None
            and any(
                issubclass(model, ReviewedPublishingMixin)
                for model in specific_class.creatable_subpage_models()
            )
            and review_is_set_up()
        )

    def can_publish(self) -> bool:
        return not self._reviewed and super().can_publish()

    def can_publish_subpage(self) -> bool:
        # Create-and-publish, copy with "publish copies" and aliases would put a new reviewed
        # page live in one step.
        return not self._children_reviewed and super().can_publish_subpage()

    def can_unschedule(self) -> bool:
        # Cancelling a scheduled go-live only withdraws: Wagtail's publish permission suffices.
        return super().can_publish()

    def can_set_view_restrictions(self) -> bool:
        return super().can_publish()

    def can_move(self) -> bool:
        # Wagtail's rule (as deleting); moving changes the URL, never the live text.
        return super().can_delete(ignore_bulk=True)

    def can_delete(self, ignore_bulk: bool = False) -> bool:
        # Signed-off text leaves readers by a reasoned unpublish first (see below).
        return not deletion_blocked(self.page) and super().can_delete(ignore_bulk=ignore_bulk)


class ReviewPermissionsMixin:
    """Page models whose permissions follow the publishing rule (see the module docstring)."""

    def permissions_for_user(self, user: Any) -> PagePermissionTester:
        return ReviewedPagePermissionTester(user, self)


class ReviewedPublishingMixin(ReviewPermissionsMixin):
    """Topic and article pages: published only through the clinical review workflow."""

    def get_workflow(self) -> Any:
        """The review workflow once it is set up, whatever is assigned in the admin (a copied
        topic page has no assignment; another workflow must not replace the review)."""
        if not review_is_set_up():
            return super().get_workflow()  # type: ignore[misc]
        from .services import review_workflow

        workflow = review_workflow()
        return workflow if workflow is not None and workflow.active else None

    def publish(self, revision: Any, *args: Any, **kwargs: Any) -> Any:
        check_may_go_live(page=self, revision=revision)
        return super().publish(revision, *args, **kwargs)  # type: ignore[misc]

    def save(self, *args: Any, **kwargs: Any) -> Any:
        # The row is what readers see. Every way of making a page live ends in this save:
        # Wagtail's publish actions (which the admin API and bulk actions call directly, not
        # through publish()), scheduled go-live, and creating a page (create view, copy, alias),
        # which inserts the row already live before publishing. So a live row may only point at
        # an approved revision.
        if self.live and self._goes_live_now():  # type: ignore[attr-defined]
            check_may_go_live(page=self, revision=self.live_revision)  # type: ignore[attr-defined]
        return super().save(*args, **kwargs)  # type: ignore[misc]

    def _goes_live_now(self) -> bool:
        if self._state.adding or self.pk is None:  # type: ignore[attr-defined]
            return True
        stored = (
            type(self)
            .objects.filter(pk=self.pk)  # type: ignore[attr-defined]
            .values_list("live", "live_revision_id")
            .first()
        )
        return stored is None or stored != (True, self.live_revision_id)  # type: ignore[attr-defined]


# --- Withdrawing a reviewed page: unpublish and delete ------------------------------------
# Taking a signed-off page away from readers cannot put unreviewed text live, so it is not part
# of the review; it must still be accountable. A live reviewed page is unpublished only with a
# reason (one of these codes: the audit log keeps codes, never free text), given on Wagtail's
# unpublish confirmation page or in the admin API's unpublish body; bulk unpublish, which has no
# reason, refuses such pages; and a page is deleted only once it and its pages below are
# unpublished (so every deletion of signed-off text went through a reasoned unpublish).

WITHDRAWAL_REASONS = {
    "clinical_safety": "Clinical safety concern",
    "factual_error": "Factual error",
    "out_of_date": "Out of date or superseded",
    "legal_or_consent": "Legal, licence or consent issue",
    "created_in_error": "Duplicate or created in error",
}


def withdrawal_needs_reason(page: Any) -> bool:
    """True if unpublishing `page` must give a reason (it is a live reviewed page)."""
    return bool(getattr(page, "live", False)) and requires_review(page)


def deletion_blocked(page: Any) -> bool:
    """True if `page` or a page below it is a live reviewed page (unpublish those first)."""
    if not review_is_set_up():
        return False
    if withdrawal_needs_reason(page):
        return True
    from .models import ArticlePage, TopicPage

    below = page.get_descendants().live()
    return below.type(TopicPage).exists() or below.type(ArticlePage).exists()
