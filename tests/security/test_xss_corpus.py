"""D1 (parse gate): the stored-XSS corpus through every authoring input, then every page parsed.

security/xss/payloads.txt holds ~240 payloads (script elements, javascript:/data: URLs in
many spellings, event handlers, SVG and MathML, attribute and raw-text breakouts, TableBlock
class attributes, template syntax). security/xss/seed.py stores them through the real admin
views, the import command and the public request form (see its docstring). Then the public
pages, feeds, admin listings and edit views, choosers and the summary request views are
fetched and parsed (lxml's HTML parser, entities decoded) and must contain:

- 0 `<script>` elements outside the allowlist, which is learnt from clean pages rendered
  before any payload was stored, plus our own and Wagtail's static JavaScript files;
- 0 `on*` attributes;
- 0 `javascript:`/`vbscript:`/`data:` URLs in href, src and the other URL attributes
  (no exceptions were needed: Wagtail's admin uses no data: URL in these pages).

The Playwright version (0 dialogs in a real browser) is security/xss_browser.py, nightly.
"""

from __future__ import annotations

import datetime
import html
import json
import re
from pathlib import Path

import lxml.html
import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.staticfiles import finders
from django.test import Client

from evidencepress.articles.models import ArticlePage, HomePage, TopicPage
from evidencepress.core import roles
from evidencepress.demo.loader import ensure_home_page
from evidencepress.evidence.models import Topic
from security.xss.corpus import Allowlist, feed_html_parts, payloads, scan_html
from security.xss.seed import SEARCH_WORD, Seeded, contentstate, seed

from ..conftest import ensure_wagtail_tree

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.slow,
    # The swimmer plot's title holds characters its font lacks (e.g. "＜") and is very long:
    # matplotlib warns (a box for the glyph, a squeezed layout) and still draws; pytest would
    # otherwise turn those warnings into errors.
    pytest.mark.filterwarnings("ignore:Glyph .* missing from font"),
    pytest.mark.filterwarnings("ignore:constrained_layout not applied"),  # a 255-character title
]


def static_scripts() -> set[str]:
    """Every JavaScript file the static finders serve: ours and Wagtail's."""
    found: set[str] = set()
    for finder in finders.get_finders():
        for path, _storage in finder.list([]):
            if path.endswith(".js"):
                found.add(f"/static/{path}")
    return found


def learn_clean_pages(editor: Client, summary_editor: Client, home: HomePage) -> Allowlist:
    """The scripts of clean pages of every kind the test later reads, before any payload."""
    allow = Allowlist(sources=static_scripts())
    topic = Topic.objects.create(name="Clean", slug="clean", treatment="T", condition="C")
    clean = TopicPage(title="Clean topic", slug="clean-topic", topic=topic)
    home.add_child(instance=clean)
    clean.save_revision().publish()
    urls = [
        "/admin/",
        f"/admin/pages/{home.pk}/",
        f"/admin/pages/{home.pk}/edit/",
        f"/admin/pages/{clean.pk}/edit/",
        f"/admin/pages/add/articles/archiveindexpage/{home.pk}/",
        f"/admin/pages/add/articles/articlepage/{clean.pk}/",
        "/admin/snippets/articles/clinicalreviewer/add/",
        "/admin/images/add/",
        "/admin/topic/new/",
        f"/admin/topic/edit/{topic.pk}/",
        "/admin/publication/new/",
    ]
    for url in urls:
        response = editor.get(url)
        assert response.status_code == 200, url
        allow.learn(response.content.decode())
    for client, url in (
        (Client(), "/"),
        (Client(), clean.url),
        (summary_editor, "/admin/summaries/"),
    ):
        allow.learn(client.get(url).content.decode())
    clean.delete()
    topic.delete()
    learnt = " ".join([*allow.inline, *allow.sources])
    assert "alert" not in learnt  # the clean pages held no payload: nothing hostile was learnt
    return allow


@pytest.fixture
def clients(staff_roles: None) -> tuple[Client, Client]:
    ensure_wagtail_tree()
    ensure_home_page()
    users = get_user_model().objects
    admin = users.create_superuser("xss-admin", "xss-admin@example.org", "x" * 20)
    summary_editor = users.create_user("xss-summaries", "xss-s@example.org", "x" * 20)
    summary_editor.groups.add(Group.objects.get(name=roles.SUMMARY_EDITORS))
    editor, reader_editor = Client(), Client()
    editor.force_login(admin)
    reader_editor.force_login(summary_editor)
    return editor, reader_editor


def _text(page: str) -> str:
    return lxml.html.document_fromstring(page).text_content()


# Places a payload can land in a template, unescaped: text, attributes, a URL, raw text.
CONTEXTS = [
    "<div>{}</div>",
    '<div title="{}">x</div>',
    "<div title='{}'>x</div>",
    "<div title={}>x</div>",
    '<a href="{}">x</a>',
    '<div class="{}">x</div>',
    "<textarea>{}</textarea>",
    "<title>{}</title>",
]


def test_the_scanner_flags_the_corpus_when_it_is_not_escaped() -> None:
    """Proves the checks below can fail: left unescaped, most payloads run somewhere.

    The rest are template syntax, encodings that only matter to other decoders, and a few
    breakouts that only a browser's HTML parser sees (lxml's does not), which the Playwright
    gate covers.
    """
    corpus = payloads()
    assert len(corpus) >= 200
    flagged = [
        p
        for p in corpus
        if any(scan_html(f"<html><body>{c.format(p)}</body></html>") for c in CONTEXTS)
    ]
    assert len(flagged) >= 190, len(flagged)
    escaped = "".join(f'<div title="{html.escape(p)}">{html.escape(p)}</div>' for p in corpus)
    assert scan_html(f"<html><body>{escaped}</body></html>") == []


