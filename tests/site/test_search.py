"""Site search: only live, public pages; paginated; no query can break it or slow it down."""

from __future__ import annotations

import time

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from evidencepress.articles.models import ArticlePage
from evidencepress.articles.search import MAX_TERMS, clean_query

from .conftest import SmallSite

pytestmark = pytest.mark.django_db


def _titles(client: Client, query: str, page: int | None = None) -> list[str]:
    params: dict[str, object] = {"q": query}
    if page:
        params["page"] = page
    response = client.get("/search/", params)
    assert response.status_code == 200
    return [result.title for result in response.context["search_results"] or []]


def test_search_finds_live_articles_by_title_and_body_text(
    client: Client, small_site: SmallSite
) -> None:
    assert "Imiquimod cream explained" in _titles(client, "imiquimod")
    # A word that only appears in the article's body (a rich text block).
    assert _titles(client, "thinly patch") == ["Imiquimod cream explained"]
    # Each result shows the article's summary and links to it.
    html = client.get("/search/", {"q": "thinly"}).content.decode()
    assert "A plain summary of imiquimod cream explained." in html
    assert 'href="/imiquimod-angiosarcoma/imiquimod-explained/"' in html


def test_drafts_and_restricted_pages_never_appear(client: Client, small_site: SmallSite) -> None:
    # Both the draft and the login-restricted article have "Zanzibar" in their titles.
    assert _titles(client, "Zanzibar") == []
    titles = _titles(client, "imiquimod")
    assert not any("Zanzibar" in title for title in titles)
    html = client.get("/search/", {"q": "zanzibar"}).content.decode()
    assert "Zanzibar" not in html.replace("zanzibar", "")
    assert "0 results" in html


def test_results_are_paginated(client: Client, small_site: SmallSite) -> None:
    for n in range(12):
        page = small_site.topic_page.add_child(
            instance=ArticlePage(title=f"Quokka note {n}", slug=f"quokka-{n}", summary="Quokka.")
        )
        page.save_revision().publish()
    first, second = _titles(client, "quokka", 1), _titles(client, "quokka", 2)
    assert len(first) == 10 and len(second) == 2
    assert not set(first) & set(second)
    html = client.get("/search/", {"q": "quokka"}).content.decode()
    assert "Next page" in html and "12 results" in html
    # A page number past the end shows the last page rather than an error.
    assert _titles(client, "quokka", 99) == second


def test_the_form_is_labelled_and_keeps_the_query(client: Client, small_site: SmallSite) -> None:
    html = client.get("/search/", {"q": "imiquimod"}).content.decode()
    assert '<label for="search-q">' in html
    assert 'id="search-q"' in html and 'value="imiquimod"' in html
    assert 'role="search"' in html


def test_clean_query_keeps_words_only_and_bounds_the_length() -> None:
    assert clean_query('"imiquimod" AND (scalp OR face*)') == "imiquimod AND scalp OR face"
    assert len(clean_query("word " * 5000).split()) == MAX_TERMS
    assert clean_query("()\"'*:^-") == ""


def test_a_ten_thousand_character_query_is_answered_quickly(
    client: Client, small_site: SmallSite
) -> None:
    query = ('"(imiquimod' * 1000)[:10_000]
    started = time.perf_counter()
    response = client.get("/search/", {"q": query})
    assert response.status_code == 200
    assert time.perf_counter() - started < 2.0


@pytest.mark.django_db
@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    query=st.text(
        alphabet=st.sampled_from(list("ab \"'()*:^-+~|&<>{}[]\\/%_NEARORAND\u00e9\u4e2d\x00")),
        max_size=300,
    )
)
def test_no_query_makes_search_fail(client: Client, small_site: SmallSite, query: str) -> None:
    response = client.get("/search/", {"q": query})
    assert response.status_code == 200
