"""Inline citations: a publication cited inside a sentence of rich text, numbered like the
article's reference list, linked both ways, and edited through the real admin."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.core.management import call_command
from django.test import Client
from wagtail.admin.rich_text.converters.contentstate import ContentstateConverter

from evidencepress.articles.citations import inline_citation_ids, number_citations
from evidencepress.articles.models import ArticlePage
from evidencepress.articles.rendering import rendered_bodies
from evidencepress.articles.static_export import file_for
from evidencepress.demo.loader import load_demo
from evidencepress.evidence.models import Publication

from .conftest import author, complete_body

pytestmark = pytest.mark.django_db

FEATURES = ["bold", "italic", "link", "citation", "ol", "ul"]
GROUP = '<span class="cite-group">'
REFERENCE_LINK = re.compile(
    r'<a href="#ref-(\d+)"(?: id="cite-\d+")? aria-label="Reference (\d+)">(\d+)</a>'
)


def without_block_keys(html: str) -> str:
    """Stored rich text without the paragraph keys Draftail adds (data-block-key)."""
    return re.sub(r' data-block-key="[^"]*"', "", html)


def cite(pk: int, words: str) -> str:
    return f'<a linktype="publication" id="{pk}">{words}</a>'


def prose(text: str, citations: list[int] | None = None) -> dict[str, Any]:
    return {"type": "rich_text", "value": {"text": text, "citations": citations or []}}


def body_html(html: str) -> str:
    """The article's blocks, without the header, the reference list and the rest of the page."""
    start = html.index('<header class="article-header">')
    return html[start : html.index('id="references-heading"')]


def reference_numbers(html: str) -> list[int]:
    """Reference numbers the body shows (inline and after blocks), in reading order."""
    numbers = []
    for href, label, text in REFERENCE_LINK.findall(body_html(html)):
        assert href == label == text  # the link, its accessible name and its text agree
        numbers.append(int(text))
    return numbers


def reference_entry(html: str, number: int) -> str:
    match = re.search(rf'<li id="ref-{number}".*?</li>', html, re.DOTALL)
    assert match, f"no reference {number}"
    return match.group(0)


@pytest.fixture
def third(publications: dict[str, Publication]) -> Publication:
    """A publication cited only inside a sentence, never in a "Sources cited" list."""
    return Publication.objects.create(
        title="Imiquimod on the scalp", journal="Scalp J", year=2019, authors=[author("Delta", "D")]
    )


# --- stored format and the numbering pass ----------------------------------------------------


def test_inline_citation_ids_are_read_in_reading_order_and_forged_ids_are_ignored() -> None:
    stored = (
        f"<p>First {cite(7, 'claim')}, then {cite(3, 'another')} and "
        '<a linktype="publication" id="x">forged</a>, <a href="https://example.org">a link</a>, '
        f'<a linktype="page" id="9">a page</a> and {cite(7, "the first again")}.</p>'
    )
    assert list(inline_citation_ids(stored)) == [7, 3, 7]


def test_numbering_turns_placeholders_into_superscripts_and_anchors_the_first_citation() -> None:
    html = (
        '<p>Skin <a data-cite="5" href="/evidence/publications/5/">gets red</a>. '
        'It is <a data-cite="9" href="/evidence/publications/9/">rarely serious</a>. '
        'Gone: <a data-cite="4" href="/evidence/publications/4/">a deleted source</a>.'
        '<sup class="cite">[<a href="#ref-1" aria-label="Reference 1">1</a>]</sup></p>'
    )
    out = number_citations(html, {5: 1, 9: 2})

    assert "data-cite" not in out
    assert 'gets red<sup class="cite">[<a href="#ref-1" id="cite-1"' in out
    assert 'rarely serious<sup class="cite">[<a href="#ref-2" id="cite-2"' in out
    assert "Gone: a deleted source.<sup" in out  # no number, no link, the words kept
    assert out.count('id="cite-1"') == 1  # the later marker for reference 1 gets no id
    assert number_citations(out, {5: 1, 9: 2}) == out  # running twice changes nothing


# --- contentstate: the editor's format ----------------------------------------------------------


