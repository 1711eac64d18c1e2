"""The page cache: anonymous readers get stored pages; nothing personal or unpublished is stored;
any write to what pages show (publishing, the evidence, raw SQL) moves them to new keys.

The cache keys on the content version, which is only read outside a transaction (inside one
the rows may still roll back), so these tests run with transactional_db, as requests do."""

from __future__ import annotations

import weakref
from collections.abc import Iterator
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import caches
from django.core.management import call_command
from django.db import connection, transaction
from django.http import HttpResponse
from django.test import Client, RequestFactory, override_settings

from evidencepress.core import page_cache
from evidencepress.core.page_cache import HIT_HEADER, PageCacheWSGI, response_is_cacheable
from evidencepress.evidence.models import Publication, ReportedPatient

from .conftest import SmallSite, build_small_site

pytestmark = pytest.mark.django_db(transaction=True)

ON = {"ENABLED": True, "ALIAS": "default", "TIMEOUT": 60}


@pytest.fixture(autouse=True)
def page_cache_on() -> Iterator[None]:
    caches["default"].clear()
    with override_settings(PAGE_CACHE=ON):
        yield
    caches["default"].clear()


@pytest.fixture
def small_site(transactional_db: None) -> SmallSite:
    return build_small_site()


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


def test_a_raw_sql_write_to_the_evidence_is_seen_by_the_next_reader(
    client: Client, small_site: SmallSite
) -> None:
    """No signal, no call to the cache: the database's trigger alone moves the page to a new key,
    at both the middleware and the WSGI layer, and the new page shows the change."""
    url = small_site.article.url
    client.get(url)
    assert client.get(url)[HIT_HEADER] == "hit"
    table = connection.ops.quote_name(Publication._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET title = %s WHERE id = %s",
            ["A title changed behind the ORM", small_site.publication.pk],
        )
    inner = _Inner()
    PageCacheWSGI(inner)(_environ(url), lambda *args: None)
    assert inner.calls == 1  # the stored page is not answered from the WSGI layer
    fresh = client.get(url)
    assert fresh[HIT_HEADER] == "miss"
    assert "A title changed behind the ORM" in fresh.content.decode()
    assert client.get(url)[HIT_HEADER] == "hit"  # and the new page is stored in its turn


def test_nothing_is_stored_or_served_inside_a_transaction(
    client: Client, small_site: SmallSite
) -> None:
    """Inside a transaction the content may still roll back: the version is not read, so no page
    is stored under it (the test client runs the view in this thread's transaction)."""
    url = small_site.article.url
    with transaction.atomic():
        for _ in range(2):
            assert HIT_HEADER not in client.get(url)
        assert PageCacheWSGI(_Inner())._lookup(_environ(url)) is None
    assert client.get(url)[HIT_HEADER] == "miss"


def test_a_page_rendered_while_the_content_changed_is_not_stored(
    client: Client, small_site: SmallSite, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The version is read before and after rendering; a change in between means the page
    may already show it, so it is not stored under the version from before."""
    keys = iter(["before", "after", "after", "after"])
    monkeypatch.setattr(page_cache, "content_key", lambda: next(keys))
    url = small_site.article.url
    assert client.get(url)[HIT_HEADER] == "miss"  # read "before", then "after": not stored
    assert client.get(url)[HIT_HEADER] == "miss"  # "after" twice: stored
    monkeypatch.setattr(page_cache, "content_key", lambda: "after")
    assert client.get(url)[HIT_HEADER] == "hit"


def test_core_connects_no_receiver_to_clear_the_cache() -> None:
    """One mechanism: the triggers. The page cache listens to no model or Wagtail signal."""
    from django.db.models.signals import post_delete, post_save
    from wagtail.signals import page_published, page_unpublished

    receivers = []
    for signal in (post_save, post_delete, page_published, page_unpublished):
        # Django keeps (lookup key, weak or strong reference, is_async) per receiver.
        refs = [entry[1] for entry in signal.receivers]
        receivers += [ref() if isinstance(ref, weakref.ReferenceType) else ref for ref in refs]
    assert receivers  # the introspection does see the other apps' receivers
    assert not [r for r in receivers if getattr(r, "__module__", "") == page_cache.__name__]
    assert not hasattr(page_cache, "page_cache_clear")


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
    assert inner.calls == 1  # the new content version has no stored page yet


def test_an_import_clears_the_cache_although_it_writes_without_signals(
    client: Client, small_site: SmallSite, fixtures_dir: Path
) -> None:
    url = small_site.topic_page.url
    client.get(url)
    assert client.get(url)[HIT_HEADER] == "hit"
    # The import commits its own transaction; nothing is called afterwards.
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
