"""Inline citations: reading them from stored rich text, and numbering them in rendered HTML.

Pure: imports nothing from Django or Wagtail. An editor cites a publication inside a sentence
with the rich-text "Citation" feature (articles/rich_text.py), which stores

    <a linktype="publication" id="12">the words the source supports</a>

When a page is shown, Wagtail's rewriter turns the opening tag into a placeholder,
`<a data-cite="12" href="/evidence/publications/12/">` (rich text is expanded without knowing the
page), and `number_citations` then rewrites the whole article body once:

- each placeholder becomes its words followed by a superscript link to the reference list,
  `words<sup class="cite">[<a href="#ref-2" aria-label="Reference 2">2</a>]</sup>`, numbered
  as the page's reference list is; a citation of a publication that is not in that list (for
  example one deleted since) keeps its words as plain text;
- the first link to each reference in the body gets `id="cite-N"`, where the reference list's
  "back to text" link points.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping

LINKTYPE = "publication"

_A_TAG = re.compile(r"<a\b([^>]*)>", re.IGNORECASE)
_ATTR = re.compile(r'([\w-]+)="([^"]*)"')
# The placeholder the link handler writes, its words, and the link's end. A citation never
# contains another link (Draftail entities do not nest), so the first </a> closes it.
_PLACEHOLDER = re.compile(r'<a data-cite="(\d*)"[^>]*>(.*?)</a>', re.DOTALL)
# Every link to a reference-list entry, as written by `citation_marker` and the `cite` tag.
_REFERENCE_LINK = re.compile(r'<a href="#ref-(\d+)"(?! id=)')
_ANCHOR = re.compile(r'<a href="#ref-\d+" id="cite-(\d+)"')


def inline_citation_ids(source: str) -> Iterator[int]:
    """Publication ids of the inline citations in stored rich text, in reading order.

    Links whose id is not a whole number are skipped: they cite nothing that can be found.
    """
    if "linktype" not in source:
        return
    for match in _A_TAG.finditer(source):
        attrs = dict(_ATTR.findall(match.group(1)))
        if attrs.get("linktype") == LINKTYPE and attrs.get("id", "").isdigit():
            yield int(attrs["id"])


def inline_citations(source: str) -> Iterator[tuple[int, tuple[int, ...]]]:
    """(publication id, passage ids) of each inline citation in stored rich text, in order.

    A citation names the passages it rests on as `passages="31 32"` (evidence.Passage ids);
    ids that are not whole numbers are dropped.
    """
    if "linktype" not in source:
        return
    for match in _A_TAG.finditer(source):
        attrs = dict(_ATTR.findall(match.group(1)))
        if attrs.get("linktype") == LINKTYPE and attrs.get("id", "").isdigit():
            yield int(attrs["id"]), passage_ids(attrs.get("passages", ""))


def passage_ids(value: str) -> tuple[int, ...]:
    """ "31 32" or "31,32" -> (31, 32); anything that is not a whole number is dropped."""
    return tuple(int(part) for part in re.split(r"[\s,]+", value) if part.isdigit())


def placeholder_tag(publication_id: str, href: str) -> str:
    """The opening tag a stored citation expands to before the page numbers it.

    `publication_id` is written only when it is a whole number, and `href` must already be
    escaped: outside an article body (where nothing numbers it) it still links to the source.
    """
    if not publication_id.isdigit():
        return '<a data-cite="">'
    return f'<a data-cite="{publication_id}" href="{href}">'


def citation_marker(number: int) -> str:
    """The superscript that follows cited words: '[2]', linking to reference 2."""
    link = f'<a href="#ref-{number}" aria-label="Reference {number}">{number}</a>'
    return f'<sup class="cite">[{link}]</sup>'


def citation_anchor(number: int) -> str:
    """The id of the first place in the text that cites reference `number`."""
    return f"cite-{number}"


def number_citations(html: str, numbers: Mapping[int, int]) -> str:
    """Rewrite a rendered article body: numbered inline citations, and an id on the first
    link to each reference.

    Args:
        html: the body's HTML, as its blocks render it.
        numbers: publication id -> reference number, as in the page's reference list.
    """

    def cited(match: re.Match[str]) -> str:
        pk, words = match.group(1), match.group(2)
        number = numbers.get(int(pk)) if pk else None
        return words if number is None else words + citation_marker(number)

    if "data-cite=" in html:
        html = _PLACEHOLDER.sub(cited, html)

    anchored = set(_ANCHOR.findall(html))  # already numbered: a second pass changes nothing

    def anchor(match: re.Match[str]) -> str:
        number = match.group(1)
        if number in anchored:
            return match.group(0)
        anchored.add(number)
        return f'{match.group(0)} id="{citation_anchor(int(number))}"'

    return _REFERENCE_LINK.sub(anchor, html)
