"""Site search: Wagtail search over the live, public pages of the current site only.

Wagtail's project template searches `Page.objects.live()`, which also finds pages in a private
(login- or group-restricted) section. Here the queryset is `.live().public()` under the site's
root, so a restricted page or a draft never appears, not even as a title.

A reader's query is reduced to at most `MAX_TERMS` words before it reaches the search backend:
quotes, brackets and operators are not search syntax for readers, and a 10,000-character query
costs no more than a short one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.core.paginator import EmptyPage, PageNotAnInteger, Paginator
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.views.decorators.http import require_GET
from wagtail.models import Page, Site
from wagtail.search.query import PlainText

MAX_QUERY_CHARS = 200
MAX_TERMS = 12
PER_PAGE = 10
_WORD = re.compile(r"\w+", re.UNICODE)


def clean_query(raw: str) -> str:
    """The words of a reader's query, space-separated: no syntax, bounded in length."""
    words = _WORD.findall(raw[: MAX_QUERY_CHARS * 5])
    text = " ".join(word for word in words if word.strip("_"))
    return " ".join(text[:MAX_QUERY_CHARS].split()[:MAX_TERMS])


def searchable_pages(site: Site | None) -> Any:
    """Live, public pages under the site's root (all sites when there is none)."""
    pages = Page.objects.live().public()
    if site is not None:
        pages = pages.descendant_of(site.root_page, inclusive=True)
    return pages


def search_pages(query: str, site: Site | None) -> Any:
    """Wagtail search results for an already cleaned query (every word must match)."""
    if not query:
        return Page.objects.none()
    return searchable_pages(site).search(PlainText(query, operator="and"), order_by_relevance=True)


@dataclass(frozen=True, slots=True)
class SearchOutcome:
    query: str
    results: Any  # a Django paginator page of pages, or None when there was no query
    total: int


def run_search(raw_query: str, page_number: str | None, site: Site | None) -> SearchOutcome:
    """Clean the query, search, and return one page of `PER_PAGE` results."""
    query = clean_query(raw_query)
    if not query:
        return SearchOutcome(query="", results=None, total=0)
    found_pages = search_pages(query, site)
    first = list(found_pages[:PER_PAGE]) if _asks_for_first_page(page_number) else None
    # Most searches fit on one page: then that page is the whole result and the backend's
    # separate count query is not needed (half the cost of a search, test plan I3).
    paginator = Paginator(
        first if first is not None and len(first) < PER_PAGE else found_pages, PER_PAGE
    )
    try:
        results = paginator.page(page_number or 1)
    except PageNotAnInteger:
        results = paginator.page(1)
    except EmptyPage:
        results = paginator.page(paginator.num_pages)
    # Resolve the results to their specific page types (summary, date) in one query per type.
    found = list(results.object_list)
    specific = Page.objects.filter(pk__in=[page.pk for page in found]).specific().in_bulk()
    results.object_list = [specific.get(page.pk, page) for page in found]
    return SearchOutcome(query=query, results=results, total=paginator.count)


def _asks_for_first_page(page_number: str | None) -> bool:
    """True for no page, page 1, or anything Paginator would turn into page 1 or the last."""
    try:
        return int(page_number or 1) <= 1
    except (TypeError, ValueError):
        return True


@require_GET
def search_view(request: HttpRequest) -> HttpResponse:
    """`/search/?q=…&page=N`: the form and a paginated list of matching pages."""
    raw = request.GET.get("q", "")
    outcome = run_search(raw, request.GET.get("page"), Site.find_for_request(request))
    response = TemplateResponse(
        request,
        "search/search.html",
        {
            "search_query": outcome.query,
            "raw_query": raw[:MAX_QUERY_CHARS],
            "search_results": outcome.results,
            "total": outcome.total,
        },
    )
    response["X-Robots-Tag"] = "noindex"
    return response
