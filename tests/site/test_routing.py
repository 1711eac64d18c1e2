"""Routing shortcuts (HomePage.route, TopicPage.route) find exactly what Wagtail's own routing
finds, with fewer queries."""

from __future__ import annotations

import pytest
from django.db import connection
from django.http import Http404
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext
from wagtail.models import Page

from .conftest import SmallSite

pytestmark = pytest.mark.django_db


def _wagtail_route(page: Page, path: str) -> object:
    """Wagtail's own Page.route, level by level, for comparison."""
    request = RequestFactory().get(path)
    return Page.route(page, request, [part for part in path.split("/") if part])


def _our_route(page: Page, path: str) -> object:
    request = RequestFactory().get(path)
    return page.route(request, [part for part in path.split("/") if part])


@pytest.mark.parametrize("which", ["article", "older", "topic_page", "archive"])
def test_our_routing_finds_the_same_page(small_site: SmallSite, which: str) -> None:
    target = getattr(small_site, which)
    path = target.url_path[len(small_site.home.url_path) - 1 :]
    ours = _our_route(small_site.home, path)
    theirs = _wagtail_route(small_site.home, path)
    assert ours.page.pk == theirs.page.pk == target.pk
    assert type(ours.page) is type(theirs.page)
    assert ours.page.title == target.title
    # A routable page's view comes back bound to each instance: compare the functions.
    assert [getattr(a, "__func__", a) for a in ours.args] == [
        getattr(a, "__func__", a) for a in theirs.args
    ]
    assert ours.kwargs == theirs.kwargs


def test_a_page_of_another_type_below_a_topic_is_still_found(small_site: SmallSite) -> None:
    other = small_site.topic_page.add_child(instance=Page(title="A note", slug="a-note"))
    other.save_revision().publish()
    found = _our_route(small_site.home, "/imiquimod-angiosarcoma/a-note/")
    assert found.page.pk == other.pk


@pytest.mark.parametrize(
    "path", ["/imiquimod-angiosarcoma/no-such-article/", "/no-such-topic/x/", "/nothing/"]
)
def test_unknown_addresses_are_404(small_site: SmallSite, path: str) -> None:
    with pytest.raises(Http404):
        _our_route(small_site.home, path)


def test_a_draft_article_is_404_and_a_live_one_costs_fewer_queries(
    client: Client, small_site: SmallSite
) -> None:
    assert (
        client.get(small_site.draft.url or "/imiquimod-angiosarcoma/unpublished-draft/").status_code
        == 404
    )
    path = small_site.article.url
    with CaptureQueriesContext(connection) as ours:
        _our_route(small_site.home, path)
    with CaptureQueriesContext(connection) as theirs:
        _wagtail_route(small_site.home, path)
    assert len(ours.captured_queries) < len(theirs.captured_queries)
