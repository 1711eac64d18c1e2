"""RSS 2.0 and Atom 1.0 feeds of published articles, site-wide and per topic.

Built on Django's syndication framework over live, public `ArticlePage`s, newest first. The
URLs end in `.xml`/`.atom` so that the static export (`export_static`) keeps their content type
on any static host.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time
from typing import Any

from django.contrib.syndication.views import Feed
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.feedgenerator import Atom1Feed, Rss201rev2Feed
from django.utils.html import escape, linebreaks

from evidencepress.evidence import notices
from evidencepress.evidence.models import ReportedPatient, Topic

from .blocks import CASE_BLOCKS
from .models import ArticlePage

FEED_SIZE = 30
DEMO_NOTE = f"{notices.DEMO_LABEL}: this article shows invented, illustrative cases."
NOT_ADVICE = notices.NOT_ADVICE_FULL


# Characters XML 1.0 cannot carry. Django's feed writer refuses them (a 500 for the whole feed),
# and an editor can paste one (a form feed or vertical tab from a word processor) into a title.
_NOT_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def xml_text(value: str) -> str:
    """`value` without the control characters XML 1.0 forbids."""
    return _NOT_XML.sub("", value)


def _as_datetime(value: date | datetime | None) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value if timezone.is_aware(value) else timezone.make_aware(value)
    return timezone.make_aware(datetime.combine(value, time(12, 0)))


def published_articles(topic: Topic | None = None) -> Any:
    """Live, public articles, newest first, optionally of one topic."""
    articles = ArticlePage.objects.live().public().select_related("topic")
    if topic is not None:
        articles = articles.filter(topic=topic)
    return articles.order_by("-date", "-pk")


class ArticlesFeed(Feed):
    """Every published article (RSS 2.0)."""

    feed_type = Rss201rev2Feed
    title = "EvidencePress: new and updated articles"
    description = "Plain-language articles built from published case reports. " + NOT_ADVICE

    def link(self) -> str:
        return "/"

    def items(self) -> Any:
        return published_articles()[:FEED_SIZE]

    def item_title(self, item: ArticlePage) -> str:
        return xml_text(item.title)

    def item_description(self, item: ArticlePage) -> str:
        """HTML (RSS descriptions and Atom summaries are HTML that feed readers render): the
        plain-text summary escaped, one paragraph per blank-line-separated part."""
        demo = f"{DEMO_NOTE}\n\n" if self._shows_demo_cases(item) else ""
        return linebreaks(xml_text(f"{item.summary}\n\n{demo}{NOT_ADVICE}"), autoescape=True)

    def _shows_demo_cases(self, item: ArticlePage) -> bool:
        """Does the article show its topic's cases, and are some of them invented?"""
        if item.topic_id is None:
            return False
        if not any(block.block_type in CASE_BLOCKS for block in item.body):
            return False
        return ReportedPatient.objects.filter(topic_id=item.topic_id, is_demo=True).exists()

    def item_link(self, item: ArticlePage) -> str:
        # A path (made absolute with the request's host by the framework) or, with several
        # sites, the page's full URL. The feed object is shared between threads: no request here.
        return item.get_url() or "/"

    def item_guid(self, item: ArticlePage) -> str:
        return item.get_full_url() or str(item.pk)

    def item_pubdate(self, item: ArticlePage) -> datetime | None:
        return _as_datetime(item.date)

    def item_updateddate(self, item: ArticlePage) -> datetime | None:
        return _as_datetime(item.updated or item.date)

    def item_categories(self, item: ArticlePage) -> list[str]:
        return [xml_text(item.topic.name)] if item.topic_id else []


class ArticlesAtomFeed(ArticlesFeed):
    """Every published article (Atom 1.0)."""

    feed_type = Atom1Feed
    subtitle = ArticlesFeed.description


def topic_blurb(topic: Topic) -> str:
    return xml_text(f"New and updated articles on {topic.name}. {NOT_ADVICE}")


class TopicArticlesFeed(ArticlesFeed):
    """The published articles of one topic (RSS 2.0); an unknown topic is a 404."""

    def get_object(self, request: HttpRequest, slug: str) -> Topic:
        return get_object_or_404(Topic, slug=slug)

    def title(self, obj: Topic) -> str:  # type: ignore[override]
        return xml_text(f"EvidencePress: {obj.name}")

    def description(self, obj: Topic) -> str:  # type: ignore[override]
        return escape(topic_blurb(obj))  # RSS readers may render a channel description as HTML

    def items(self, obj: Topic) -> Any:  # type: ignore[override]
        return published_articles(obj)[:FEED_SIZE]


class TopicArticlesAtomFeed(TopicArticlesFeed):
    """The published articles of one topic (Atom 1.0)."""

    feed_type = Atom1Feed

    def subtitle(self, obj: Topic) -> str:
        return topic_blurb(obj)  # Atom: plain text