def test_database_format_round_trips_through_the_editor_format(
    publications: dict[str, Publication],
) -> None:
    mech = publications["mechanism"]
    converter = ContentstateConverter(features=FEATURES)
    stored = f"<p>Imiquimod {cite(mech.pk, 'wakes immune cells')} in the skin.</p>"

    state = json.loads(converter.from_database_format(stored))
    (entity,) = state["entityMap"].values()
    assert entity["type"] == "CITATION"
    assert entity["data"]["id"] == mech.pk
    assert entity["data"]["url"] == f"/evidence/publications/{mech.pk}/"
    assert "How cream X works" in entity["data"]["label"]
    (block,) = state["blocks"]
    (entity_range,) = block["entityRanges"]
    cited = block["text"][entity_range["offset"] : entity_range["offset"] + entity_range["length"]]
    assert cited == "wakes immune cells"

    assert without_block_keys(converter.to_database_format(json.dumps(state))) == stored


def test_editor_sees_a_missing_publication_and_a_forged_id_is_not_stored(
    publications: dict[str, Publication],
) -> None:
    converter = ContentstateConverter(features=FEATURES)
    state = json.loads(converter.from_database_format(f"<p>{cite(987654, 'gone')}</p>"))
    (entity,) = state["entityMap"].values()
    assert entity["data"] == {"id": 987654}  # no url: the editor shows it as missing

    hostile = "javascript:alert(1)"
    forged = {
        "blocks": [
            {
                "key": "a1",
                "type": "unstyled",
                "depth": 0,
                "text": "forged words",
                "inlineStyleRanges": [],
                "entityRanges": [
                    {"offset": 0, "length": 6, "key": 0},
                    {"offset": 7, "length": 5, "key": 1},
                ],
            }
        ],
        "entityMap": {
            "0": {"type": "CITATION", "data": {"id": "javascript:x", "url": hostile}},
            "1": {"type": "CITATION", "data": {"id": publications["safety"].pk, "url": hostile}},
        },
    }
    stored = converter.to_database_format(json.dumps(forged))
    # The forged id is dropped with its link; a posted url is never stored, only the id.
    assert without_block_keys(stored) == (
        f'<p>forged <a linktype="publication" id="{publications["safety"].pk}">words</a></p>'
    )


# --- the public article -------------------------------------------------------------------------


def test_rendered_article_numbers_inline_citations_with_the_block_lists(
    client: Client,
    make_article: Callable[..., ArticlePage],
    publications: dict[str, Publication],
    third: Publication,
) -> None:
    mech, safety = publications["mechanism"], publications["safety"]
    body = [
        prose(
            f"<p>Some people {cite(safety.pk, 'got very red skin')}. "
            f"The cream was also {cite(third.pk, 'used on the scalp')}.</p>",
            citations=[mech.pk],
        ),
        *complete_body(publications),
    ]
    article = make_article(body=body)
    html = client.get(article.url).content.decode()

    # One number per publication, in order of first citation: safety (inline), the scalp paper
    # (inline only), the mechanism paper (the first block's list), then the demo case source.
    assert [pub.pk for pub in article.cited_publications()] == [
        safety.pk,
        third.pk,
        mech.pk,
        publications["demo"].pk,
    ]
    numbers = reference_numbers(html)
    assert numbers[:3] == [1, 2, 3]
    assert set(numbers) <= {1, 2, 3, 4}
    assert f'got very red skin{GROUP}<sup class="cite">[<a href="#ref-1" id="cite-1"' in html
    assert f'used on the scalp{GROUP}<sup class="cite">[<a href="#ref-2" id="cite-2"' in html
    assert "data-cite" not in html

    # Each superscript leads to its numbered entry, which links to the publication's page
    # and PubMed as before, and back to the first place the text cites it.
    for number, pub in ((1, safety), (2, third), (3, mech)):
        entry = reference_entry(html, number)
        assert f'href="/evidence/publications/{pub.pk}/"' in entry
        assert f'href="#cite-{number}"' in entry
    assert "https://pubmed.ncbi.nlm.nih.gov/11111111/" in reference_entry(html, 3)
    assert "Scalp J" in reference_entry(html, 2)
    # Every "back to text" link has its target on the page, exactly once.
    for target in re.findall(r'href="#(cite-\d+)"', html):
        assert html.count(f'id="{target}"') == 1


