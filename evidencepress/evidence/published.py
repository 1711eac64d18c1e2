"""Which topics and pages the public may see (reads that span apps).

A topic is *published* when at least one live, public Wagtail page points at it: a
`articles.TopicPage` or an `articles.ArticlePage` whose `topic` is that topic. The page models
are looked up lazily (the evidence app does not import the articles app), and a page model that
is missing, or has no `topic` field, simply publishes nothing. A topic with no such page is not
published: the public API and the public site never show it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.apps import apps
from django.core.exceptions import FieldDoesNotExist
from django.db.models import Q, QuerySet

from .models import Topic

# (app label, model name) of the page types that publish a topic.
PUBLISHING_PAGES = (("articles", "TopicPage"), ("articles", "ArticlePage"))


def _publishing_page_models() -> list[Any]:
    models = []
    for app_label, model_name in PUBLISHING_PAGES:
        try:
            model = apps.get_model(app_label, model_name)
            model._meta.get_field("topic")
        except (LookupError, FieldDoesNotExist):
            continue
        models.append(model)
    return models


def published_topics() -> QuerySet[Topic]:
    """Topics with at least one live, public page about them, ordered by name."""
    condition = Q(pk__in=[])
    for model in _publishing_page_models():
        pages = model.objects.live().public().filter(topic__isnull=False)
        condition |= Q(pk__in=pages.values("topic_id"))
    return Topic.objects.filter(condition).order_by("name")


def published_topic(slug: str) -> Topic | None:
    """The published topic with this slug, or None (unknown and unpublished look the same)."""
    return published_topics().filter(slug=slug).first()


def published_pages(topic_ids: Iterable[int]) -> list[Any]:
    """Live pages (topic pages, articles) about any of these topics, by title: the pages that a
    change to these topics' evidence feeds."""
    ids = [pk for pk in topic_ids if pk is not None]
    if not ids:
        return []
    pages: list[Any] = []
    for model in _publishing_page_models():
        pages.extend(model.objects.live().filter(topic_id__in=ids).order_by("title"))
    return sorted(pages, key=lambda page: (str(page.title), page.pk))
