"""Template tags for what sits in <head>: JSON-LD (structured_data.py) and Open Graph text."""

from __future__ import annotations

from typing import Any

from django import template
from django.http import HttpRequest
from django.utils.html import format_html, strip_tags
from django.utils.safestring import SafeString
from django.utils.text import Truncator

from evidencepress.articles import structured_data as sd
from evidencepress.core.content_version import VersionedMemo, current_version

register = template.Library()
_json_ld_memo = VersionedMemo(size=256)


def _authors(publication: Any) -> tuple[str, ...]:
    names = []
    for author in publication.authors or ():
        name = author.get("collective_name") or " ".join(
            part
            for part in (author.get("fore_name") or author.get("initials"), author.get("last_name"))
            if part
        )
        if name.strip():
            names.append(name.strip())
    return tuple(names)


def page_facts(page: Any, request: HttpRequest | None) -> sd.PageFacts:
    """What the JSON-LD says about an ArticlePage or TopicPage, read from its fields."""
    reviewer = getattr(page, "reviewed_by", None)
    topic = getattr(page, "topic", None)
    cited = page.cited_publications() if hasattr(page, "cited_publications") else []
    return sd.PageFacts(
        title=page.seo_title or page.title,
        url=page.get_full_url(request=request) or "",
        description=page_description(page),
        date_published=getattr(page, "date", None) or page.first_published_at,
        date_modified=getattr(page, "updated", None) or page.last_published_at,
        last_reviewed=getattr(page, "last_reviewed", None),
        reviewer=sd.Reviewer(reviewer.name, reviewer.credentials) if reviewer else None,
        topic=sd.TopicFacts(topic.name, topic.treatment, topic.condition) if topic else None,
        references=tuple(
            sd.Reference(
                title=publication.title,
                authors=_authors(publication),
                year=publication.year,
                journal=publication.journal,
                pmid=publication.pmid,
                doi=publication.doi,
                is_demo=publication.is_demo,
            )
            for publication in cited
        ),
    )


def page_description(page: Any) -> str:
    """A short plain description: the search description, the summary or the introduction."""
    text = (
        getattr(page, "search_description", "")
        or getattr(page, "summary", "")
        or strip_tags(getattr(page, "introduction", "") or "")
    )
    return Truncator(" ".join(text.split())).chars(300)


@register.simple_tag(takes_context=True)
def page_json_ld(context: template.Context, page: Any) -> SafeString | str:
    """`<script type="application/ld+json">` for a page with a clinical review, else nothing."""
    if page is None or not hasattr(page, "reviewed_by"):
        return ""
    request = context.get("request")
    # The JSON-LD is made from the page, its reviewer, topic and cited publications: kept per
    # content version (a preview's unsaved page is never kept).
    version = (
        None
        if getattr(request, "is_preview", False) or page.pk is None
        else current_version(page._state.db or "default")
    )
    where = (request.scheme, request.get_host()) if request is not None else None
    text = _json_ld_memo.get(
        version,
        (type(page).__name__, page.pk, where),
        lambda: sd.json_ld(sd.medical_web_page(page_facts(page, request))),
    )
    # json_ld escapes <, > and & so the data can never end the element early.
    return format_html('<script type="application/ld+json">{}</script>', SafeString(text))


@register.simple_tag(takes_context=True)
def canonical_url(context: template.Context, page: Any) -> str:
    """The absolute URL of what is shown: the request's path (archive routes are not pages)."""
    request = context.get("request")
    if request is not None:
        return request.build_absolute_uri(request.path)
    if page is None:
        return ""
    return page.get_full_url() or ""


@register.simple_tag
def og_description(page: Any) -> str:
    return page_description(page) if page is not None else ""