def test_a_publication_cited_inline_and_in_a_list_gets_one_number(
    client: Client, make_article: Callable[..., ArticlePage], publications: dict[str, Publication]
) -> None:
    mech = publications["mechanism"]
    article = make_article(
        body=[
            prose(f"<p>It {cite(mech.pk, 'wakes immune cells')}.</p>", citations=[mech.pk]),
            prose(f"<p>Again, it {cite(mech.pk, 'works through the immune system')}.</p>"),
        ]
    )
    html = client.get(article.url).content.decode()

    assert [ref.number for ref in article.references()] == [1]
    assert reference_numbers(html) == [1, 1, 1]  # inline, the block's list, inline again
    assert html.count('id="cite-1"') == 1
    assert 'id="ref-2"' not in html


def test_a_citation_of_a_deleted_publication_renders_as_plain_text_and_warns_editors(
    client: Client,
    django_user_model: Any,
    make_article: Callable[..., ArticlePage],
    publications: dict[str, Publication],
    third: Publication,
) -> None:
    gone_pk = third.pk
    article = make_article(
        body=[prose(f"<p>A report {cite(gone_pk, 'described it once')}, we thought.</p>")]
    )
    third.delete()

    html = client.get(article.url).content.decode()
    assert "A report described it once, we thought." in html
    assert "data-cite" not in html and 'class="cite"' not in html
    assert "This article cites no publications yet." in html
    assert article.missing_citation_ids() == [gone_pk]

    editor = django_user_model.objects.create_superuser("eve", "eve@example.org", "x" * 16)
    client.force_login(editor)
    response = client.get(f"/admin/pages/{article.pk}/edit/")
    assert response.status_code == 200
    warnings = [str(m) for m in get_messages(response.wsgi_request)]
    assert any(f"no longer exist (id {gone_pk})" in w for w in warnings), warnings


@pytest.mark.django_db(transaction=True)  # the body cache is off inside a transaction
def test_changing_a_citation_changes_the_rendered_body(
    client: Client,
    make_article: Callable[..., ArticlePage],
    publications: dict[str, Publication],
    third: Publication,
) -> None:
    """The body's HTML is cached: a new citation must show at once, not the old numbering."""
    mech = publications["mechanism"]
    article = make_article(body=[prose(f"<p>It {cite(mech.pk, 'works')}.</p>")])
    rendered_bodies.clear()
    first = client.get(article.url).content.decode()
    assert 'works<span class="cite-group"><sup class="cite">' in first and "Scalp J" not in first
    assert len(rendered_bodies) == 1  # the body was kept for the next request
    assert client.get(article.url).content.decode() == first  # served again, unchanged

    page = ArticlePage.objects.get(pk=article.pk)
    page.body = [
        prose(f"<p>It {cite(third.pk, 'helps')} and {cite(mech.pk, 'works')}.</p>"),
    ]
    page.save_revision().publish()
    second = client.get(article.url).content.decode()
    assert 'helps<span class="cite-group"><sup class="cite">[<a href="#ref-1"' in second
    assert 'works<span class="cite-group"><sup class="cite">[<a href="#ref-2"' in second
    assert "Scalp J" in reference_entry(second, 1)


def test_json_ld_citations_follow_the_numbered_reference_list(
    client: Client,
    make_article: Callable[..., ArticlePage],
    publications: dict[str, Publication],
    third: Publication,
) -> None:
    mech = publications["mechanism"]
    article = make_article(
        body=[prose(f"<p>First {cite(third.pk, 'the scalp')}.</p>", citations=[mech.pk])]
    )
    html = client.get(article.url).content.decode()
    match = re.search(r'<script type="application/ld\+json">(.*?)</script>', html, re.DOTALL)
    assert match
    data = json.loads(match.group(1))
    names = [item["name"] for item in data["citation"]]
    assert names == [ref.title.rstrip(".") for ref in article.references()]
    assert names[0].startswith("Imiquimod on the scalp")


