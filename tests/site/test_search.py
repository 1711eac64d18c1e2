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


# I3 (pathological queries, Wagtail CVE-2024-39317 class): the fixed list of worst cases.
FIXED_HOSTILE_QUERIES = (
    ('"(imiquimod' * 1000)[:10_000],
    "a" * 10_000,
    "(" * 5_000 + "imiquimod" + ")" * 5_000,
    '"' * 10_000,
    "'\"" * 5_000,
    " ".join(["imiquimod AND NOT (scalp OR face)"] * 300)[:10_000],
    " OR ".join(f"word{n}" for n in range(2_000))[:10_000],
    "\u4e2d\u6587" * 5_000,
    "\U0001f9f4" * 2_500,
    "\u202e" + "x" * 9_999,
    "\x00" * 10_000,
    "%" * 10_000,
    "\\" * 10_000,
    "*:^~" * 2_500,
)

_SYNTAX = st.sampled_from(
    [*"\"'()[]{}*:^~+-|&!<>\\/%_?@#,;=", "AND", "OR", "NOT", "NEAR", "&&", "||"]
)
_WORDS = st.sampled_from(["imiquimod", "scalp", "angiosarcoma", "a", "the", "é", "中文", "🧴"])
_FRAGMENT = st.lists(st.one_of(_SYNTAX, _WORDS, st.text(max_size=5)), min_size=1, max_size=8).map(
    "".join
)
HOSTILE_QUERY = st.one_of(
    # quotes, brackets and boolean operators, joined by spaces or not
    st.lists(st.one_of(_SYNTAX, _WORDS), max_size=60).map(" ".join),
    st.lists(_FRAGMENT, max_size=20).map("".join),
    # any unicode at all, control characters and surrogates' neighbours included
    st.text(max_size=300),
    # very long: a fragment repeated up to 12,000 characters
    st.tuples(_FRAGMENT, st.integers(min_value=100, max_value=2_000)).map(
        lambda pair: (pair[0] * pair[1])[:12_000]
    ),
    # deep nesting
    st.integers(min_value=1, max_value=3_000).map(lambda n: "(" * n + "scalp" + ")" * n),
)
MAX_SECONDS = 1.0


def _timed_search(client: Client, query: str) -> tuple[int, float]:
    """Status and wall-clock seconds of one GET /search/?q=...

    The test machine's CPUs are shared, so a request that was merely descheduled can pass a
    second. A query over the limit is therefore asked twice more and its fastest time kept: a
    query that is really slow (the ReDoS this guards against) is slow every time.
    """
    best = float("inf")
    status = 0
    for _attempt in range(3):
        started = time.perf_counter()
        status = client.get("/search/", {"q": query}).status_code
        best = min(best, time.perf_counter() - started)
        if best < MAX_SECONDS or status >= 500:
            break
    return status, best


def test_the_fixed_worst_case_queries_are_answered_quickly(
    client: Client, small_site: SmallSite
) -> None:
    outcomes = [(_timed_search(client, query), query[:40]) for query in FIXED_HOSTILE_QUERIES]
    failures = [(status, query) for (status, _), query in outcomes if status != 200]
    slowest = max(seconds for (_, seconds), _ in outcomes)
    assert failures == [], f"{len(failures)} of {len(outcomes)} fixed queries failed: {failures}"
    assert slowest < MAX_SECONDS, f"slowest fixed query took {slowest:.3f} s"


def test_1000_hostile_queries_never_fail_and_each_answers_within_a_second(
    client: Client, small_site: SmallSite
) -> None:
    """Plan I3: 1,000 generated queries, 0 server errors, every response in under 1 s."""
    timings: list[float] = []
    errors: list[tuple[int, str]] = []

    @settings(
        max_examples=1_000,
        deadline=None,
        database=None,
        suppress_health_check=[
            HealthCheck.function_scoped_fixture,
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
        ],
    )
    @given(query=HOSTILE_QUERY)
    def search_once(query: str) -> None:
        status, seconds = _timed_search(client, query)
        timings.append(seconds)
        if status != 200:
            errors.append((status, query[:80]))
        assert status < 500, f"HTTP {status} for {query[:80]!r}"
        assert seconds < MAX_SECONDS, f"{seconds:.3f} s for {query[:80]!r}"

    search_once()
    server_errors = [error for error in errors if error[0] >= 500]
    slowest = max(timings)
    summary = (
        f"{len(timings)} queries, {len(server_errors)} 5xx, {len(errors)} non-200, "
        f"slowest {slowest:.3f} s"
    )
    assert len(timings) >= 1_000, summary
    assert server_errors == [] and errors == [], summary
    assert slowest < MAX_SECONDS, summary
    print(f"I3: {summary}")  # the measured figure, for the test log
