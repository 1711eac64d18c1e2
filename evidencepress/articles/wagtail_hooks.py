"""Wagtail hooks for the public pages."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from wagtail import hooks

# --- publishing (articles helper) ---
from .models import TopicPage
from .services import is_under_review_workflow, review_workflow_assign


@hooks.register("before_publish_page")
def require_review_before_publishing(request: HttpRequest, page: Any) -> HttpResponse | None:
    """Pages under clinical review are published only by the workflow, after both approvals."""
    if not is_under_review_workflow(page):
        return None
    messages.error(
        request,
        f"'{page.get_admin_display_title()}' was saved as a draft but not published: it must "
        "pass clinical review and editorial sign-off first. Use 'Submit for review'.",
    )
    return redirect("wagtailadmin_pages:edit", page.pk)


@hooks.register("before_bulk_action")
def refuse_bulk_publishing_under_review(
    request: HttpRequest, action_type: str, objects: list[Any], action_class_instance: Any
) -> HttpResponse | None:
    """The bulk "Publish" in page listings may not skip the review either."""
    if action_type != "publish":
        return None
    held = [page for page in objects if is_under_review_workflow(page)]
    if not held:
        return None
    messages.error(
        request,
        f"Nothing was published: {len(held)} of the selected pages must pass clinical review "
        "and editorial sign-off first. Use 'Submit for review' on each.",
    )
    return redirect("wagtailadmin_explore", held[0].get_parent().pk)


@hooks.register("after_create_page")
def put_new_topic_under_review(request: HttpRequest, page: Any) -> None:
    """A new topic page (and its future articles) joins the review workflow."""
    if isinstance(page.specific, TopicPage):
        review_workflow_assign(page=page.specific)


# --- site (site helper) ---
# The "Review due" report, and a warning on the edit view of a page whose topic's evidence
# changed after its last clinical review (evidencepress/articles/review_due.py).

from django.urls import path as _url_path  # noqa: E402
from django.urls import reverse as _reverse  # noqa: E402
from wagtail.admin.menu import MenuItem as _MenuItem  # noqa: E402

from .reports import ReviewDueReportView  # noqa: E402
from .review_due import evidence_changed_after_review  # noqa: E402


@hooks.register("register_admin_urls")
def register_review_due_report_urls() -> list[Any]:
    return [
        _url_path("reports/review-due/", ReviewDueReportView.as_view(), name="articles_review_due"),
        _url_path(
            "reports/review-due/results/",
            ReviewDueReportView.as_view(results_only=True),
            name="articles_review_due_results",
        ),
    ]


@hooks.register("register_reports_menu_item")
def register_review_due_report_menu_item() -> _MenuItem:
    return _MenuItem(
        "Review due",
        _reverse("articles_review_due"),
        name="review-due",
        icon_name=ReviewDueReportView.header_icon,
        order=650,
    )


@hooks.register("before_edit_page")
def warn_when_evidence_changed_after_review(request: HttpRequest, page: Any) -> None:
    """On opening the editor: say so when the topic's evidence is newer than the last review."""
    if request.method != "GET":
        return
    changed = evidence_changed_after_review(page.specific)
    if changed is None:
        return
    reviewed = page.specific.last_reviewed
    messages.warning(
        request,
        f"The evidence for this topic changed after the last clinical review on "
        f"{reviewed:%-d %B %Y} (latest change: {changed:%-d %B %Y}). Ask a clinical reviewer "
        "to check the page again.",
    )