def test_the_corpus_stored_everywhere_renders_inert(
    clients: tuple[Client, Client], tmp_path: Path
) -> None:
    editor, summary_editor = clients
    home = HomePage.objects.get()
    allow = learn_clean_pages(editor, summary_editor, home)
    seeded: Seeded = seed(editor, tmp_path)

    findings: dict[str, list[str]] = {}
    pages: dict[str, str] = {}

    def check(url: str, client: Client) -> None:
        response = client.get(url)
        if response.status_code != 200:
            findings[url] = [f"HTTP {response.status_code}"]
            return
        body = response.content.decode()
        pages[url] = body
        if url.startswith("/feeds/"):
            found = [f for part in feed_html_parts(response.content) for f in scan_html(part)]
        elif response["Content-Type"].startswith("application/json"):
            found = scan_html(json.loads(body).get("html", ""), allow)
        else:
            found = scan_html(body, allow)
        if found:
            findings[url] = found

    anonymous = Client()
    for url in [*seeded.public_urls, *seeded.feed_urls]:
        check(url, anonymous)
    for url in [*seeded.admin_urls, *seeded.chooser_urls]:
        check(url, editor)
    for url in seeded.summaries_urls:
        check(url, summary_editor)
    echo = anonymous.post("/summaries/request/", seeded.request_form_post)
    assert echo.status_code == 200  # the form again, with the answers typed
    if found := scan_html(echo.content.decode(), allow):
        findings["POST /summaries/request/"] = found

    checked = len(pages) + 1
    summary = "\n".join(f"{url}: {found[:5]}" for url, found in findings.items())
    assert findings == {}, f"{len(findings)} of {checked} responses run script:\n{summary}"

    # The payloads really are on the pages, shown as the characters typed.
    article = next(url for url in seeded.public_urls if "xss-article" in url)
    article_text = _text(pages[article])
    for shown in ("<script>alert(101)</script>", "{% debug %}", "{{ request.user }}"):
        assert shown in article_text, shown
    for url in seeded.summaries_urls[1:]:  # each request's answers, shown as text
        assert re.search(r"<script>alert\(\d+\)</script>", _text(pages[url])), url
    assert re.search(SEARCH_WORD, pages[f"/search/?q={SEARCH_WORD}"])
    print(f"D1 parse gate: {len(payloads())} payloads, {checked} responses parsed, 0 findings")


# --- regressions for what the corpus found --------------------------------------------------


def test_feeds_escape_the_summary_and_survive_control_characters(
    clients: tuple[Client, Client],
) -> None:
    """Found by the corpus: an article summary was put into RSS/Atom as HTML unescaped (a feed
    reader would have run its <script>), and a control character in a title or summary made
    every feed answer 500 (XML 1.0 cannot carry it)."""
    home = HomePage.objects.get()
    topic = Topic.objects.create(
        name="Feed\x0c topic", slug="feed-topic", treatment="T", condition="C"
    )
    topic_page = TopicPage(title="Feed topic", slug="feed-topic", topic=topic)
    home.add_child(instance=topic_page)
    topic_page.save_revision().publish()
    article = ArticlePage(
        title="Pasted\x0btitle",
        slug="pasted",
        topic=topic,
        summary='Plain words <script>alert("feed")</script>\x0c<img src=x onerror=alert(2)>',
        date=datetime.date(2024, 9, 1),
    )
    topic_page.add_child(instance=article)
    article.save_revision().publish()
    for url in ("/feeds/articles.xml", "/feeds/articles.atom", "/feeds/topics/feed-topic.xml"):
        response = Client().get(url)
        assert response.status_code == 200, url
        parts = feed_html_parts(response.content)
        shown = " ".join(lxml.html.fromstring(f"<div>{p}</div>").text_content() for p in parts)
        assert '<script>alert("feed")</script>' in shown, url  # the characters typed, as text
        assert [found for part in parts for found in scan_html(part)] == [], url
        assert b"Pastedtitle" in response.content


def test_rich_text_ids_that_are_not_numbers_are_dropped_on_save(
    clients: tuple[Client, Client],
) -> None:
    """Found by the corpus: a raw content state naming a page, document or image by a
    non-numeric id was stored as is, and then every render of the page (public and editor)
    failed with ValueError. Now the id is dropped on save and both views answer 200."""
    editor, _ = clients
    home = HomePage.objects.get()
    state = json.loads(contentstate(["Some text"], ["https://example.org/"]))
    response = editor.post(
        f"/admin/pages/{home.pk}/edit/",
        {
            "title": "Home",
            "slug": home.slug,
            "introduction": json.dumps(state),
            "comments-TOTAL_FORMS": "0",
            "comments-INITIAL_FORMS": "0",
            "comments-MIN_NUM_FORMS": "0",
            "comments-MAX_NUM_FORMS": "1000",
            "action-publish": "publish",
        },
    )
    assert response.status_code == 302
    home.refresh_from_db()
    stored = home.introduction
    text = lxml.html.fragment_fromstring(stored, create_parent="div").text_content()
    assert "document link" in text and "page link" in text  # the text is kept
    assert "alert(130" not in stored and 'linktype="document"' not in stored
    assert 'href="https://example.org/"' in stored  # ordinary links are untouched
    assert Client().get("/").status_code == 200
    assert editor.get(f"/admin/pages/{home.pk}/edit/").status_code == 200
