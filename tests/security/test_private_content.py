"""B4: private and draft content stays private; B5: restricted responses are never cached.

The small public site (tests/site/conftest.py) has a draft and a login-restricted article
whose titles contain "Zanzibar"; here a private document collection is added with its own
marker. Every public way in (the page URL, search, sitemap, feeds, the archive, the topic page,
the JSON API, document serving, the admin choosers) is requested anonymously.
"""

from __future__ import annotations

import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.test import Client
from wagtail.documents import get_document_model
from wagtail.models import Collection, CollectionViewRestriction

from ..site.conftest import SmallSite, build_small_site

MARKERS = ("Zanzibar", "Quokka-private-document-7731")


@pytest.fixture
def site_with_private_things(db: None) -> tuple[SmallSite, object]:
    small = build_small_site()
    root = Collection.get_first_root_node() or Collection.add_root(name="Root")
    private = root.add_child(name="Private collection")
    CollectionViewRestriction.objects.create(
        collection=private, restriction_type=CollectionViewRestriction.LOGIN
    )
    document = get_document_model()(title=f"{MARKERS[1]} minutes", collection=private)
    document.file.save("minutes.txt", ContentFile(f"{MARKERS[1]} body text".encode()))
    document.save()
    return small, document


def public_urls(small: SmallSite, document: object) -> list[str]:
    year, month = 2024, 9  # the month of the draft and the private article
    return [
        small.private.url,
        small.draft.url,
        f"/admin/pages/{small.private.pk}/view_draft/",
        # Search for other words of the titles: the page echoes the query, not the results.
        "/search/?q=private+notes+imiquimod",
        "/search/?q=draft+about+imiquimod",
        "/search/?q=minutes",
        "/sitemap.xml",
        "/feeds/articles.xml",
        "/feeds/articles.atom",
        "/feeds/topics/imiquimod-angiosarcoma.xml",
        "/feeds/topics/imiquimod-angiosarcoma.atom",
        small.archive.url,
        f"{small.archive.url}{year}/",
        f"{small.archive.url}{year}/{month:02d}/",
        f"{small.archive.url}{year}/{month}/",
        small.home.url,
        small.topic_page.url,
        "/api/v1/topics/",
        "/api/v1/topics/imiquimod-angiosarcoma/",
        "/api/v2/pages/",
        "/api/v2/documents/",
        document.url,  # type: ignore[attr-defined]
        f"/documents/{document.pk}/minutes.txt",  # type: ignore[attr-defined]
        "/admin/documents/chooser/",
        "/admin/choose-page/",
        f"/admin/choose-page/{small.topic_page.pk}/",
    ]


@pytest.mark.django_db
def test_private_and_draft_markers_reach_no_anonymous_response(
    site_with_private_things: tuple[SmallSite, object],
) -> None:
    small, document = site_with_private_things
    client = Client()
    urls = public_urls(small, document)
    leaks, answered = [], 0
    for url in urls:
        response = client.get(url, follow=False)
        body = b"".join(response) if response.streaming else response.content  # type: ignore[attr-defined]
        answered += response.status_code == 200
        leaks += [(url, marker) for marker in MARKERS if marker.encode() in body]
    assert leaks == []
    # The walk is real: most public URLs answered (home, search, feeds, sitemap, archive...).
    assert answered >= 12
    # The private page and the document send anonymous readers to the login form.
    assert client.get(small.private.url).status_code == 302
    assert client.get(document.url).status_code == 302  # type: ignore[attr-defined]


def test_shared_passwords_are_switched_off() -> None:
    assert settings.WAGTAIL_PRIVATE_PAGE_OPTIONS["SHARED_PASSWORD"] is False
    assert settings.WAGTAILDOCS_PRIVATE_COLLECTION_OPTIONS["SHARED_PASSWORD"] is False


@pytest.mark.django_db
def test_restricted_content_is_sent_private_and_not_stored(
    site_with_private_things: tuple[SmallSite, object], django_user_model: type
) -> None:
    small, _ = site_with_private_things
    client = Client()
    reader = django_user_model.objects.create_user("rita", "rita@example.org", "x" * 16)
    client.force_login(reader)
    responses = {
        "private page": client.get(small.private.url),
        "summary request form": Client().get("/summaries/request/"),
    }
    not_private = {}
    for name, response in responses.items():
        control = response.get("Cache-Control", "")
        if response.status_code == 200 and not ("private" in control and "no-store" in control):
            not_private[name] = control
    assert responses["private page"].status_code == 200
    assert not_private == {}


@pytest.mark.django_db
def test_a_private_document_is_sent_private_and_not_stored(
    site_with_private_things: tuple[SmallSite, object], django_user_model: type
) -> None:
    _, document = site_with_private_things
    client = Client()
    client.force_login(django_user_model.objects.create_user("rex", "rex@example.org", "x" * 16))
    response = client.get(document.url)  # type: ignore[attr-defined]
    # Reading the whole download lets the test client close the file.
    assert MARKERS[1].encode() in b"".join(response.streaming_content)  # type: ignore[attr-defined]
    assert response.status_code == 200
    control = response.get("Cache-Control", "")
    assert "private" in control and "no-store" in control
