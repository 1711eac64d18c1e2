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

from .reports import ReviewDueReportView, can_see_review_due  # noqa: E402
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
