"""Admin report "Review due": pages overdue for clinical review or whose evidence changed since."""

from __future__ import annotations

from typing import Any

from wagtail.admin.views.reports import ReportView

from .review_due import pages_due_for_review


class ReviewDueReportView(ReportView):  # type: ignore[misc]
    """Lists topic and article pages that need a clinical review, with the reason for each."""

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
