"""Feeds, sitemap.xml, robots.txt, the <head> of pages (feeds, Open Graph, JSON-LD), print CSS,
and the public publication entry."""

from __future__ import annotations

import json
import re
from pathlib import Path
from xml.etree import ElementTree

import pytest
from django.contrib.staticfiles import finders
from django.test import Client

from .conftest import SmallSite

pytestmark = pytest.mark.django_db

ATOM = "{http://www.w3.org/2005/Atom}"
SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


def _rss_titles(content: bytes) -> list[str]:
    return [item.findtext("title") or "" for item in ElementTree.fromstring(content).iter("item")]


def test_rss_feed_lists_published_articles_newest_first(
    client: Client, small_site: SmallSite
) -> None:
    response = client.get("/feeds/articles.xml")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/rss+xml")
    assert _rss_titles(response.content) == [
        "Imiquimod cream explained",
        "Side effects of imiquimod",
    ]
    item = ElementTree.fromstring(response.content).find("channel/item")
    assert item is not None
    assert (item.findtext("link") or "").endswith("/imiquimod-angiosarcoma/imiquimod-explained/")
    assert "specialist" in (item.findtext("description") or "")


def test_atom_feed_has_entries_with_updated_dates(client: Client, small_site: SmallSite) -> None:
    response = client.get("/feeds/articles.atom")
    assert response["Content-Type"].startswith("application/atom+xml")
    root = ElementTree.fromstring(response.content)
    entries = root.findall(f"{ATOM}entry")
    assert [e.findtext(f"{ATOM}title") for e in entries] == [
        "Imiquimod cream explained",
        "Side effects of imiquimod",
    ]
    assert (entries[0].findtext(f"{ATOM}updated") or "").startswith("2024-09-12")


def test_topic_feeds_only_carry_that_topic(client: Client, small_site: SmallSite) -> None:
    from evidencepress.evidence.models import Topic

    Topic.objects.create(name="Other", slug="other", treatment="X", condition="Y")
    assert len(_rss_titles(client.get("/feeds/topics/imiquimod-angiosarcoma.xml").content)) == 2
    assert _rss_titles(client.get("/feeds/topics/other.xml").content) == []
    atom = client.get("/feeds/topics/imiquimod-angiosarcoma.atom")
    assert b"Imiquimod cream explained" in atom.content
    assert client.get("/feeds/topics/no-such-topic.xml").status_code == 404


def test_sitemap_lists_public_pages_and_archive_months_but_not_drafts_or_private_pages(
    client: Client, small_site: SmallSite
) -> None:
    response = client.get("/sitemap.xml")
    assert response.status_code == 200
    locations = [
        loc.text or "" for loc in ElementTree.fromstring(response.content).iter(f"{SITEMAP}loc")
    ]
    paths = {re.sub(r"^https?://[^/]+", "", loc) for loc in locations}
    assert "/imiquimod-angiosarcoma/imiquimod-explained/" in paths
    assert "/archive/" in paths
    assert {"/archive/2024/", "/archive/2024/09/", "/archive/2024/08/"} <= paths
    assert not any("unpublished-draft" in p or "private-notes" in p for p in paths)
    # Every listed route really answers.
    for path in paths:
        assert client.get(path).status_code == 200, path


def test_robots_txt_names_the_sitemap_and_keeps_crawlers_out_of_admin_and_summaries(
    client: Client, small_site: SmallSite
) -> None:
    response = client.get("/robots.txt")
    assert response["Content-Type"].startswith("text/plain")
    text = response.content.decode()
    assert "Disallow: /admin/" in text
    assert "Disallow: /summaries/" in text
    assert re.search(r"^Sitemap: http://testserver/sitemap\.xml$", text, re.M)


def _json_ld(html: str) -> dict[str, object]:
    match = re.search(r'<script type="application/ld\+json">(.*?)</script>', html, re.S)
    assert match, "no JSON-LD on the page"
    return json.loads(match.group(1))  # type: ignore[no-any-return]


