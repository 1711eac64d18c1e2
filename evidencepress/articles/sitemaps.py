"""sitemap.xml: every live, public page (Wagtail's sitemap) and the archive's year/month routes."""

from __future__ import annotations

from typing import Any

from django.contrib.sitemaps import Sitemap as DjangoSitemap
from wagtail.contrib.sitemaps import Sitemap as PageSitemap


class ArchiveRouteSitemap(PageSitemap):
    """`/archive/YYYY/` and `/archive/YYYY/MM/` for each year and month that has articles.

    The archive page's own URL is already in the page sitemap; its routes are not, because they
    are not pages.
    """

    def items(self) -> list[str]:
        from .models import ArchiveIndexPage

        site = self.get_wagtail_site()
        archives = (
            ArchiveIndexPage.objects.live()
            .public()
            .descendant_of(site.root_page, inclusive=True)
            .specific()
        )
        routes: list[str] = []
        for archive in archives:
            parts = archive.get_url_parts(request=self.request)
            if parts is None:
                continue
            base = parts[2]
            months = archive.month_list()
            for year in sorted({month.year for month in months}, reverse=True):
                routes.append(base + archive.reverse_subpage("year_route", args=(year,)))
            for month in months:
                # Two-digit months, as the archive's own links write them (one URL per month).
                route = f"{month.year}/{month.month:02d}/"
                routes.append(base + route)
        return routes

    def location(self, item: Any) -> str:
        return str(item)

    def lastmod(self, item: Any) -> None:
        return None

    def _urls(self, page: Any, protocol: str, domain: str) -> Any:
        # Django's own URL building, not Wagtail's (which asks each item for get_sitemap_urls).
        return DjangoSitemap._urls(self, page, protocol, domain)


def site_sitemaps() -> dict[str, type[PageSitemap]]:
    return {"pages": PageSitemap, "archive": ArchiveRouteSitemap}
