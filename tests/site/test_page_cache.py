"""The page cache: anonymous readers get stored pages; nothing personal or unpublished is stored;
publishing and evidence changes clear it."""

from __future__ import annotations

from collections.abc import Iterator
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import caches
from django.core.management import call_command
from django.http import HttpResponse
from django.test import Client, RequestFactory, TestCase, override_settings

from evidencepress.core.page_cache import HIT_HEADER, PageCacheWSGI, response_is_cacheable
from evidencepress.evidence.models import ReportedPatient

from .conftest import SmallSite

pytestmark = pytest.mark.django_db

ON = {"ENABLED": True, "ALIAS": "default", "TIMEOUT": 60}


@pytest.fixture(autouse=True)
def page_cache_on() -> Iterator[None]:
    caches["default"].clear()
    with override_settings(PAGE_CACHE=ON):
        yield
    caches["default"].clear()


def test_second_anonymous_view_is_served_from_the_cache_unchanged(
    client: Client, small_site: SmallSite
) -> None:
    first = client.get(small_site.article.url)
    second = client.get(small_site.article.url)
    assert first[HIT_HEADER] == "miss" and second[HIT_HEADER] == "hit"
    assert first.content == second.content
    assert second["Content-Type"] == first["Content-Type"]
    assert second.get("Content-Security-Policy") == first.get("Content-Security-Policy")


def test_publishing_a_change_is_visible_at_once(client: Client, small_site: SmallSite) -> None:
    url = small_site.article.url
    client.get(url)
    article = small_site.article
    article.summary = "A brand new standfirst."
    article.save_revision().publish()
    response = client.get(url)
    assert response[HIT_HEADER] == "miss"
    assert "A brand new standfirst." in response.content.decode()


def test_an_evidence_change_clears_the_cache(client: Client, small_site: SmallSite) -> None:
    client.get(small_site.topic_page.url)
    assert client.get(small_site.topic_page.url)[HIT_HEADER] == "hit"
    ReportedPatient.objects.get(label="Case A").save()
    assert client.get(small_site.topic_page.url)[HIT_HEADER] == "miss"


def test_signed_in_users_are_never_served_or_stored(client: Client, small_site: SmallSite) -> None:
    user = get_user_model().objects.create_superuser("ed", "ed@example.org", "a-long-pass-1")
    signed_in = Client()
    signed_in.force_login(user)
    for _ in range(2):
        assert HIT_HEADER not in signed_in.get(small_site.article.url)
    # What the signed-in editor saw was not stored for the next anonymous reader.
    assert client.get(small_site.article.url)[HIT_HEADER] == "miss"
    # ...and an anonymous copy is not handed to the editor either.
    assert HIT_HEADER not in signed_in.get(small_site.article.url)


@pytest.mark.parametrize(
    "path", ["/admin/login/", "/summaries/request/", "/search/?q=imiquimod", "/search/"]
)
def test_admin_summary_form_and_search_are_never_cached(
    client: Client, small_site: SmallSite, path: str
) -> None:
    for _ in range(2):
        assert HIT_HEADER not in client.get(path)


def test_previews_drafts_and_private_pages_are_not_stored(
    client: Client, small_site: SmallSite
) -> None:
    private_url = "/imiquimod-angiosarcoma/private-notes/"
    for _ in range(2):
        response = client.get(private_url)
        assert response.status_code == 302 and HIT_HEADER not in response
    draft_url = "/imiquimod-angiosarcoma/unpublished-draft/"
    assert client.get(draft_url).status_code == 404
    assert HIT_HEADER not in client.get(draft_url)
    # A query string is never part of a stored page (it could be anything).
    assert HIT_HEADER not in client.get(small_site.article.url + "?utm_source=x")


def test_responses_that_set_cookies_or_are_private_are_not_cacheable() -> None:
    request = RequestFactory().get("/x/")
    with_cookie = HttpResponse("x")
    with_cookie.set_cookie("csrftoken", "abc")
    assert not response_is_cacheable(request, with_cookie)
    private = HttpResponse("x")
    private["Cache-Control"] = "private"
    assert not response_is_cacheable(request, private)
    assert response_is_cacheable(request, HttpResponse("x"))


def test_disabled_by_default(client: Client, small_site: SmallSite) -> None:
    with override_settings(PAGE_CACHE={"ENABLED": False}):
        client.get(small_site.article.url)
        assert HIT_HEADER not in client.get(small_site.article.url)


def _environ(path: str, **extra: str) -> dict[str, object]:
    environ: dict[str, object] = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "SCRIPT_NAME": "",
        "QUERY_STRING": "",
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "HTTP_HOST": "testserver",
        "wsgi.url_scheme": "http",
    }
    environ.update(extra)
    return environ


class _Inner:
    """Stands for Django's WSGI application: records that it was asked."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, environ: object, start_response: Any) -> list[bytes]:
        self.calls += 1
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"from django"]


def test_the_wsgi_layer_answers_a_stored_page_without_django(
    client: Client, small_site: SmallSite
) -> None:
    url = small_site.article.url
    stored = client.get(url)
    assert stored[HIT_HEADER] == "miss"
    inner = _Inner()
    started: list[tuple[str, list[tuple[str, str]]]] = []
    body = PageCacheWSGI(inner)(
        _environ(url), lambda status, headers: started.append((status, headers))
    )
    assert inner.calls == 0
    assert b"".join(body) == stored.content
    status, headers = started[0]
    names = {name.lower(): value for name, value in headers}
    assert status == "200 OK"
    assert names[HIT_HEADER.lower()] == "hit"
    assert names["content-length"] == str(len(stored.content))
    assert names["content-security-policy"] == stored["Content-Security-Policy"]


@pytest.mark.parametrize(
    "extra",
    [
        {"REQUEST_METHOD": "POST"},
        {"REQUEST_METHOD": "HEAD"},
        {"QUERY_STRING": "a=1"},
        {"HTTP_COOKIE": "sessionid=abc"},
        {"HTTP_AUTHORIZATION": "Basic eDp5"},
        {"HTTP_HOST": "evil.example"},
    ],
    ids=["post", "head", "query", "session", "authorization", "other-host"],
)
def test_the_wsgi_layer_passes_everything_else_to_django(
    client: Client, small_site: SmallSite, extra: dict[str, str]
) -> None:
    url = small_site.article.url
    client.get(url)  # stored
    inner = _Inner()
    body = PageCacheWSGI(inner)(_environ(url, **extra), lambda *args: None)
    assert inner.calls == 1
    assert b"".join(body) == b"from django"


def test_the_wsgi_layer_sees_a_publish_at_once(client: Client, small_site: SmallSite) -> None:
    url = small_site.article.url
    client.get(url)
    small_site.article.save_revision().publish()
    inner = _Inner()
    PageCacheWSGI(inner)(_environ(url), lambda *args: None)
    assert inner.calls == 1  # the new generation has no stored page yet


def test_an_import_clears_the_cache_although_it_writes_without_signals(
    client: Client, small_site: SmallSite, fixtures_dir: Path
) -> None:
    url = small_site.topic_page.url
    client.get(url)
    assert client.get(url)[HIT_HEADER] == "hit"
    with TestCase.captureOnCommitCallbacks(execute=True):
        call_command(
            "import_literature",
            str(fixtures_dir / "medline" / "sample.xml"),
            "--topic",
            small_site.topic.slug,
            "--no-progress",
            stdout=StringIO(),
            stderr=StringIO(),
        )
    assert client.get(url)[HIT_HEADER] == "miss"
