"""Inline citations: reading them from stored rich text, and numbering them in rendered HTML.

Pure: imports nothing from Django or Wagtail. An editor cites a publication inside a sentence
with the rich-text "Citation" feature (articles/rich_text.py), which stores

    <a linktype="publication" id="12">the words the source supports</a>

When a page is shown, Wagtail's rewriter turns the opening tag into a placeholder,
`<a data-cite="12" data-passages="31 32" href="/evidence/publications/12/">` (rich text is
expanded without knowing the page), and `number_citations` then rewrites the whole article body
once:

- each placeholder becomes its words followed by a superscript link to the reference list,
  `words<sup class="cite">[<a href="#ref-2" aria-label="Reference 2">2</a>]</sup>`, numbered
  as the page's reference list is; a citation of a publication that is not in that list (for
  example one deleted since) keeps its words as plain text;
- when the caller gives `note`, the superscript and the note's toggle are kept together in
  `<span class="cite-group">`, followed by the note (the page's "What we read in it"
  disclosure, articles/citation_notes.py);
- the first link to each reference in the body gets `id="cite-N"`, where the reference list's
  "back to text" link points.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping

LINKTYPE = "publication"

_A_TAG = re.compile(r"<a\b([^>]*)>", re.IGNORECASE)
_ATTR = re.compile(r'([\w-]+)="([^"]*)"')
# The placeholder the link handler writes, its words, and the link's end. A citation never
# contains another link (Draftail entities do not nest), so the first </a> closes it.
_PLACEHOLDER = re.compile(
    r'<a data-cite="(\d*)"(?: data-passages="([\d ]*)")?[^>]*>(.*?)</a>', re.DOTALL
)
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


def placeholder_tag(publication_id: str, href: str, passages: str = "") -> str:
    """The opening tag a stored citation expands to before the page numbers it.

    `publication_id` is written only when it is a whole number, `passages` (the stored
    `passages` attribute) only as the whole numbers it names, and `href` must already be
    escaped: outside an article body (where nothing numbers it) it still links to the source.
    """
    if not publication_id.isdigit():
        return '<a data-cite="">'
    ids = " ".join(str(pk) for pk in passage_ids(passages))
    named = f' data-passages="{ids}"' if ids else ""
    return f'<a data-cite="{publication_id}"{named} href="{href}">'


def citation_marker(number: int) -> str:
    """The superscript that follows cited words: '[2]', linking to reference 2."""
    link = f'<a href="#ref-{number}" aria-label="Reference {number}">{number}</a>'
    return f'<sup class="cite">[{link}]</sup>'


def citation_anchor(number: int) -> str:
    """The id of the first place in the text that cites reference `number`."""
    return f"cite-{number}"


# note(publication id, reference number, passage ids, n) -> (toggle, note): HTML for the n-th
# numbered citation of the body (n counts from 1, so an id made from it is unique on the page).
# The toggle is kept on one line with the superscript; the note follows them.
NoteMaker = Callable[[int, int, tuple[int, ...], int], tuple[str, str]]


def number_citations(html: str, numbers: Mapping[int, int], note: NoteMaker | None = None) -> str:
    """Rewrite a rendered article body: numbered inline citations, and an id on the first
    link to each reference.

    Args:
        html: the body's HTML, as its blocks render it.
        numbers: publication id -> reference number, as in the page's reference list.
        note: what to show next to each numbered citation (see `NoteMaker`), or nothing.
    """
    counter = iter(range(1, 1_000_000))

    def cited(match: re.Match[str]) -> str:
        pk, named, words = match.group(1), match.group(2) or "", match.group(3)
        number = numbers.get(int(pk)) if pk else None
        if number is None:
            return words
        if note is None:
            return words + citation_marker(number)
        toggle, text = note(int(pk), number, passage_ids(named), next(counter))
        if not toggle:
            return words + citation_marker(number) + text
        return f'{words}<span class="cite-group">{citation_marker(number)}{toggle}</span>{text}'

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
