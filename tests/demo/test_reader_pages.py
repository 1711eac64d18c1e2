"""What a reader can reach on a freshly loaded demo: no "[Title not seen]" placeholder anywhere,
and no sourced fact rests on a publication whose title was not seen."""

from __future__ import annotations

import json
import re
from collections import deque
from typing import Any

import pytest
from django.test import Client

from evidencepress.demo.loader import DATA_DIR, load_demo
from evidencepress.evidence.models import EvidenceFact, Publication
from evidencepress.evidence.references import title_for_readers, title_seen

pytestmark = pytest.mark.django_db

PLACEHOLDER = "[Title not seen]"
# Links a reader follows on the public site (no admin, no static or media files).
_LINK = re.compile(r'href="(/[^"#?]*)"')
_SKIP = ("/admin/", "/static/", "/media/", "/documents/", "/summaries/", "/api/")


@pytest.fixture
def demo(wagtail_tree: Any) -> dict[str, int]:
    return load_demo()


def test_no_fact_cites_a_publication_whose_title_was_not_seen(demo: dict[str, int]) -> None:
    untitled = {
        record["key"]
        for record in json.loads((DATA_DIR / "publications.json").read_text(encoding="utf-8"))
        if not record.get("title")
    }
    assert untitled  # the data file does hold such records (kept for the curators)
    facts = json.loads((DATA_DIR / "facts.json").read_text(encoding="utf-8"))
    assert not [f["key"] for f in facts if f["publication"] in untitled]
    assert "muscle-weakness" not in {f["key"] for f in facts}
    assert not EvidenceFact.objects.filter(publication__title__startswith=PLACEHOLDER).exists()


def test_no_reader_page_shows_a_title_not_seen(demo: dict[str, int], client: Client) -> None:
    """Every public page reachable from the home page, the archive, the feeds, the sitemap
    and a search (and every publication entry they link to)."""
    start = ["/", "/archive/", "/sitemap.xml", "/feeds/articles.xml", "/search/?q=imiquimod"]
    start += ["/search/?q=muscle+weakness", "/search/?q=erythema"]
    queue, seen, shown = deque(start), set(start), []
    while queue:
        url = queue.popleft()
        response = client.get(url, HTTP_HOST="localhost")
        if response.status_code != 200:
            continue
        text = response.content.decode()
        if PLACEHOLDER in text:
            shown.append(url)
        for found in _LINK.findall(text) + re.findall(r"<loc>https?://[^/]+(/[^<]*)</loc>", text):
            if found not in seen and not found.startswith(_SKIP):
                seen.add(found)
                queue.append(found)
    assert len(seen) > 20  # the crawl did reach the site
    assert any(url.startswith("/evidence/publications/") for url in seen)
    assert shown == []


def test_every_publication_entry_shows_a_description_not_the_placeholder(
    demo: dict[str, int], client: Client
) -> None:
    """The entries are public by address even when nothing links to them."""
    for publication in Publication.objects.all():
        html = client.get(f"/evidence/publications/{publication.pk}/").content.decode()
        assert PLACEHOLDER not in html, publication.pk
    pasadyn = Publication.objects.get(title__contains="severe muscle weakness")
    assert pasadyn.title.startswith(PLACEHOLDER)  # stored as the curators wrote it
    html = client.get(f"/evidence/publications/{pasadyn.pk}/").content.decode()
    assert (
        '<h1 id="publication-title">Case report of severe muscle weakness after topical '
        "imiquimod</h1>"
    ) in html
    assert "We did not see this article’s own title" in html
    # The AMA reference leaves the unseen title out: authors, then the journal.
    assert re.search(r'<p class="reference">Pasadyn SR, Cain R\.\s+<cite>', html), html


def test_titles_for_readers() -> None:
    assert title_seen("Imiquimod-Associated Erythema Multiforme")
    assert not title_seen("\u200b[Title not seen] A case report")
    assert title_for_readers("[Title not seen] A case report") == "A case report"
    assert title_for_readers("A real title") == "A real title"
