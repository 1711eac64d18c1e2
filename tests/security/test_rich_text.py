"""D2: links typed into rich text never become `javascript:` (or other script) URLs.

An editor's rich text reaches the database through Wagtail's Draftail converter (the admin
form posts Draft.js "content state" JSON). Hostile link targets are posted through the real
page edit form and through a StreamField rich text block, and the page a reader gets is
parsed the way a browser would read it: entities decoded, tabs and newlines removed from the
URL, leading spaces and control characters stripped.
"""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

import pytest
from django.test import Client
from wagtail.blocks import RichTextBlock
from wagtail.models import Page

from evidencepress.articles.blocks import CitedRichTextBlock
from evidencepress.articles.models import HomePage
from evidencepress.demo.loader import ensure_home_page

HOSTILE_URLS = [
    "javascript:alert(1)",
    " jav&#x09;ascript:alert(1)",
    "jav\tascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    "\x01javascript:alert(1)",
    "java\nscript:alert(1)",
    "javascript&colon;alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "vbscript:msgbox(1)",
]
SAFE_URL = "https://example.org/reading"
DANGEROUS_SCHEMES = {"javascript", "data", "vbscript"}


class _Links(HTMLParser):
    """Collects every href as a browser sees it (html.parser decodes entities like browsers)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.hrefs.extend(value or "" for name, value in attrs if name == "href")


def browser_scheme(href: str) -> str:
    """The URL scheme a browser would use (WHATWG URL: strip C0/space, drop tab and newline)."""
    cleaned = re.sub(r"[\t\n\r]", "", href.strip("\x00\x01\x02\x03\x04\x05 \t\n\r\x0c\x1f"))
    cleaned = re.sub(r"^[\x00-\x20]+", "", cleaned)
    match = re.match(r"([a-zA-Z][a-zA-Z0-9+.-]*):", cleaned)
    return match.group(1).lower() if match else ""


def dangerous_hrefs(html: str) -> list[str]:
    parser = _Links()
    parser.feed(html)
    return [href for href in parser.hrefs if browser_scheme(href) in DANGEROUS_SCHEMES]


def contentstate(urls: list[str]) -> str:
    """Draft.js content state with one paragraph per link, as Draftail posts it."""
    blocks, entities = [], {}
    for index, url in enumerate(urls):
        blocks.append(
            {
                "key": f"b{index}",
                "type": "unstyled",
                "depth": 0,
                "text": f"link {index}",
                "inlineStyleRanges": [],
                "entityRanges": [{"offset": 0, "length": 6, "key": index}],
            }
        )
        entities[str(index)] = {"type": "LINK", "mutability": "MUTABLE", "data": {"url": url}}
    return json.dumps({"blocks": blocks, "entityMap": entities})


def test_the_browser_check_recognises_every_hostile_url() -> None:
    """Proves the assertions below can fail: each hostile URL, left as is, is flagged."""
    for url in HOSTILE_URLS:
        if "&colon;" in url:
            continue  # an entity-encoded colon is only dangerous once decoded in an attribute
        assert browser_scheme(url.replace("&#x09;", "\t")) in DANGEROUS_SCHEMES, url
    raw = "".join(f'<a href="{url}">x</a>' for url in HOSTILE_URLS)
    assert len(dangerous_hrefs(raw)) == len(HOSTILE_URLS)
    assert dangerous_hrefs(f'<a href="{SAFE_URL}">x</a>') == []


@pytest.fixture
def home(wagtail_tree: Page) -> HomePage:
    ensure_home_page()
    return HomePage.objects.get()


def test_hostile_links_posted_through_the_page_editor_are_not_rendered(
    client: Client, django_user_model: type, home: HomePage
) -> None:
    admin = django_user_model.objects.create_superuser("ada", "ada@example.org", "x" * 16)
    client.force_login(admin)
    response = client.post(
        f"/admin/pages/{home.pk}/edit/",
        {
            "title": home.title,
            "slug": home.slug,
            "introduction": contentstate([*HOSTILE_URLS, SAFE_URL]),
            "comments-TOTAL_FORMS": "0",
            "comments-INITIAL_FORMS": "0",
            "comments-MIN_NUM_FORMS": "0",
            "comments-MAX_NUM_FORMS": "1000",
            "action-publish": "publish",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    home.refresh_from_db()
    assert home.live and "link 0" in home.introduction
    assert dangerous_hrefs(home.introduction) == []  # stored HTML

    page = Client().get(home.url)
    html = page.content.decode()
    assert page.status_code == 200 and "link 8" in html  # the text is still there
    assert SAFE_URL in html  # ordinary links survive
    assert dangerous_hrefs(html) == []


def test_hostile_links_in_a_streamfield_rich_text_block_are_not_rendered() -> None:
    block = CitedRichTextBlock()
    text_block = block.child_blocks["text"]
    assert isinstance(text_block, RichTextBlock)
    value = text_block.value_from_datadict({"t": contentstate([*HOSTILE_URLS, SAFE_URL])}, {}, "t")
    stored = text_block.get_prep_value(value)
    assert "link 0" in stored and SAFE_URL in stored
    assert dangerous_hrefs(stored) == []
    assert dangerous_hrefs(text_block.render(value)) == []