def test_static_export_writes_the_same_numbered_citations(
    client: Client,
    make_article: Callable[..., ArticlePage],
    publications: dict[str, Publication],
    third: Publication,
    tmp_path: Path,
) -> None:
    article = make_article(body=[prose(f"<p>It {cite(third.pk, 'was tried')}.</p>")])
    call_command("export_static", "--output", str(tmp_path / "site"), stdout=StringIO())

    exported = (tmp_path / "site" / file_for(article.url)).read_text(encoding="utf-8")
    assert f'was tried{GROUP}<sup class="cite">[<a href="#ref-1" id="cite-1"' in exported
    assert 'href="#cite-1" class="ref-back"' in reference_entry(exported, 1)
    assert exported == Client(HTTP_HOST="localhost").get(article.url).content.decode()


# --- the admin ------------------------------------------------------------------------------------


def test_an_inline_citation_posted_through_the_page_editor_is_stored(
    client: Client,
    django_user_model: Any,
    make_article: Callable[..., ArticlePage],
    publications: dict[str, Publication],
) -> None:
    safety = publications["safety"]
    article = make_article(body=[])
    editor = django_user_model.objects.create_superuser("ed", "ed@example.org", "x" * 16)
    client.force_login(editor)
    state = {
        "blocks": [
            {
                "key": "k1",
                "type": "unstyled",
                "depth": 0,
                "text": "Some people got very red skin.",
                "inlineStyleRanges": [],
                "entityRanges": [{"offset": 12, "length": 17, "key": 0}],
            }
        ],
        "entityMap": {
            "0": {"type": "CITATION", "mutability": "MUTABLE", "data": {"id": safety.pk}}
        },
    }
    response = client.post(
        f"/admin/pages/{article.pk}/edit/",
        {
            "title": article.title,
            "slug": article.slug,
            "summary": article.summary,
            "date": "2024-09-12",
            "topic": str(article.topic_id),
            "body-count": "1",
            "body-0-type": "rich_text",
            "body-0-deleted": "",
            "body-0-order": "0",
            "body-0-id": "",
            "body-0-value-text": json.dumps(state),
            "body-0-value-citations-count": "0",
            "comments-TOTAL_FORMS": "0",
            "comments-INITIAL_FORMS": "0",
            "comments-MIN_NUM_FORMS": "0",
            "comments-MAX_NUM_FORMS": "1000",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]

    draft = ArticlePage.objects.get(pk=article.pk).get_latest_revision_as_object()
    stored = without_block_keys(draft.body[0].value["text"].source)
    assert stored == (
        f'<p>Some people <a linktype="publication" id="{safety.pk}">got very red skin</a>.</p>'
    )
    assert [pub.pk for pub in draft.cited_publications()] == [safety.pk]


# --- the demo article ---------------------------------------------------------------------------

INLINE = re.compile(
    r'([\w ,-]+)(?:<span class="cite-group">)?<sup class="cite">\[<a href="#ref-(\d+)"'
)


def test_demo_article_cites_real_publications_inside_sentences(
    wagtail_tree: Any, client: Client
) -> None:
    load_demo()
    article = ArticlePage.objects.get(slug="imiquimod-cream-angiosarcoma")
    html = client.get(article.url).content.decode()
    # (text before a superscript, its number), for the superscripts right after words
    cited = [(text.strip(), int(n)) for text, n in INLINE.findall(body_html(html))]
    by_number = {ref.number: ref for ref in article.references()}

    for words, title in (
        ("toll-like receptors 7 and 8", "Imiquimod - Its role in the treatment"),
        ("Kaposi sarcoma", "Efficacy of 5% imiquimod cream in a patient with classic Kaposi"),
        ("infantile haemangiomas", "Imiquimod 5% cream versus timolol"),
        ("a few have been serious", "Severe Systemic Reaction to Topical Imiquimod"),
    ):
        (number,) = [n for text, n in cited if text.endswith(words)]
        ref = by_number[number]
        assert ref.title.startswith(title), (words, ref.title)
        assert not ref.is_demo  # inline citations point at real reports only
        assert f'href="/evidence/publications/{ref.key}/"' in reference_entry(html, ref.number)
    # Every "back to text" link has its target in the text, exactly once.
    back_links = re.findall(r'href="#(cite-\d+)"', html)
    assert len(back_links) >= 4
    for target in back_links:
        assert html.count(f'id="{target}"') == 1, target
    # The invented series keeps its label in the reference list.
    demo_refs = [ref for ref in article.references() if ref.is_demo]
    assert demo_refs
    assert "Demonstration data — not medical evidence" in reference_entry(html, demo_refs[0].number)
