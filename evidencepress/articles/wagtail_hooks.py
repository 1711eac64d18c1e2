"""Wagtail hooks for the public pages."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest
from wagtail import hooks

# --- publishing (articles helper) ---
# Publishing is refused by the page permission tester and the page model (articles/publishing.py),
# on every path; these hooks only explain it to the editor and word the approval messages.
from .models import TopicPage
from .services import is_under_review_workflow, review_workflow_assign


def _explain_draft(request: HttpRequest, page: Any) -> None:
    publishing = request.method == "POST" and request.POST.get("action-publish")
    if publishing and is_under_review_workflow(page):
        messages.warning(
            request,
            f"'{page.get_admin_display_title()}' was saved as a draft, not published: it "
            "goes live when it has passed clinical review and editorial sign-off. Use "
            "'Submit for review'.",
        )


def _reword_approval(request: HttpRequest, page: Any) -> None:
    """Wagtail says "Page '…' has been updated." after an approval: say what was approved."""
    from wagtail.models import TaskState

    if request.POST.get("workflow-action-name") != "approve":
        return
    approved = (
        TaskState.objects.for_instance(page)
        .filter(status=TaskState.STATUS_APPROVED, finished_by=request.user)
        .order_by("-finished_at", "-pk")
        .select_related("task")
        .first()
    )
    if approved is None:
        return
    title = page.get_admin_display_title()
    page.refresh_from_db()
    current = page.current_workflow_task
    if current is not None:
        text = f"'{title}': {approved.task.name} approved. Next step: {current.name}."
        if page.latest_revision_id != approved.revision_id:
            text += (
                " The page was changed after the version you approved, so the changes go "
                "through every step again."
            )
    elif page.live and page.live_revision_id == approved.revision_id:
        text = f"'{title}': {approved.task.name} approved. The page is now published."
    else:
        text = f"'{title}': {approved.task.name} approved."
    queued = list(messages.get_messages(request))  # read (and so clear) what Wagtail queued
    for message in queued:
        if "has been updated" in str(message):
            continue
        messages.add_message(request, message.level, message.message, extra_tags=message.tags)
    messages.success(request, text)


@hooks.register("after_edit_page")
def explain_publishing_under_review(request: HttpRequest, page: Any) -> None:
    _explain_draft(request, page)
    if request.POST.get("action-workflow-action"):
        _reword_approval(request, page)


@hooks.register("before_create_page")
def show_own_drafts_here(request: HttpRequest, parent_page: Any, page_class: Any) -> None:
    """Wagtail 8 autosaves a new page as a draft as soon as something is typed. Name the
    user's never-published drafts under this parent, with a link, so a second "Add child page"
    continues the draft instead of failing later with "The slug … is already in use"."""
    from django.urls import reverse
    from wagtail.admin import messages as admin_messages

    drafts = (
        page_class.objects.child_of(parent_page)
        .filter(live=False, first_published_at__isnull=True, owner=request.user)
        .order_by("-latest_revision_created_at")[:3]
    )
    slug = request.POST.get("slug", "") if request.method == "POST" else ""
    for draft in drafts:
        edit = admin_messages.button(
            reverse("wagtailadmin_pages:edit", args=[draft.pk]), "Continue editing"
        )
        if slug and draft.slug == slug:
            admin_messages.warning(
                request,
                f"Your draft '{draft.get_admin_display_title()}' (saved automatically) already "
                f"uses the slug '{slug}': continue editing it instead of starting again.",
                buttons=[edit],
            )
        elif request.method == "GET":
            admin_messages.info(
                request,
                f"You have an unpublished draft here, saved automatically: "
                f"'{draft.get_admin_display_title()}'.",
                buttons=[edit],
            )


@hooks.register("before_unpublish_page")
def require_a_reason_to_unpublish(request: HttpRequest, page: Any) -> Any:
    """A signed-off page leaves readers only with a reason (articles/publishing.py)."""
    from django.shortcuts import redirect

    from .publishing import WITHDRAWAL_REASONS, withdrawal_needs_reason

    if request.method != "POST" or not withdrawal_needs_reason(page.specific):
        return None
    reason = request.POST.get("withdrawal_reason", "")
    if reason not in WITHDRAWAL_REASONS:
        messages.error(
            request,
            f"'{page.get_admin_display_title()}' was not unpublished: choose why it is being "
            "taken away from readers.",
        )
        return redirect("wagtailadmin_pages:unpublish", page.pk)
    request.withdrawal_reason = reason  # type: ignore[attr-defined]
    return None


@hooks.register("after_unpublish_page")
def audit_unpublishing(request: HttpRequest, page: Any) -> None:
    from .services import page_withdrawal_record

    reason = getattr(request, "withdrawal_reason", None)
    if reason:
        page_withdrawal_record(
            page=page,
            reason=reason,
            descendants=bool(request.POST.get("include_descendants")),
            via="admin",
            request=request,
        )


@hooks.register("before_bulk_action")
def refuse_bulk_unpublishing_signed_off_pages(
    request: HttpRequest, action_type: str, objects: list[Any], action_class_instance: Any
) -> Any:
    """Bulk unpublish asks no reason: signed-off pages are unpublished one by one."""
    from django.shortcuts import redirect

    from .publishing import withdrawal_needs_reason

    if action_type != "unpublish":
        return None
    held = [page for page in objects if withdrawal_needs_reason(page.specific)]
    if not held:
        return None
    messages.error(
        request,
        f"Nothing was unpublished: {len(held)} of the selected pages passed clinical review. "
        "Unpublish each from its own page, giving the reason.",
    )
    return redirect("wagtailadmin_explore", held[0].get_parent().pk)


@hooks.register("construct_admin_api")
def reasoned_unpublish_in_the_admin_api(router: Any) -> None:
    from .admin_api import ReviewedPagesAdminAPIViewSet

    router.register_endpoint("pages", ReviewedPagesAdminAPIViewSet)


@hooks.register("construct_homepage_panels")
def show_each_rows_review_step(request: HttpRequest, panels: list[Any]) -> None:
    from .dashboard import with_review_queue

    with_review_queue(panels)


@hooks.register("after_create_page")
def put_new_topic_under_review(request: HttpRequest, page: Any) -> None:
    """A new topic page (and its future articles) joins the review workflow."""
    if isinstance(page.specific, TopicPage):
        review_workflow_assign(page=page.specific)
    _explain_draft(request, page.specific)


# --- site (site helper) ---
# The "Review due" report (evidencepress/articles/review_due.py). The editor's warning that the
# evidence changed since the clinical review is the pin-based one in articles/evidence_pins.py.

from django.urls import path as _url_path  # noqa: E402
from django.urls import reverse as _reverse  # noqa: E402
from wagtail.admin.menu import MenuItem as _MenuItem  # noqa: E402

from .reports import ReviewDueReportView, can_see_review_due  # noqa: E402


@hooks.register("register_admin_urls")
def register_review_due_report_urls() -> list[Any]:
    from .claim_views import claim_audit_review

    return [
        _url_path("claim-audit/<int:page_id>/", claim_audit_review, name="claim_audit_review"),
        _url_path("reports/review-due/", ReviewDueReportView.as_view(), name="articles_review_due"),
        _url_path(
            "reports/review-due/results/",
            ReviewDueReportView.as_view(results_only=True),
            name="articles_review_due_results",
        ),
    ]


class _ReviewDueMenuItem(_MenuItem):  # type: ignore[misc]
    def is_shown(self, request: HttpRequest) -> bool:
        return can_see_review_due(request.user)


@hooks.register("register_reports_menu_item")
def register_review_due_report_menu_item() -> _MenuItem:
    return _ReviewDueMenuItem(
        "Review due",
        _reverse("articles_review_due"),
        name="review-due",
        icon_name=ReviewDueReportView.header_icon,
        order=650,
    )


# --- rich text: ids that are not numbers (security helper, plan D1) ---
# Draftail's server-side converter stores whatever id a posted content state names, so a raw
# POST could save `<a linktype="page" id="x">`, and every later render of the page, public or
# in the editor, failed with ValueError (HTTP 500). On save, a page link with such an id keeps
# only its URL (checked like any external link), and a document link or image keeps only its
# text: the same outcome as a deleted page, document or image.


def _numeric_ids_only(decorator: Any, fallback: Any) -> Any:
    def checked(props: dict[str, Any]) -> Any:
        entity_id = props.get("id")
        if entity_id is None or str(entity_id).isdigit():
            return decorator(props)
        return fallback(props)

    return checked


@hooks.register("register_rich_text_features", order=100)  # after Wagtail's own rules
def refuse_non_numeric_rich_text_ids(features: Any) -> None:
    rules = features.converter_rules_by_converter.get("contentstate", {})
    text_only = {
        "DOCUMENT": lambda props: props["children"],
        "IMAGE": lambda props: props["children"],
    }
    for feature, entity in (("link", "LINK"), ("document-link", "DOCUMENT"), ("image", "IMAGE")):
        rule = rules.get(feature)
        if rule is None:
            continue
        decorators = dict(rule["to_database_format"]["entity_decorators"])
        original = decorators[entity]
        fallback = text_only.get(entity) or (
            lambda props, link=original: link({**props, "id": None})
        )
        decorators[entity] = _numeric_ids_only(original, fallback)
        rules[feature] = {
            **rule,
            "to_database_format": {**rule["to_database_format"], "entity_decorators": decorators},
        }


# --- inline citations (articles helper) ---
# The rich-text "Citation" feature (articles/rich_text.py), and a warning on the edit view of an
# article that cites a publication which no longer exists.

from .rich_text import register_citation_feature as _register_citation_feature  # noqa: E402


@hooks.register("register_rich_text_features")
def register_citation_feature(features: Any) -> None:
    _register_citation_feature(features)


@hooks.register("before_edit_page")
def warn_about_missing_citations(request: HttpRequest, page: Any) -> None:
    """On opening the editor: name the cited publications that are gone (readers see only the
    cited words, without a number, and the reference list leaves them out)."""
    if request.method != "GET":
        return
    missing = getattr(page.specific, "missing_citation_ids", None)
    ids = missing() if missing is not None else []
    if not ids:
        return
    listed = ", ".join(str(pk) for pk in ids)
    messages.warning(
        request,
        f"This article cites {len(ids)} publication(s) that no longer exist (id {listed}). "
        "Readers see the cited words without a reference number. Remove those citations or "
        "choose another publication.",
    )


@hooks.register("register_log_actions")
def register_claim_audit_log_actions(actions: Any) -> None:
    """The claim audit's entries in a page's history (articles/claim_review.py)."""
    from .claim_review import LOG_ACTIONS

    for action, label, message in LOG_ACTIONS:
        actions.register_action(action, label, message)