def test_article_head_has_feeds_open_graph_json_ld_and_print_css(
    client: Client, small_site: SmallSite
) -> None:
    html = client.get(small_site.article.url).content.decode()
    assert 'href="/feeds/articles.xml"' in html
    assert 'href="/feeds/topics/imiquimod-angiosarcoma.atom"' in html
    assert '<meta property="og:type" content="article">' in html
    assert '<meta property="og:title" content="Imiquimod cream explained">' in html
    assert (
        '<meta property="og:description" content="A plain summary of imiquimod cream explained.">'
        in html
    )
    assert (
        '<meta property="og:url" content="http://testserver/imiquimod-angiosarcoma/imiquimod-explained/">'
        in html
    )
    assert re.search(r'<link rel="stylesheet" href="[^"]*css/print\.css" media="print">', html)
    data = _json_ld(html)
    assert data["@type"] == "MedicalWebPage"
    assert data["lastReviewed"] == "2024-09-12"
    assert data["reviewedBy"] == {
        "@type": "Person",
        "name": "Dr Ada Lovelace",
        "hasCredential": {
            "@type": "EducationalOccupationalCredential",
            "name": "MD, dermatologist",
        },
    }
    citations = data["citation"]
    assert isinstance(citations, list)
    cited = [c for c in citations if c["name"] == "Topical imiquimod in a scalp lesion"]
    assert (
        cited
        and {"propertyID": "PMID", "value": "12345678", "@type": "PropertyValue"}
        in cited[0]["identifier"]
    )


def test_json_ld_escapes_a_hostile_title(client: Client, small_site: SmallSite) -> None:
    article = small_site.article
    article.title = "Cream </script><script>alert(1)</script>"
    article.save_revision().publish()
    html = client.get(article.url).content.decode()
    assert "<script>alert(1)" not in html
    assert _json_ld(html)["name"] == "Cream </script><script>alert(1)</script>"


def test_print_stylesheet_hides_navigation_and_keeps_references() -> None:
    path = finders.find("css/print.css")
    assert path, "static/css/print.css is missing"
    css = Path(str(path)).read_text(encoding="utf-8")
    hidden = css.split("display: none")[0]
    assert "nav" in hidden and ".skip-link" in hidden and ".search-form" in hidden
    assert ".references" in css and "display: block" in css


def test_publication_entry_shows_reference_links_and_labels_demo_sources(
    client: Client, small_site: SmallSite
) -> None:
    from evidencepress.evidence.models import Publication

    html = client.get(f"/evidence/publications/{small_site.publication.pk}/").content.decode()
    assert "Topical imiquimod in a scalp lesion" in html
    assert 'href="https://pubmed.ncbi.nlm.nih.gov/12345678/"' in html
    assert "Demonstration data" not in html
    demo = Publication.objects.get(is_demo=True)
    demo_html = client.get(f"/evidence/publications/{demo.pk}/").content.decode()
    assert "Demonstration data — not medical evidence" in demo_html
    assert "1 reported case" in demo_html
    assert client.get("/evidence/publications/999999/").status_code == 404


def test_the_article_reference_list_links_to_the_publication_entry(
    client: Client, small_site: SmallSite
) -> None:
    html = client.get(small_site.article.url).content.decode()
    assert f'href="/evidence/publications/{small_site.publication.pk}/"' in html


def test_feed_items_that_show_invented_cases_say_so(client: Client, small_site: SmallSite) -> None:
    def description(title: str) -> str:
        root = ElementTree.fromstring(client.get("/feeds/articles.xml").content)
        for item in root.iter("item"):
            if item.findtext("title") == title:
                return item.findtext("description") or ""
        raise AssertionError(f"{title} is not in the feed")

    assert "Demonstration data" not in description("Side effects of imiquimod")
    older = small_site.older
    older.body = json.dumps(
        [{"type": "evidence_summary", "value": {"heading": "What the reports show", "intro": ""}}]
    )
    older.save_revision().publish()
    assert "Demonstration data — not medical evidence" in description("Side effects of imiquimod")
