"""Rendering an article's blocks, with a per-process cache keyed by everything they show.

The blocks of an article are most of the work of serving it (about a dozen block templates, the
case table, the plot). `render_body` keeps the HTML of recently rendered bodies and reuses it
only when nothing it was made from has changed:

- the stored body itself (its JSON, compared in full) and the page's topic;
- the topic's evidence report: `evidence.selection.topic_report` returns the very same computed
  objects (cases, synthesis, appraisal, certainty, gaps) only while every case, treatment,
  adverse event, appraisal and editors' question is unchanged, so the cache compares them by
  identity, holding a reference so that an identity can never be reused by another object;
- every publication the body cites, by its `updated_at`;
- every other object chosen in the body (images, clinicians), by all of its column values.

A body with a rich-text link to another page or document, or an embed, is never cached: the
linked page's address can change without any of the above changing. Nothing is cached while
rendering a preview, or inside a database transaction (the report is then never reused).
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Hashable
from typing import TYPE_CHECKING, Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection
from django.utils.safestring import SafeString, mark_safe

from . import blocks

if TYPE_CHECKING:
    from .models import ArticlePage

# Markers of rich-text content whose HTML depends on other objects' current addresses.
# (External links are stored as plain `<a href>`; internal ones and embeds carry these.)
_UNCACHEABLE_MARKERS = ("linktype", "embedtype")


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
    """Everything but the report that the body's HTML is made from; None when not cacheable."""
    raw = page._raw_body()
    text = json.dumps(raw, sort_keys=True, cls=DjangoJSONEncoder)
    if any(marker in text for marker in _UNCACHEABLE_MARKERS):
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
    if key is not None:
        rendered_bodies.put(key, report_parts, html)
    return mark_safe(html)  # noqa: S308  # nosemgrep (our own block templates, escaped)
