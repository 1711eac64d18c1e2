"""URLs around the pages: feeds, sitemap, robots.txt and search (included from the root URLconf)."""

from __future__ import annotations

from django.urls import path
from django.views.generic import TemplateView
from wagtail.contrib.sitemaps.views import sitemap

from evidencepress.evidence.public_views import publication_detail

from .feeds import ArticlesAtomFeed, ArticlesFeed, TopicArticlesAtomFeed, TopicArticlesFeed
from .search import search_view
from .sitemaps import site_sitemaps

urlpatterns = [
    path("feeds/articles.xml", ArticlesFeed(), name="feed_articles_rss"),
    path("feeds/articles.atom", ArticlesAtomFeed(), name="feed_articles_atom"),
    path("feeds/topics/<slug:slug>.xml", TopicArticlesFeed(), name="feed_topic_rss"),
    path("feeds/topics/<slug:slug>.atom", TopicArticlesAtomFeed(), name="feed_topic_atom"),
    path("sitemap.xml", sitemap, {"sitemaps": site_sitemaps()}, name="sitemap"),
    path(
        "robots.txt",
        TemplateView.as_view(template_name="robots.txt", content_type="text/plain"),
        name="robots_txt",
    ),
    path("search/", search_view, name="search"),
    path("evidence/publications/<int:pk>/", publication_detail, name="publication_detail"),
]
