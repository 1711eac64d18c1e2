"""Admin report "Review due": pages overdue for clinical review or whose evidence changed since."""

from __future__ import annotations

from typing import Any

from django.utils.functional import cached_property
from wagtail.admin.views.reports import ReportView
from wagtail.models import Page
from wagtail.permissions import policy_registry

from .review_due import pages_due_for_review

# Who may open the report (and its export): the page authoring roles, as for Wagtail's own page
# reports. Summary editors, who hold no page permission, may not (docs/roles.yaml).
PAGE_AUTHORING = ["add", "change", "publish"]


def can_see_review_due(user: Any) -> bool:
    return bool(policy_registry.get_by_type(Page).user_has_any_permission(user, PAGE_AUTHORING))


class ReviewDueReportView(ReportView):  # type: ignore[misc]
    """Lists topic and article pages that need a clinical review, with the reason for each."""

    any_permission_required = PAGE_AUTHORING

    @cached_property
    def permission_policy(self) -> Any:
        return policy_registry.get_by_type(Page)

    page_title = "Review due"
    header_icon = "time"
    index_url_name = "articles_review_due"
    index_results_url_name = "articles_review_due_results"
    results_template_name = "articles/reports/review_due_results.html"
    paginate_by = 50
    list_export = ["title", "kind", "last_reviewed", "next_review_due", "reasons_text"]
    export_headings = {
        "title": "Title",
        "kind": "Type",
        "last_reviewed": "Last reviewed",
        "next_review_due": "Next review due",
        "reasons_text": "Why it is listed",
    }

    def get_filename(self) -> str:
        return "review-due"

    def get_queryset(self) -> Any:
        return pages_due_for_review()
