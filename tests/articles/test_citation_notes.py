"""The "What we read in it" note next to each inline citation: the passages the citation names,
how each was read, valid inside a paragraph, and hidden until the reader opens it."""

from __future__ import annotations

import re
from collections.abc import Callable
from html.parser import HTMLParser
from typing import Any

import pytest
from django.test import Client

from evidencepress.articles.citations import number_citations, placeholder_tag
from evidencepress.articles.models import ArticlePage
from evidencepress.evidence.models import Passage, Publication

from .test_inline_citations import body_html, cite, prose

pytestmark = pytest.mark.django_db

# Elements a paragraph may hold (phrasing content) that the note uses; anything else inside a
# <p> would end the paragraph in a browser's parser.
PHRASING = {"a", "span", "sup", "button", "em", "strong", "time", "br", "abbr", "cite"}


class _InParagraph(HTMLParser):
    """Every element opened inside a <p>, to prove the notes are phrasing content."""

    def __init__(self) -> None:
        super().__init__()
        self.depth = 0
        self.inside: list[str] = []

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag == "p":
            self.depth += 1
        elif self.depth:
            self.inside.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag == "p" and self.depth:
            self.depth -= 1


def test_the_placeholder_names_only_whole_number_passages() -> None:
    assert placeholder_tag("5", "/p/5/", "31 x 32") == (
        '<a data-cite="5" data-passages="31 32" href="/p/5/">'
    )
    assert placeholder_tag("5", "/p/5/", "") == '<a data-cite="5" href="/p/5/">'
    assert placeholder_tag("x", "/p/x/", "31") == '<a data-cite="">'


def test_numbering_hands_each_citation_its_passages_and_a_running_count() -> None:
    html = (
        '<p>A <a data-cite="5" data-passages="31 32" href="/e/5/">claim</a> and '
        '<a data-cite="9" href="/e/9/">another</a>, '
        '<a data-cite="4" data-passages="8" href="/e/4/">gone</a>.</p>'
    )
    calls: list[tuple[int, int, tuple[int, ...], int]] = []

    def note(pk: int, number: int, passages: tuple[int, ...], n: int) -> tuple[str, str]:
        calls.append((pk, number, passages, n))
        return f"<button>{n}</button>", f'<span id="note-{n}">{passages}</span>'

    out = number_citations(html, {5: 1, 9: 2}, note)
    # A citation of a publication not in the list (4) has no number and no note.
    assert calls == [(5, 1, (31, 32), 1), (9, 2, (), 2)]
    assert (
        'claim<span class="cite-group"><sup class="cite">[<a href="#ref-1" id="cite-1" '
        'aria-label="Reference 1">1</a>]</sup><button>1</button></span>'
        '<span id="note-1">(31, 32)</span>'
    ) in out
    assert "gone." in out and "data-cite" not in out
    assert number_citations(out, {5: 1, 9: 2}, note) == out  # a second pass changes nothing


@pytest.fixture
def read(publications: dict[str, Publication]) -> dict[str, Passage]:
    mech = publications["mechanism"]
    return {
        "own": Passage.objects.create(
            publication=mech,
            key="immune",
            text="Imiquimod activates toll-like receptor 7 <in the skin>.",
            location=Passage.Location.ABSTRACT,
        ),
        "cited": Passage.objects.create(
            publication=mech,
            key="headache",
            text="An earlier trial: 6.0% had a headache.",
            location=Passage.Location.FULL_TEXT,
            location_detail="Discussion",
            attribution=Passage.Attribution.CITED,
        ),
        "not seen": Passage.objects.create(
            publication=mech,
            key="adverse",
            text="Adverse-effect section not visible.",
            location=Passage.Location.METADATA,
            seen=False,
        ),
    }


def test_a_rendered_article_shows_each_citations_passages_next_to_it(
    client: Client,
    make_article: Callable[..., ArticlePage],
    publications: dict[str, Publication],
    read: dict[str, Passage],
) -> None:
    mech = publications["mechanism"]
    own, cited, unseen = read["own"], read["cited"], read["not seen"]
    first = cite(mech.pk, "wakes immune cells").replace(">", f' passages="{own.pk}">', 1)
    second = cite(mech.pk, "gave headaches").replace(">", f' passages="{cited.pk} {unseen.pk}">', 1)
    article = make_article(
        body=[prose(f"<p>It {first}. In one trial it {second}. Or {cite(mech.pk, 'not')}.</p>")]
    )
    html = body_html(client.get(article.url).content.decode())

    note = re.compile(r'<span class="cite-note" id="(cite-note-\d+)" hidden>(.*?)</a></span>')
    notes = note.findall(html)
    assert [note_id for note_id, _ in notes] == ["cite-note-1", "cite-note-2", "cite-note-3"]
    for note_id, _ in notes:  # each button controls its note, and starts hidden (no JS: a link)
        assert f'aria-expanded="false" aria-controls="{note_id}" hidden>' in html
    one, two, three = (text for _, text in notes)
    assert "What we read in reference 1" in one
    # The passage text is escaped, and says where it was read and whose finding it is.
    assert "“Imiquimod activates toll-like receptor 7 &lt;in the skin&gt;.”" in one
    assert "(Abstract; the authors&#x27; own finding)" in one
    assert "headache" not in one
    assert "(Full-text section: Discussion; second-hand: a figure the authors cite" in two
    assert 'class="cite-note-passage is-not-seen"' in two
    assert "not seen: this records what was not visible in what we read" in two
    assert "This citation names no passage that we read." in three
    assert three.endswith('<a class="cite-note-ref" href="#ref-1">Reference 1 in the list')

    parser = _InParagraph()
    parser.feed(html)
    assert "button" in parser.inside and set(parser.inside) <= PHRASING


def test_a_demo_source_is_labelled_in_its_note(
    client: Client, make_article: Callable[..., ArticlePage], publications: dict[str, Publication]
) -> None:
    demo = publications["demo"]
    article = make_article(body=[prose(f"<p>Invented cases {cite(demo.pk, 'improved')}.</p>")])
    html = body_html(client.get(article.url).content.decode())
    heading = re.search(r'<span class="cite-note-heading">(.*?)</span>(?=<span)', html)
    assert heading and "demonstration data" in heading.group(1)
