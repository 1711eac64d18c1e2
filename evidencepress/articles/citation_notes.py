"""The "What we read in it" note next to each inline citation of an article body.

`note_maker(page)` returns the `citations.NoteMaker` that `rendering.render_body` hands to
`citations.number_citations`: after each numbered citation it writes a disclosure of the
passages the citation names (evidence.Passage: the text, where it was read, whether it is the
authors' own finding or a figure they cite from elsewhere, and whether it records what was not
seen).

The markup is phrasing content only, so it is valid inside a paragraph or a list item (a
`<details>` is not):

    words<span class="cite-group"><sup class="cite">[<a href="#ref-2">2</a>]</sup>
    <button type="button" class="cite-note-toggle" aria-expanded="false"
            aria-controls="cite-note-1" hidden>…What we read in reference 2…</button></span>
    <span class="cite-note" id="cite-note-1" hidden>…the passages…</span>

Both start hidden: without JavaScript the reader has the superscript link to the reference
list, where the same passages are listed. static/js/citation-notes.js shows the buttons and
opens and closes each note (Escape closes it and returns focus to its button).
"""

from __future__ import annotations

from typing import Any

from django.utils.html import format_html, format_html_join

from evidencepress.evidence.models import Passage

from .citations import NoteMaker

_OWN = "the authors' own finding"
_CITED = "second-hand: a figure the authors cite from another study"
_NOT_SEEN = "not seen: this records what was not visible in what we read"


def _passage_html(passage: Passage) -> str:
    kind = _CITED if passage.attribution == Passage.Attribution.CITED else _OWN
    notes = [passage.where, kind] if passage.seen else [passage.where, _NOT_SEEN]
    return format_html(
        '<span class="cite-note-passage{}">“{}” <span class="cite-note-where">({})</span></span>',
        "" if passage.seen else " is-not-seen",
        passage.text,
        "; ".join(notes),
    )


def note_html(
    *, number: int, n: int, passages: list[Passage], is_demo: bool = False
) -> tuple[str, str]:
    """The disclosure button and the note for the `n`-th citation, of reference `number`."""
    note_id = f"cite-note-{n}"
    label = f"What we read in reference {number}"
    if passages:
        body = format_html_join("", "{}", ((_passage_html(p),) for p in passages))
    else:
        body = format_html(
            '<span class="cite-note-passage">{}</span>',
            "This citation names no passage that we read.",
        )
    demo = format_html(' <span class="demo-tag">{}</span>', "demonstration data") if is_demo else ""
    toggle = format_html(
        '<button type="button" class="cite-note-toggle" aria-expanded="false" '
        'aria-controls="{id}" hidden><span class="cite-note-icon" aria-hidden="true">i</span>'
        '<span class="visually-hidden">{label}</span></button>',
        id=note_id,
        label=label,
    )
    note = format_html(
        '<span class="cite-note" id="{id}" hidden>'
        '<span class="cite-note-heading">{label}{demo}</span>{body}'
        '<a class="cite-note-ref" href="#ref-{number}">Reference {number} in the list</a>'
        "</span>",
        id=note_id,
        label=label,
        demo=demo,
        body=body,
        number=number,
    )
    return toggle, note


def note_maker(page: Any) -> NoteMaker:
    """The notes of `page`'s inline citations, from the publications it already read (their
    passages are prefetched with them: no query per citation)."""
    publications = {pub.pk: pub for pub in page.cited_publications()}

    def make(pk: int, number: int, passage_ids: tuple[int, ...], n: int) -> tuple[str, str]:
        publication = publications.get(pk)
        if publication is None:
            return "", ""
        by_id = {passage.pk: passage for passage in publication.passages.all()}
        chosen = [by_id[i] for i in passage_ids if i in by_id]
        return note_html(number=number, n=n, passages=chosen, is_demo=publication.is_demo)

    return make
