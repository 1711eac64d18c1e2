"""Rendering an article's blocks, with a per-process cache keyed by everything they show.

The blocks of an article are most of the work of serving it (about a dozen block templates, the
case table, the plot). `render_body` keeps the HTML of recently rendered bodies and reuses it
only when nothing it was made from has changed. The key is normally the stored body (its JSON,
compared in full) and the database's content version (`core.content_version`), which triggers
advance on any write to the evidence, the articles, pages, sites, images or documents. When the
version cannot be read (no version row since a flush), the key is instead:

- the stored body itself and the page's topic;
- every publication the body cites, by its `updated_at`;
- every other object chosen in the body (images, clinicians), by all of its column values;

and a body with a rich-text link to another page or document is then not cached (the linked
page's address can change without any of the above changing). In both cases the topic's
evidence report is compared by identity (`evidence.topic_reports.topic_report` returns the very
same computed objects while its inputs are unchanged; the cache holds a reference so that an
identity can never be reused by another object). A body with an embed is never cached, and
nothing is cached while rendering a preview, or inside a database transaction.
"""

from __future__ import annotations

import json
import re
import threading
from collections import OrderedDict
from collections.abc import Hashable
from typing import TYPE_CHECKING, Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection
from django.utils.safestring import SafeString, mark_safe

from evidencepress.core.content_version import current_version

from . import blocks
from .citation_notes import note_maker
from .citations import number_citations

if TYPE_CHECKING:
    from .models import ArticlePage

# Rich-text links to other objects (`<a linktype="page" id="3">`), as they appear in the body's
# JSON text (quotes escaped). External links are stored as plain `<a href>`.
_LINK_TYPE = re.compile(r'linktype=\\*"(\w+)')


class RenderedBodies:
    """Recent article bodies' HTML, least recently used first out; guarded by a lock."""

    def __init__(self, size: int = 64) -> None:
        self.size = size
        self._items: OrderedDict[Hashable, tuple[tuple[Any, ...], str]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable, report_parts: tuple[Any, ...]) -> str | None:
        with self._lock:
            entry = self._items.get(key)
            if entry is None:
                return None
            parts, html = entry
            if len(parts) != len(report_parts) or any(
                a is not b for a, b in zip(parts, report_parts, strict=True)
            ):
                return None
            self._items.move_to_end(key)
            return html

    def put(self, key: Hashable, report_parts: tuple[Any, ...], html: str) -> None:
        with self._lock:
            self._items[key] = (report_parts, html)
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def __len__(self) -> int:
        return len(self._items)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


rendered_bodies = RenderedBodies()


def _report_parts(report: Any) -> tuple[Any, ...]:
    if report is None:
        return ()
    return (report.cases, report.synthesis, report.appraisal, report.certainty, report.gaps)


def body_cache_key(page: ArticlePage) -> Hashable | None:
    """Everything but the report that the body's HTML is made from; None when not cacheable.

    With the database's content version (`core.content_version`: triggers advance it on any
    write to the evidence, the articles, pages, sites, images or documents), the key is that
    version and the body's text: one query, however many objects the body shows. Without it
    (no version row yet) every chosen object is read and compared.
    """
    raw = page._raw_body()
    text = json.dumps(raw, sort_keys=True, cls=DjangoJSONEncoder)
    if "embedtype" in text:
        return None  # an embed's HTML comes from its provider, which no trigger watches
    version = current_version(page._state.db or "default")
    if version is not None:
        return ("content", version, page.pk, page.topic_id, text)
    # Links to other pages or documents show their current address: not cacheable without the
    # version. Citations (linktype "publication") are: their publications are in the key below.
    if any(kind != "publication" for kind in _LINK_TYPE.findall(text)):
        return None
    publications = tuple(
        sorted((pk, str(pub.updated_at)) for pk, pub in page._publications_by_id.items())
    )
    chosen: dict[Any, set[int]] = {}
    for chooser, pk in blocks.raw_chosen_ids(page.body.stream_block, raw):
        if not isinstance(chooser, blocks.PublicationChooserBlock):
            chosen.setdefault(chooser.model_class, set()).add(pk)
    others = tuple(
        (
            model._meta.label,
            tuple(model._default_manager.filter(pk__in=ids).order_by("pk").values_list()),
        )
        for model, ids in sorted(chosen.items(), key=lambda item: item[0]._meta.label)
    )
    return (page.pk, page.topic_id, text, publications, others)


def render_body(page: ArticlePage, context: dict[str, Any]) -> SafeString:
    """The HTML of the page's blocks, as `{% include_block %}` renders each of them."""
    request = context.get("request")
    report_parts = _report_parts(page.evidence_report)
    key = None
    if not getattr(request, "is_preview", False) and not connection.in_atomic_block:
        # Inside a transaction topic_report never reuses a report, and the rows may still be
        # rolled back: render afresh and keep nothing.
        key = body_cache_key(page)
    if key is not None:
        html = rendered_bodies.get(key, report_parts)
        if html is not None:
            return mark_safe(html)  # noqa: S308  # nosemgrep (our own block templates, escaped)
    with blocks.publications_prefetched(page._publications_by_id, page._reviewers_by_id):
        html = "".join(str(block.render_as_block(context=context)) for block in page.body)
    # Inline citations: numbered, each with its "What we read in it" note.
    html = number_citations(html, page.citation_numbers, note_maker(page))
    if key is not None:
        rendered_bodies.put(key, report_parts, html)
    return mark_safe(html)  # noqa: S308  # nosemgrep (our own block templates, escaped)
